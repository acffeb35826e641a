// SPDX-License-Identifier: Apache-2.0
#include "session/stages.hpp"

#include <spdlog/spdlog.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>

#include "bpf/tracer.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "enrich/enricher.hpp"
#include "metrics/counting_sink.hpp"
#include "netns/births.hpp"
#include "pipeline/readback.hpp"
#include "policy/audit.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope::session {

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

class MetricsStage final : public Stage {
 public:
  const char* name() const override { return "metrics"; }
  ~MetricsStage() override {
    // Program statistics are read by scrapes while the tracer lives.
    if (counters_) counters_->clear_prog_stats();
  }
  void open(Context& ctx) override {
    // The server answers /healthz with 503 from here until attached, and
    // counts exactly what reaches the output.
    counters_ = std::make_unique<metrics::Metrics>(ctx.opt.metrics_labels);
    struct utsname u {};
    ::uname(&u);
    counters_->set_build_info(u.release, missing_features(kernel_caps(ctx.probe)));
    counters_->set_ringbuf_bytes(ctx.opt.ringbuf_bytes);
    server_ = std::make_unique<metrics::Server>(*ctx.opt.metrics, *counters_);
    counting_ = std::make_unique<metrics::CountingSink>(*ctx.output, *counters_);
    ctx.output = counting_.get();
    ctx.metrics = counters_.get();
  }
  void start(Context& ctx, PipelineConfig&) override {
    counters_->set_prog_stats([t = ctx.tracer] {
      std::vector<metrics::ProgStat> v;
      for (auto& p : t->prog_stats()) v.push_back({std::move(p.name), p.run_cnt, p.run_time_ns});
      return v;
    });
  }
  void ready(Context&) override { server_->set_healthy(true); }
  void tick(Context& ctx, const PipelineStats&) override {
    counters_->set_containers_known(ctx.enricher->known_containers());
    counters_->publish();
  }
  void stop(Context&) override {
    // The final counts can still be scraped.
    server_->set_healthy(false);
    counters_->publish(true);
  }

 private:
  // Declared in the order they depend on each other: the server reads the
  // counters until it is destroyed.
  std::unique_ptr<metrics::Metrics> counters_;
  std::unique_ptr<metrics::Server> server_;
  std::unique_ptr<metrics::CountingSink> counting_;
};

class OtlpStage final : public Stage {
 public:
  const char* name() const override { return "otlp"; }
  ~OtlpStage() override {
    // Whatever way the session ends, the exporter's counters leave /metrics
    // before it goes, and its summary reaches stderr.
    if (!exporter_) return;
    exporter_->shutdown();
    std::fprintf(stderr, "%s\n", exporter_->summary().c_str());
    if (metrics_) metrics_->set_extra({});
  }
  void open(Context& ctx) override {
    exporter_ = std::make_unique<exporter::OtlpExporter>(*ctx.opt.otlp);
    sink_ = std::make_unique<exporter::OtlpSink>(*ctx.output, *exporter_);
    ctx.output = sink_.get();
    metrics_ = ctx.metrics;
    if (metrics_) metrics_->set_extra([ex = exporter_.get()] { return ex->counters(); });
  }
  // Delivers what is queued (bounded by the shutdown budget) while /metrics
  // still answers (the metrics stage stops after this one).
  void stop(Context&) override { exporter_->shutdown(); }

 private:
  std::unique_ptr<exporter::OtlpExporter> exporter_;
  std::unique_ptr<exporter::OtlpSink> sink_;
  metrics::Metrics* metrics_ = nullptr;
};

class ContainersStage final : public Stage {
 public:
  const char* name() const override { return "containers"; }
  void configure(Context& ctx, TracerConfig& cfg) override {
    EnricherConfig ecfg;
    ecfg.cgroup_root = ctx.cgroup_root;
    enricher_ = std::make_unique<ContainerEnricher>(ecfg);
    ctx.enricher = enricher_.get();
    // Containers older than the tracer: their netns owners from the
    // runtimes' state, so reach-ins into them are attributed from the first
    // event.
    enricher_->seed_from_runtimes();
    const auto& containers = ctx.opt.filter.containers;
    if (containers.empty()) return;
    // --container in the kernel when it is exact (running containers by id):
    // their cgroup subtrees and netns. The user-side filter still applies.
    std::string why;
    if (auto kf = enricher_->kernel_filter_for(containers, TracerConfig::kMaxKernelContainers,
                                               &why)) {
      cfg.container_cgroups = kf->cgroups;
      cfg.container_netns = kf->netns;
      spdlog::debug("--container in the kernel: {} cgroup subtree(s), {} netns", kf->cgroups.size(),
                    kf->netns.size());
    } else if (why.rfind("more than ", 0) == 0) {
      // Worth saying without -v: the kernel then sends every record to
      // userspace, which costs what the filter should save.
      spdlog::warn("--container filtered in userspace only: {}", why);
    } else {
      spdlog::debug("--container in userspace only: {}", why);
    }
  }
  void start(Context&, PipelineConfig& pc) override { pc.enricher = enricher_.get(); }

 private:
  std::unique_ptr<ContainerEnricher> enricher_;
};

class PolicyStage final : public Stage {
 public:
  const char* name() const override { return "policy"; }
  void configure(Context& ctx, TracerConfig& cfg) override {
    if (ctx.opt.enforce_mode == SS_ENFORCE_OFF) return;
    // Globs expanded now, to the names each namespace has (docs/policy.md).
    cfg.enforce_mode = ctx.opt.enforce_mode;
    for (const auto& b : policy::bind_now(*ctx.opt.policy)) {
      if (b.missing) continue;
      cfg.enforce.push_back({policy::enforce_ns(b), dotted_to_slash(b.sysctl), b.rule->norm});
    }
    spdlog::info("--enforce{}: {} sysctl(s) in the kernel map",
                 ctx.opt.enforce_mode == SS_ENFORCE_DRY_RUN ? " --dry-run" : "", cfg.enforce.size());
  }
  void start(Context& ctx, PipelineConfig& pc) override {
    Tracer* tracer = ctx.tracer;
    monitor_ = std::make_unique<policy::Monitor>(
        *ctx.opt.policy, ctx.enricher->host_netns(), [tracer](const policy::Binding& b) {
          // A namespace born after start: its governed sysctls join the map.
          tracer->add_enforced({policy::enforce_ns(b), dotted_to_slash(b.sysctl), b.rule->norm});
        });
    pc.followers.push_back([m = monitor_.get()](Event& e) {
      // A refused write did fail, whatever the read-back concluded.
      if (auto* w = e.get_if<SysctlWrite>(); w && w->denied)
        w->result = WriteOutcome::failed_with(EPERM);
      return m->judge(e);
    });
    if (ctx.opt.enforce_mode != SS_ENFORCE_OFF)
      pc.on_new_generation.push_back([tracer](NetnsId born) {
        // A reused inode: the dead namespace's rules are not the new one's
        // (the Monitor adds the new one's at its birth).
        if (size_t n = tracer->forget_enforced(born.inode))
          spdlog::debug("--enforce: {} entries of a dead netns {} dropped", n, born.inode);
      });
  }

 private:
  std::unique_ptr<policy::Monitor> monitor_;
};

class DetectStage final : public Stage {
 public:
  const char* name() const override { return "detect"; }
  void start(Context& ctx, PipelineConfig& pc) override {
    pc.followers.push_back([d = ctx.opt.detector](const Event& e) { return d->match(e); });
  }
};

class ReadbackStage final : public Stage {
 public:
  const char* name() const override { return "readback"; }
  void start(Context&, PipelineConfig& pc) override { pc.readback = &source_; }

 private:
  ProcValueSource source_;
};

class BirthsStage final : public Stage {
 public:
  const char* name() const override { return "births"; }
  void start(Context& ctx, PipelineConfig& pc) override {
    if (!ctx.tracer->plan().snapshots_netns) return;
    births_ = std::make_unique<netns::Births>(std::make_unique<netns::SnapshotDecoder>());
    pc.births = births_.get();
  }
  void attached(Context& ctx) override {
    if (!births_) return;
    // Calibrate the decoder on a throwaway netns of our own (see
    // netns/snapshot.hpp), before announcing that we are tracing.
    auto fresh = netns::probe_fresh_netns(ctx.opt.btf_file);
    if (!fresh) throw fresh.error();
    births_->expect_calibration(std::move(*fresh));
    // The probe child has exited: its netns record and its ~600 reads are all
    // in the ring. Drain them (and anything else from before the "Tracing"
    // line) without reporting: the tool's own activity is not an event.
    Pipeline& pipe = *ctx.pipeline;
    Tracer& tracer = *ctx.tracer;
    pipe.set_discarding(true);
    const uint64_t give_up = mono_ns() + 5'000'000'000ull;
    while (!births_->calibrated() && mono_ns() < give_up) tracer.poll(10);
    while (tracer.poll(0) > 0) {
    }
    pipe.set_discarding(false);
    if (!births_->calibrated())
      throw Error("calibrate netns snapshots", "throwaway netns", ETIMEDOUT,
                  "its netns_create record never arrived (ring buffer too small?)");
    spdlog::debug("netns snapshots: HZ={}", births_->decoder().hz());
  }

 private:
  std::unique_ptr<netns::Births> births_;
};

}  // namespace

std::unique_ptr<Stage> metrics_stage() { return std::make_unique<MetricsStage>(); }
std::unique_ptr<Stage> otlp_stage() { return std::make_unique<OtlpStage>(); }
std::unique_ptr<Stage> containers_stage() { return std::make_unique<ContainersStage>(); }
std::unique_ptr<Stage> policy_stage() { return std::make_unique<PolicyStage>(); }
std::unique_ptr<Stage> detect_stage() { return std::make_unique<DetectStage>(); }
std::unique_ptr<Stage> readback_stage() { return std::make_unique<ReadbackStage>(); }
std::unique_ptr<Stage> births_stage() { return std::make_unique<BirthsStage>(); }

}  // namespace sysctlscope::session
