// SPDX-License-Identifier: Apache-2.0
#include "session/session.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>

#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/path.hpp"
#include "session/stages.hpp"

namespace sysctlscope::session {

namespace {
// The drain interval bounds the delivery latency of a lone event (records
// are submitted without wakeups): 50 ms keeps it well under 100 ms.
constexpr int kPollMs = 50;

// Destroys the stages last to first, whatever way run() ends: a later
// stage may use an earlier one's resources (the exporter's counters on
// /metrics).
struct StageList {
  std::vector<std::unique_ptr<Stage>> v;
  ~StageList() {
    while (!v.empty()) v.pop_back();
  }
};
}  // namespace

std::string cgroup_dir_of(const std::string& root, const std::string& arg) {
  // An absolute path already below the mount is taken as is; anything else
  // (including "/sys/fs/cgroup2/x" when the mount is /sys/fs/cgroup) is a
  // path below the mount.
  if (arg.front() == '/' && path_under(arg, root)) return arg;
  return root + (arg.front() == '/' ? "" : "/") + arg;
}

Session::Session(Options opt, Sink& out) : opt_(std::move(opt)), out_(out) {
  // Output wrappers first: metrics counts what reaches the output, and the
  // exporter tees the same events.
  if (opt_.metrics) stages_.push_back(metrics_stage());
  if (opt_.otlp) stages_.push_back(otlp_stage());
  stages_.push_back(containers_stage());
  if (opt_.policy) stages_.push_back(policy_stage());
  if (opt_.detector) stages_.push_back(detect_stage());
  if (opt_.write_results == WriteResultMode::Readback) stages_.push_back(readback_stage());
  stages_.push_back(births_stage());
}

Session::~Session() = default;

std::vector<std::string> Session::stage_names() const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.emplace_back(s->name());
  return names;
}

PipelineStats Session::run(const std::function<bool()>& stop_requested) {
  route_libbpf_logs();
  check_privileges();
  auto probe = make_kernel_probe(opt_.btf_file);
  require_core_features(*probe);
  Context ctx{opt_, *probe, &out_};
  // Destroyed in this order: the stages, the tracer, the pipeline.
  std::unique_ptr<Pipeline> pipe;
  std::unique_ptr<Tracer> tracer;
  StageList stages{std::move(stages_)};
  spdlog::debug("session stages: {}", [&] {
    std::string s;
    for (const auto& st : stages.v) s += (s.empty() ? "" : ",") + std::string(st->name());
    return s;
  }());

  for (auto& st : stages.v) st->open(ctx);
  Sink& sink = *ctx.output;
  adopt_host_namespaces();

  TracerConfig cfg;
  // Read-back results need no write-syscall exits (docs/events.md, result).
  cfg.type_mask = kernel_type_mask(
      opt_.filter, {opt_.write_results, opt_.policy != nullptr, opt_.detector != nullptr});
  cfg.pid = opt_.filter.pid.value_or(0);
  cfg.ringbuf_bytes = opt_.ringbuf_bytes;
  cfg.btf_file = opt_.btf_file;
  cfg.cgroup_root = find_or_mount_cgroup2();
  if (!opt_.cgroup.empty()) {
    std::string p = cgroup_dir_of(cfg.cgroup_root, opt_.cgroup);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) throw UsageError("--cgroup: no such cgroup: " + opt_.cgroup);
    cfg.cgroup_id = st.st_ino;
    cfg.cgroup_level = static_cast<uint32_t>(path_level(p.substr(cfg.cgroup_root.size())));
  }
  ensure_tracefs();
  ctx.cgroup_root = cfg.cgroup_root;
  for (auto& st : stages.v) st->configure(ctx, cfg);

  tracer = std::make_unique<Tracer>(cfg, *probe);
  ctx.tracer = tracer.get();
  for (const auto& s : tracer->plan().skip) spdlog::debug("not loading {}", s);
  PipelineConfig pc;
  pc.filter = opt_.filter;
  pc.join_writes = tracer->plan().joins_writes;
  pc.writer_exits = tracer->plan().writer_exits;
  pc.limit = opt_.count;
  for (auto& st : stages.v) st->start(ctx, pc);
  pipe = std::make_unique<Pipeline>(std::move(pc), sink);
  tracer->set_callback([p = pipe.get()](const void* d, size_t n) { p->on_record(d, n); });
  tracer->attach();
  ctx.pipeline = pipe.get();
  for (auto& st : stages.v) st->attached(ctx);
  // bcc convention: scripts wait for this line on stderr.
  std::fprintf(stderr, "Tracing sysctl activity (cgroup2 at %s)... Hit Ctrl-C to end.\n",
               cfg.cgroup_root.c_str());
  std::fflush(stderr);
  for (auto& st : stages.v) st->ready(ctx);

  const uint64_t start = mono_ns();
  const uint64_t deadline =
      opt_.duration_s > 0 ? start + static_cast<uint64_t>(std::llround(opt_.duration_s * 1e9)) : 0;
  while (!stop_requested() && !pipe->done() && !sink.closed()) {
    tracer->poll(kPollMs);
    pipe->expire_writes(boot_ns(), false);
    pipe->on_lost_total(tracer->lost_total(), epoch_ns());
    sink.flush();
    for (auto& st : stages.v) st->tick(ctx, pipe->stats());
    if (deadline && mono_ns() >= deadline) break;
  }
  // Drain what is already in the ring, then release held writes.
  if (!pipe->done() && !sink.closed()) tracer->poll(0);
  pipe->expire_writes(boot_ns(), true);
  pipe->on_lost_total(tracer->lost_total(), epoch_ns());
  sink.flush();
  for (auto it = stages.v.rbegin(); it != stages.v.rend(); ++it) (*it)->stop(ctx);
  spdlog::debug("{} records from the kernel", pipe->stats().records);
  return pipe->stats();
}

}  // namespace sysctlscope::session
