// SPDX-License-Identifier: Apache-2.0
// The arguments of `trace` and `record`, one struct for both: the options
// they share, each command's own few, and their validation into a live
// session's options (user/session/).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "session/session.hpp"

namespace sysctlscope::cli {

inline constexpr const char* kWriteResultsHelp =
    "How sysctl_write results are found: readback (default: the value is read back after the "
    "write; "
    "costs nothing on other syscalls) or syscall (the write syscall's exact errno; hooks every "
    "write() "
    "on the host)";

// Which command the arguments are for: trace streams events to stdout,
// record writes them to a file (-o FILE, --max-size; no --count).
enum class LiveCommand { Trace, Record };

struct LiveArgs {
  LiveCommand command = LiveCommand::Trace;
  FilterOptions filter;
  std::string output;  // trace: json|table; record: the recording file
  double duration = 0;
  int64_t count = 0;     // trace
  std::string max_size;  // record
  std::string ringbuf_size = "8M";
  std::string cgroup;
  std::string write_results = "readback";
  std::string metrics_addr, metrics_labels;                   // --metrics-*
  std::string otlp_endpoint, otlp_protocol = "http/protobuf";  // --otlp-*
  PolicyOptions policy;
  RulesOptions rules;

  void add_to(CLI::App* app);

  // What build() validated, with the policy and rule pack it loaded.
  struct Built {
    session::Options opt;
    std::unique_ptr<policy::Policy> policy;
    std::unique_ptr<detect::Detector> detector;
    uint64_t max_size = 0;  // record: --max-size in bytes, 0: none
  };
  // Validates every option (throws UsageError: one line, the first problem).
  Built build(const std::string& btf_file) const;
};

// --write-results: "readback" or "syscall"; throws UsageError.
WriteResultMode parse_write_results(const std::string& s);

// Parses "8M", "64k", "1048576" (bytes); throws UsageError.
uint64_t parse_size(const std::string& s, const char* what);
// --ringbuf-size: a power of two between 64k and 1G; throws UsageError.
uint32_t parse_ringbuf_size(const std::string& s);

}  // namespace sysctlscope::cli
