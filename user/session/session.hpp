// SPDX-License-Identifier: Apache-2.0
// One live session, shared by `trace` and `record`: the tracer feeding the
// pipeline, assembled from stages with a lifecycle. The session does the
// part every run needs (environment checks, load, attach, "Tracing ..." on
// stderr, the drain loop, lost accounting); each optional capability
// (metrics, OTLP export, policy, detections, read-back results, netns
// birth snapshots) is a Stage in the order run() calls them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detect/rules.hpp"
#include "export/otlp.hpp"
#include "metrics/metrics.hpp"
#include "metrics/server.hpp"
#include "model/filter.hpp"
#include "output/sink.hpp"
#include "pipeline/pipeline.hpp"
#include "policy/policy.hpp"

namespace sysctlscope {
class FeatureProbe;
class Tracer;
struct TracerConfig;
class ContainerEnricher;
}  // namespace sysctlscope

namespace sysctlscope::session {

// Everything `trace` and `record` ask of a live session.
struct Options {
  Filter filter;
  double duration_s = 0;  // 0: until stopped
  uint64_t count = 0;     // 0: unlimited
  uint32_t ringbuf_bytes = 8u << 20;
  std::string cgroup;  // subtree filter: a cgroup v2 path ("" = all)
  WriteResultMode write_results = WriteResultMode::Readback;
  // --policy: judge writes and births (sysctl_drift); enforce_mode is enum
  // ss_enforce_mode (--enforce, --dry-run). Not owned.
  const policy::Policy* policy = nullptr;
  uint32_t enforce_mode = 0;
  // --rules: detection events after the writes and blocked opens. Not owned.
  const detect::Detector* detector = nullptr;
  std::optional<metrics::Endpoint> metrics;  // --metrics-addr
  metrics::LabelFilter metrics_labels;       // --metrics-label-filter
  std::string btf_file;                      // --btf ("": the running kernel's)
  std::optional<exporter::OtlpConfig> otlp;  // --otlp-endpoint
};

// What the stages share, filled in as the session advances: a stage reads
// only what an earlier phase (or an earlier stage in the same phase) set.
struct Context {
  const Options& opt;
  const FeatureProbe& probe;
  Sink* output;  // the head of the output chain: open() may wrap it
  std::string cgroup_root;                   // the cgroup2 mount
  metrics::Metrics* metrics = nullptr;       // the metrics stage's counters
  ContainerEnricher* enricher = nullptr;     // the containers stage's, from configure()
  Tracer* tracer = nullptr;                  // from start()
  Pipeline* pipeline = nullptr;              // from attached()
};

// One capability of a session (Inspektor Gadget's operators are the model).
// Every hook is optional; run() calls each phase on every stage in order,
// stop() in reverse. A stage owns what it creates; stages are destroyed in
// reverse order, before the tracer, whatever way run() ends (so a scrape
// never reaches a dead tracer, and the exporter's summary is always said).
class Stage {
 public:
  virtual ~Stage() = default;
  virtual const char* name() const = 0;
  // Nothing is loaded yet: create what the stage owns; may wrap ctx.output.
  virtual void open(Context&) {}
  // What the kernel side needs (knobs, kernel filters, maps), before load.
  virtual void configure(Context&, TracerConfig&) {}
  // Programs loaded, not attached: contribute to the pipeline.
  virtual void start(Context&, PipelineConfig&) {}
  // Attached, records flow into the pipeline; before "Tracing ...".
  virtual void attached(Context&) {}
  // "Tracing ..." announced.
  virtual void ready(Context&) {}
  // About every poll interval, with the running stats.
  virtual void tick(Context&, const PipelineStats&) {}
  // After the last drain (reverse order): deliver what is queued.
  virtual void stop(Context&) {}
};

class Session {
 public:
  Session(Options opt, Sink& out);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // A stage of the caller's (record's status line), after the built-in ones.
  void add(std::unique_ptr<Stage> s) { stages_.push_back(std::move(s)); }
  // Runs until `stop_requested()` (a signal), --duration, --count or a
  // closed output. Once: the stages end with it.
  PipelineStats run(const std::function<bool()>& stop_requested);
  // The stages in order (tests, `-v`).
  std::vector<std::string> stage_names() const;

 private:
  Options opt_;
  Sink& out_;
  std::vector<std::unique_ptr<Stage>> stages_;
};

// --cgroup ARG -> the cgroup directory: ARG itself when it is an absolute
// path below the cgroup2 mount `root` (on a '/' boundary), else ARG taken
// relative to `root`. ARG is not empty.
std::string cgroup_dir_of(const std::string& root, const std::string& arg);

}  // namespace sysctlscope::session
