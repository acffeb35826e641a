// SPDX-License-Identifier: Apache-2.0
// Userspace per-event cost: decode, JSON, table row, and the whole pipeline
// (decode -> enrich -> filter -> JSON sink to /dev/null) for sysctl_read.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/types.h>
#include <unistd.h>

#include <cstring>

#include "export/otlp.hpp"
#include "model/decode.hpp"
#include "output/output.hpp"
#include "pipeline/pipeline.hpp"
#include "sysctlscope/event.h"
#include "records.hpp"

using namespace sysctlscope;

namespace {
ss_sysctl_event make_read() {
  ss_sysctl_event r = sstest::sysctl_record(false, "net/ipv4/tcp_keepalive_time", "7200\n");
  r.hdr.task = {123456789, 1, 4242, 4242, 1, 0, 4026531840u, 4026531841u, "loadgen"};
  return r;
}

class NullEnricher final : public Enricher {
 public:
  void enrich(Event& e) override { e.cgroup_path = "/"; }
};
}  // namespace

static void BM_Decode(benchmark::State& st) {
  auto r = make_read();
  Decoder d{BootClock(0)};
  for (auto _ : st) benchmark::DoNotOptimize(d.decode(&r, r.hdr.size));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Decode);

static void BM_Json(benchmark::State& st) {
  auto r = make_read();
  Event e = std::get<Event>(*Decoder{BootClock(0)}.decode(&r, r.hdr.size));
  std::string out;
  for (auto _ : st) {
    out.clear();
    append_event_json(out, e);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_Json);

static void BM_TableRow(benchmark::State& st) {
  auto r = make_read();
  Event e = std::get<Event>(*Decoder{BootClock(0)}.decode(&r, r.hdr.size));
  std::string out;
  for (auto _ : st) {
    out.clear();
    append_event_row(out, e);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_TableRow);

static void BM_PipelineToDevNull(benchmark::State& st) {
  auto r = make_read();
  int fd = ::open("/dev/null", O_WRONLY);
  auto sink = make_output(Format::Json, fd);
  NullEnricher enr;
  Pipeline p(Filter{}, &enr, *sink, false);
  for (auto _ : st) p.on_record(&r, r.hdr.size);
  sink->flush();
  ::close(fd);
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_PipelineToDevNull);

// One OTLP request of 512 sysctl_read records (the exporter's batch), per
// record: attributes, severity and body, in each protocol.
static void BM_OtlpEncode(benchmark::State& st) {
  auto r = make_read();
  Event e = std::get<Event>(*Decoder{BootClock(0)}.decode(&r, r.hdr.size));
  e.cgroup_path = "/system.slice/docker-0123456789abcdef.scope";
  std::vector<exporter::LogItem> batch(512, exporter::make_log_item(e));
  exporter::Attributes res{{"service.name", "sysctlscope"}, {"host.name", "node-1"}};
  auto proto = st.range(0) ? exporter::OtlpProtocol::Json : exporter::OtlpProtocol::Protobuf;
  for (auto _ : st) benchmark::DoNotOptimize(exporter::encode_logs(res, batch, proto, 1));
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(batch.size()));
}
BENCHMARK(BM_OtlpEncode)->Arg(0)->Arg(1);

// What the pipeline thread pays per exported event: the JSON body and the
// attributes, made from the Event.
static void BM_OtlpMakeItem(benchmark::State& st) {
  auto r = make_read();
  Event e = std::get<Event>(*Decoder{BootClock(0)}.decode(&r, r.hdr.size));
  e.cgroup_path = "/system.slice/docker-0123456789abcdef.scope";
  for (auto _ : st) benchmark::DoNotOptimize(exporter::make_log_item(e));
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_OtlpMakeItem);

BENCHMARK_MAIN();
