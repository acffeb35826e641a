// SPDX-License-Identifier: Apache-2.0
// The live loop shared by `trace` and `record`: environment checks, load,
// attach, "Tracing ..." on stderr, drain until stopped, lost accounting.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "detect/rules.hpp"
#include "export/otlp.hpp"
#include "metrics/metrics.hpp"
#include "metrics/server.hpp"
#include "model/filter.hpp"
#include "output/sink.hpp"
#include "pipeline/pipeline.hpp"
#include "policy/policy.hpp"

namespace sysctlscope::cli {

struct LiveOptions {
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

// --metrics-addr / --metrics-label-filter on `trace` and `record`.
struct MetricsArgs {
  std::string addr, labels;
  void add_to(CLI::App* app);
  // Validates into `opt` (throws UsageError).
  void apply(LiveOptions& opt) const;
};

// --otlp-endpoint / --otlp-protocol on `trace` and `record` (docs/otlp.md).
struct OtlpArgs {
  std::string endpoint, protocol = "http/protobuf";
  void add_to(CLI::App* app);
  void apply(LiveOptions& opt) const;  // throws UsageError
};

inline constexpr const char* kWriteResultsHelp =
    "How sysctl_write results are found: readback (default: the value is read back after the "
    "write; "
    "costs nothing on other syscalls) or syscall (the write syscall's exact errno; hooks every "
    "write() "
    "on the host)";
// --write-results: "readback" or "syscall"; throws UsageError.
WriteResultMode parse_write_results(const std::string& s);

// Called about every poll interval with the running stats (progress, flush).
using TickFn = std::function<void(const PipelineStats&)>;

PipelineStats run_live(const LiveOptions& opt, Sink& sink, const TickFn& tick = {});

// --cgroup ARG -> the cgroup directory: ARG itself when it is an absolute
// path below the cgroup2 mount `root` (on a '/' boundary), else ARG taken
// relative to `root`. ARG is not empty.
std::string cgroup_dir_of(const std::string& root, const std::string& arg);

// Parses "8M", "64k", "1048576" (bytes); throws UsageError.
uint64_t parse_size(const std::string& s, const char* what);
// --ringbuf-size: a power of two between 64k and 1G; throws UsageError.
uint32_t parse_ringbuf_size(const std::string& s);

}  // namespace sysctlscope::cli
