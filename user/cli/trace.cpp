// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/live.hpp"
#include "core/error.hpp"

namespace sysctlscope::cli {

namespace {
struct TraceArgs {
  FilterOptions filter;
  std::string output;
  double duration = 0;
  int64_t count = 0;
  std::string ringbuf_size = "8M";
  std::string cgroup;
  std::string write_results = "readback";
  MetricsArgs metrics;
  OtlpArgs otlp;
  PolicyOptions policy;
  RulesOptions rules;
};
}  // namespace

void register_trace(CLI::App& app, Registry& reg) {
  auto args = std::make_shared<TraceArgs>();
  auto* sub = app.add_subcommand("trace", "Stream sysctl activity live");
  sub->footer(R"(Examples:
  sysctlscope trace                               # everything, table on a terminal
  sysctlscope trace -o json --type sysctl_write   # writes only, JSON lines
  sysctlscope trace --sysctl 'net.ipv4.tcp_*'     # TCP sysctls in every namespace
  sysctlscope trace --failed                      # writes that did not take effect
  sysctlscope trace --comm runc:[2:INIT] --count 10
  sysctlscope trace --duration 30 -o json > sysctl.jsonl
  sysctlscope trace --policy /etc/sysctl.d        # sysctl_drift when a write breaks the node's config
  sysctlscope trace --policy base.conf --enforce  # and refuse such writes (EPERM)
  sysctlscope trace --rules escape,hardening      # detection events (docs/rules.md))");
  sub->add_option(
      "-o,--output", args->output,
      "Output format: json or table (default: table on a terminal, JSON lines otherwise)");
  add_filter_options(sub, args->filter);
  sub->add_option("--duration", args->duration, "Stop after this many seconds");
  sub->add_option("--count", args->count, "Stop after this many events");
  sub->add_option("--cgroup", args->cgroup,
                  "Only tasks in this cgroup v2 subtree (path below the cgroup2 mount)");
  sub->add_option("--ringbuf-size", args->ringbuf_size,
                  "Ring buffer size, power of two (default 8M)");
  sub->add_option("--write-results", args->write_results, kWriteResultsHelp);
  args->metrics.add_to(sub);
  args->otlp.add_to(sub);
  add_policy_options(sub, args->policy);
  add_rules_options(sub, args->rules);
  reg.add(sub, [args, &reg]() {
    LiveOptions opt;
    opt.btf_file = reg.btf_file;
    opt.filter = args->filter.build();
    if (!(args->duration >= 0)) throw UsageError("--duration must be a positive number of seconds");
    if (args->count < 0) throw UsageError("--count must be a positive number");
    opt.duration_s = args->duration;
    opt.count = static_cast<uint64_t>(args->count);
    opt.ringbuf_bytes = parse_ringbuf_size(args->ringbuf_size);
    opt.cgroup = args->cgroup;
    opt.write_results = parse_write_results(args->write_results);
    args->metrics.apply(opt);
    args->otlp.apply(opt);
    auto pol = args->policy.load();
    opt.policy = pol.get();
    opt.enforce_mode = args->policy.enforce_mode();
    auto det = args->rules.load();
    opt.detector = det.get();
    auto sink = open_output(args->output);
    install_stop_handlers();
    PipelineStats st = run_live(opt, *sink, {});
    std::fprintf(stderr, "%llu events, %llu lost\n", static_cast<unsigned long long>(st.emitted),
                 static_cast<unsigned long long>(st.lost));
    return 0;
  });
}

}  // namespace sysctlscope::cli
