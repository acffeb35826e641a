// SPDX-License-Identifier: Apache-2.0
#include "cli/live.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include <cmath>
#include <cstdio>

#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/path.hpp"
#include "metrics/counting_sink.hpp"
#include "netns/births.hpp"
#include "policy/audit.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope::cli {

namespace {

// The drain interval bounds the delivery latency of a lone event (records
// are submitted without wakeups): 50 ms keeps it well under 100 ms.
constexpr int kPollMs = 50;
}  // namespace

uint64_t parse_size(const std::string& s, const char* what) {
  if (s.empty()) throw UsageError(std::string(what) + ": empty size");
  size_t pos = 0;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) throw UsageError(std::string(what) + ": size too large: " + s);
    v = v * 10 + static_cast<uint64_t>(s[pos++] - '0');
  }
  if (pos == 0) throw UsageError(std::string(what) + ": not a size: '" + s + "'");
  std::string unit = s.substr(pos);
  uint64_t mul = 1;
  if (unit.empty() || unit == "B")
    mul = 1;
  else if (unit == "k" || unit == "K" || unit == "KiB")
    mul = 1ull << 10;
  else if (unit == "M" || unit == "MiB")
    mul = 1ull << 20;
  else if (unit == "G" || unit == "GiB")
    mul = 1ull << 30;
  else
    throw UsageError(std::string(what) + ": unknown size unit '" + unit + "' (use k, M or G)");
  return v * mul;
}

uint32_t parse_ringbuf_size(const std::string& s) {
  uint64_t rb = parse_size(s, "--ringbuf-size");
  // >= 64k: a netns_create record with its birth snapshot is 19.4 KiB.
  if (rb < 65536 || (rb & (rb - 1)) || rb > (1ull << 30))
    throw UsageError("--ringbuf-size must be a power of two between 64k and 1G");
  return static_cast<uint32_t>(rb);
}

std::string cgroup_dir_of(const std::string& root, const std::string& arg) {
  // An absolute path already below the mount is taken as is; anything else
  // (including "/sys/fs/cgroup2/x" when the mount is /sys/fs/cgroup) is a
  // path below the mount.
  if (arg.front() == '/' && path_under(arg, root)) return arg;
  return root + (arg.front() == '/' ? "" : "/") + arg;
}

void MetricsArgs::add_to(CLI::App* app) {
  app->add_option("--metrics-addr", addr,
                  "Serve Prometheus metrics on HOST:PORT (/metrics, and /healthz: 200 while "
                  "attached); docs/metrics.md");
  app->add_option("--metrics-label-filter", labels,
                  "Container labels on sysctlscope_events_total, comma separated: container, pod, "
                  "namespace (default none: bounded cardinality)");
}

void MetricsArgs::apply(LiveOptions& opt) const {
  if (!addr.empty()) opt.metrics = metrics::parse_endpoint(addr);
  opt.metrics_labels = metrics::parse_label_filter(labels);
  if (opt.metrics_labels.any() && !opt.metrics)
    throw UsageError("--metrics-label-filter needs --metrics-addr");
}

void OtlpArgs::add_to(CLI::App* app) {
  app->add_option("--otlp-endpoint", endpoint,
                  "Also send every event as an OpenTelemetry log record to this OTLP/HTTP "
                  "endpoint (http://HOST:4318; /v1/logs is appended unless given); docs/otlp.md");
  app->add_option("--otlp-protocol", protocol,
                  "OTLP encoding: http/protobuf (default) or http/json");
}

void OtlpArgs::apply(LiveOptions& opt) const {
  auto proto = exporter::parse_otlp_protocol(protocol);
  if (!proto)
    throw UsageError("--otlp-protocol must be http/protobuf or http/json, not '" + protocol + "'");
  if (endpoint.empty()) {
    if (protocol != "http/protobuf") throw UsageError("--otlp-protocol needs --otlp-endpoint");
    return;
  }
  auto url = exporter::parse_otlp_endpoint(endpoint);
  if (!url) throw UsageError(std::string(url.error().what()));
  exporter::OtlpConfig cfg;
  cfg.url = std::move(*url);
  cfg.protocol = *proto;
  cfg.resource = exporter::default_resource();
  opt.otlp = std::move(cfg);
}

namespace {
// kernel_caps() words each lack as "ability (cost)": the ability alone.
std::string missing_features(const KernelCaps& caps) {
  std::string out;
  for (const auto& l : caps.lacks) {
    if (!out.empty()) out += ',';
    out += l.substr(0, l.find(" ("));
  }
  return out;
}
}  // namespace

WriteResultMode parse_write_results(const std::string& s) {
  if (auto m = parse_name<WriteResultMode>(s)) return *m;
  throw UsageError("--write-results must be readback or syscall, not '" + s + "'");
}

PipelineStats run_live(const LiveOptions& opt, Sink& out, const TickFn& tick) {
  route_libbpf_logs();
  check_privileges();
  auto probe = make_kernel_probe(opt.btf_file);
  require_core_features(*probe);
  // Metrics: the server answers /healthz with 503 from here until attached,
  // and counts exactly what reaches the output.
  std::unique_ptr<metrics::Metrics> counters;
  std::unique_ptr<metrics::Server> server;
  std::unique_ptr<metrics::CountingSink> counting;
  if (opt.metrics) {
    counters = std::make_unique<metrics::Metrics>(opt.metrics_labels);
    struct utsname u {};
    ::uname(&u);
    counters->set_build_info(u.release, missing_features(kernel_caps(*probe)));
    counters->set_ringbuf_bytes(opt.ringbuf_bytes);
    server = std::make_unique<metrics::Server>(*opt.metrics, *counters);
    counting = std::make_unique<metrics::CountingSink>(out, *counters);
  }
  Sink* chain = counting ? static_cast<Sink*>(counting.get()) : &out;
  // OTLP export: what the output prints, sent by the exporter's own thread.
  std::unique_ptr<exporter::OtlpExporter> otlp;
  std::unique_ptr<exporter::OtlpSink> otlp_sink;
  if (opt.otlp) {
    otlp = std::make_unique<exporter::OtlpExporter>(*opt.otlp);
    otlp_sink = std::make_unique<exporter::OtlpSink>(*chain, *otlp);
    chain = otlp_sink.get();
    if (counters) counters->set_extra([ex = otlp.get()] { return ex->counters(); });
  }
  // Whatever way run_live ends, the exporter's counters leave /metrics
  // before it goes, and its summary reaches stderr.
  struct OtlpScope {
    metrics::Metrics* m;
    exporter::OtlpExporter* ex;
    ~OtlpScope() {
      if (!ex) return;
      ex->shutdown();
      std::fprintf(stderr, "%s\n", ex->summary().c_str());
      if (m) m->set_extra({});
    }
  } otlp_scope{counters.get(), otlp.get()};
  Sink& sink = *chain;
  adopt_host_namespaces();

  TracerConfig cfg;
  // Read-back results need no write-syscall exits (docs/events.md, result).
  cfg.type_mask = kernel_type_mask(
      opt.filter, {opt.write_results, opt.policy != nullptr, opt.detector != nullptr});
  cfg.pid = opt.filter.pid.value_or(0);
  cfg.ringbuf_bytes = opt.ringbuf_bytes;
  cfg.btf_file = opt.btf_file;
  cfg.cgroup_root = find_or_mount_cgroup2();
  if (!opt.cgroup.empty()) {
    std::string p = cgroup_dir_of(cfg.cgroup_root, opt.cgroup);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) throw UsageError("--cgroup: no such cgroup: " + opt.cgroup);
    cfg.cgroup_id = st.st_ino;
    cfg.cgroup_level = static_cast<uint32_t>(path_level(p.substr(cfg.cgroup_root.size())));
  }
  ensure_tracefs();

  EnricherConfig ecfg;
  ecfg.cgroup_root = cfg.cgroup_root;
  auto enricher = std::make_unique<ContainerEnricher>(ecfg);
  // Containers older than the tracer: their netns owners from the runtimes'
  // state, so reach-ins into them are attributed from the first event.
  enricher->seed_from_runtimes();
  if (!opt.filter.containers.empty()) {
    // --container in the kernel when it is exact (running containers by id):
    // their cgroup subtrees and netns. The user-side filter still applies.
    std::string why;
    if (auto kf = enricher->kernel_filter_for(opt.filter.containers,
                                              TracerConfig::kMaxKernelContainers, &why)) {
      cfg.container_cgroups = kf->cgroups;
      cfg.container_netns = kf->netns;
      spdlog::debug("--container in the kernel: {} cgroup subtree(s), {} netns", kf->cgroups.size(),
                    kf->netns.size());
    } else {
      // Too many matches is worth saying without -v: the kernel then sends
      // every record to userspace, which costs what the filter should save.
      if (why.rfind("more than ", 0) == 0)
        spdlog::warn("--container filtered in userspace only: {}", why);
      else
        spdlog::debug("--container in userspace only: {}", why);
    }
  }
  if (opt.policy && opt.enforce_mode != SS_ENFORCE_OFF) {
    // Globs expanded now, to the names each namespace has (docs/policy.md).
    cfg.enforce_mode = opt.enforce_mode;
    for (const auto& b : policy::bind_now(*opt.policy)) {
      if (b.missing) continue;
      cfg.enforce.push_back({policy::enforce_ns(b), dotted_to_slash(b.sysctl), b.rule->norm});
    }
    spdlog::info("--enforce{}: {} sysctl(s) in the kernel map",
                 opt.enforce_mode == SS_ENFORCE_DRY_RUN ? " --dry-run" : "", cfg.enforce.size());
  }
  Tracer tracer(cfg, *probe);
  // Program statistics are read by scrapes while the tracer lives.
  struct ProgStatsScope {
    metrics::Metrics* m;
    ~ProgStatsScope() {
      if (m) m->clear_prog_stats();
    }
  } prog_stats_scope{counters.get()};
  if (counters) {
    counters->set_prog_stats([&tracer] {
      std::vector<metrics::ProgStat> v;
      for (auto& p : tracer.prog_stats())
        v.push_back({std::move(p.name), p.run_cnt, p.run_time_ns});
      return v;
    });
  }
  for (const auto& s : tracer.plan().skip) spdlog::debug("not loading {}", s);
  Pipeline pipe(opt.filter, enricher.get(), sink, tracer.plan().joins_writes);
  ProcValueSource readback;
  if (opt.write_results == WriteResultMode::Readback) pipe.set_readback(&readback);
  pipe.set_writer_exits(tracer.plan().writer_exits);
  pipe.set_limit(opt.count);
  std::unique_ptr<policy::Monitor> monitor;
  if (opt.policy) {
    monitor = std::make_unique<policy::Monitor>(
        *opt.policy, enricher->host_netns(), [&tracer](const policy::Binding& b) {
          // A namespace born after start: its governed sysctls join the map.
          tracer.add_enforced({policy::enforce_ns(b), dotted_to_slash(b.sysctl), b.rule->norm});
        });
    pipe.set_policy(monitor.get());
    if (opt.enforce_mode != SS_ENFORCE_OFF)
      pipe.set_on_new_generation([&tracer](NetnsId born) {
        // A reused inode: the dead namespace's rules are not the new one's
        // (the Monitor adds the new one's at its birth).
        if (size_t n = tracer.forget_enforced(born.inode))
          spdlog::debug("--enforce: {} entries of a dead netns {} dropped", n, born.inode);
      });
  }
  if (opt.detector)
    pipe.set_detector([d = opt.detector](const Event& e) { return d->match(e); });
  tracer.set_callback([&](const void* d, size_t n) { pipe.on_record(d, n); });
  tracer.attach();
  // Birth snapshots: calibrate the decoder on a throwaway netns of our own
  // (see netns/snapshot.hpp), before announcing that we are tracing.
  std::unique_ptr<netns::Births> births;
  if (tracer.plan().snapshots_netns) {
    births = std::make_unique<netns::Births>(std::make_unique<netns::SnapshotDecoder>());
    auto fresh = netns::probe_fresh_netns(opt.btf_file);
    if (!fresh) throw fresh.error();
    births->expect_calibration(std::move(*fresh));
    pipe.set_births(births.get());
    // The probe child has exited: its netns record and its ~600 reads are all
    // in the ring. Drain them (and anything else from before the "Tracing"
    // line) without reporting: the tool's own activity is not an event.
    pipe.set_discarding(true);
    const uint64_t give_up = mono_ns() + 5'000'000'000ull;
    while (!births->calibrated() && mono_ns() < give_up) tracer.poll(10);
    while (tracer.poll(0) > 0) {
    }
    pipe.set_discarding(false);
    if (!births->calibrated())
      throw Error("calibrate netns snapshots", "throwaway netns", ETIMEDOUT,
                  "its netns_create record never arrived (ring buffer too small?)");
    spdlog::debug("netns snapshots: HZ={}", births->decoder().hz());
  }
  // bcc convention: scripts wait for this line on stderr.
  std::fprintf(stderr, "Tracing sysctl activity (cgroup2 at %s)... Hit Ctrl-C to end.\n",
               cfg.cgroup_root.c_str());
  std::fflush(stderr);
  if (server) server->set_healthy(true);

  const uint64_t start = mono_ns();
  const uint64_t deadline =
      opt.duration_s > 0 ? start + static_cast<uint64_t>(std::llround(opt.duration_s * 1e9)) : 0;
  while (!stop_requested() && !pipe.done() && !sink.closed()) {
    tracer.poll(kPollMs);
    pipe.expire_writes(boot_ns(), false);
    pipe.on_lost_total(tracer.lost_total(), epoch_ns());
    sink.flush();
    if (tick) tick(pipe.stats());
    if (counters) {
      counters->set_containers_known(enricher->known_containers());
      counters->publish();
    }
    if (deadline && mono_ns() >= deadline) break;
  }
  // Drain what is already in the ring, then release held writes.
  if (!pipe.done() && !sink.closed()) tracer.poll(0);
  pipe.expire_writes(boot_ns(), true);
  pipe.on_lost_total(tracer.lost_total(), epoch_ns());
  sink.flush();
  // Deliver what is queued (bounded by the shutdown budget) while /metrics
  // still answers, so the final counts can be scraped.
  if (otlp) otlp->shutdown();
  if (server) server->set_healthy(false);
  if (counters) counters->publish(true);
  spdlog::debug("{} records from the kernel", pipe.stats().records);
  return pipe.stats();
}

}  // namespace sysctlscope::cli
