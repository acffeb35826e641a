// SPDX-License-Identifier: Apache-2.0
// What --metrics-addr costs per event: the whole userspace pipeline (decode
// -> enrich -> filter -> JSON to /dev/null) for a sysctl_read record, with
// metrics off, and on (counting sink + the HTTP server running + a client
// scraping /metrics every 100 ms, 150x Prometheus' default rate), and on with
// --metrics-label-filter container,pod,namespace. The conditions alternate in
// blocks within one run (off on labels off on labels ...); the figure is the
// pipeline thread's CPU time per event (CLOCK_THREAD_CPUTIME_ID: the scraper
// and the server run on other threads), medians over the blocks, and the
// ratio of the medians. Exit status 1 when metrics on costs more than 2%.
//
//   ./build/bench/metrics_bench [blocks [events_per_block]]
#include <fcntl.h>
#include <httplib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "metrics/counting_sink.hpp"
#include "output/output.hpp"
#include "metrics/metrics.hpp"
#include "metrics/server.hpp"
#include "pipeline/pipeline.hpp"
#include "records.hpp"

using namespace sysctlscope;

namespace {
class PodEnricher final : public Enricher {
 public:
  void enrich(Event& e) override {
    e.cgroup_path = "/kubepods/pod1/abc";
    e.container = info_;
  }
  ContainerInfo info_{"0123456789abcdef", Runtime::Containerd, "web", "web-0", "shop", "uid-1"};
};

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

enum Cond { Off, On, Labels };

// ns of pipeline-thread CPU per event for one block.
double block(Cond c, const ss_sysctl_event& r, size_t n, int devnull) {
  auto out = make_output(Format::Json, devnull);
  PodEnricher enr;
  std::unique_ptr<metrics::Metrics> m;
  std::unique_ptr<metrics::CountingSink> counting;
  std::unique_ptr<metrics::Server> srv;
  std::atomic<bool> stop{false};
  std::thread scraper;
  if (c != Off) {
    m = std::make_unique<metrics::Metrics>(
        c == Labels ? metrics::parse_label_filter("container,pod,namespace") : metrics::LabelFilter{});
    counting = std::make_unique<metrics::CountingSink>(*out, *m);
    srv = std::make_unique<metrics::Server>(metrics::parse_endpoint("127.0.0.1:0"), *m);
    srv->set_healthy(true);
    scraper = std::thread([&stop, port = srv->port()] {
      httplib::Client cl("127.0.0.1", port);
      while (!stop.load()) {
        auto res = cl.Get("/metrics");
        if (!res || res->status != 200) std::abort();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  Sink& sink = counting ? static_cast<Sink&>(*counting) : *out;
  Pipeline p(Filter{}, &enr, sink, false);
  const double t0 = thread_cpu_ns();
  for (size_t i = 0; i < n; ++i) {
    p.on_record(&r, r.hdr.size);
    // The live loop's tick: every 50 ms there, here every 4096 events.
    if (m && (i & 4095) == 0) m->publish();
  }
  sink.flush();
  const double per = (thread_cpu_ns() - t0) / static_cast<double>(n);
  stop = true;
  if (scraper.joinable()) scraper.join();
  return per;
}
}  // namespace

int main(int argc, char** argv) {
  const int blocks = argc > 1 ? std::atoi(argv[1]) : 15;
  const size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;
  ss_sysctl_event r = sstest::sysctl_record(false, "net/ipv4/tcp_keepalive_time", "7200\n");
  r.hdr.task = {123456789, 1, 4242, 4242, 1, 0, 4026531840u, 4026531841u, "loadgen"};
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  block(Off, r, n / 4, devnull);  // warm-up
  std::vector<double> off, on, lab;
  for (int b = 0; b < blocks; ++b) {
    off.push_back(block(Off, r, n, devnull));
    on.push_back(block(On, r, n, devnull));
    lab.push_back(block(Labels, r, n, devnull));
  }
  const double mo = median(off), mn = median(on), ml = median(lab);
  std::printf("metrics_bench: %d blocks x %zu sysctl_read events, pipeline-thread CPU per event\n",
              blocks, n);
  std::printf("  metrics off            %7.1f ns\n", mo);
  std::printf("  metrics on             %7.1f ns  (%.3fx)\n", mn, mn / mo);
  std::printf("  on + container labels  %7.1f ns  (%.3fx)\n", ml, ml / mo);
  ::close(devnull);
  return mn / mo <= 1.02 ? 0 : 1;
}
