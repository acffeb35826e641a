// SPDX-License-Identifier: Apache-2.0
#include "cli/live.hpp"

#include "core/error.hpp"
#include "export/otlp.hpp"
#include "metrics/metrics.hpp"

namespace sysctlscope::cli {

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

void LiveArgs::add_to(CLI::App* app) {
  const bool record = command == LiveCommand::Record;
  if (record)
    app->add_option("-o,--output", output, "Recording file to create (never overwritten)")
        ->required();
  else
    app->add_option(
        "-o,--output", output,
        "Output format: json or table (default: table on a terminal, JSON lines otherwise)");
  add_filter_options(app, filter);
  app->add_option("--duration", duration, "Stop after this many seconds");
  if (record)
    app->add_option("--max-size", max_size,
                    "Stop cleanly when the file reaches this size (e.g. 512M)");
  else
    app->add_option("--count", count, "Stop after this many events");
  app->add_option("--cgroup", cgroup,
                  "Only tasks in this cgroup v2 subtree (path below the cgroup2 mount)");
  app->add_option("--ringbuf-size", ringbuf_size, "Ring buffer size, power of two (default 8M)");
  app->add_option("--write-results", write_results, kWriteResultsHelp);
  app->add_option("--metrics-addr", metrics_addr,
                  "Serve Prometheus metrics on HOST:PORT (/metrics, and /healthz: 200 while "
                  "attached); docs/metrics.md");
  app->add_option("--metrics-label-filter", metrics_labels,
                  "Container labels on sysctlscope_events_total, comma separated: container, pod, "
                  "namespace (default none: bounded cardinality)");
  app->add_option("--otlp-endpoint", otlp_endpoint,
                  "Also send every event as an OpenTelemetry log record to this OTLP/HTTP "
                  "endpoint (http://HOST:4318; /v1/logs is appended unless given); docs/otlp.md");
  app->add_option("--otlp-protocol", otlp_protocol,
                  "OTLP encoding: http/protobuf (default) or http/json");
  add_policy_options(app, policy);
  add_rules_options(app, rules);
}

LiveArgs::Built LiveArgs::build(const std::string& btf_file) const {
  const bool record = command == LiveCommand::Record;
  Built b;
  session::Options& opt = b.opt;
  opt.btf_file = btf_file;
  opt.filter = filter.build();
  if (record && output.empty()) throw UsageError("record needs -o FILE");
  if (!(duration >= 0)) throw UsageError("--duration must be a positive number of seconds");
  opt.duration_s = duration;
  if (count < 0) throw UsageError("--count must be a positive number");
  opt.count = static_cast<uint64_t>(count);
  if (!max_size.empty()) {
    b.max_size = parse_size(max_size, "--max-size");
    if (b.max_size < 64 * 1024) throw UsageError("--max-size must be at least 64k");
  }
  opt.ringbuf_bytes = parse_ringbuf_size(ringbuf_size);
  opt.cgroup = cgroup;
  opt.write_results = parse_write_results(write_results);
  // --metrics-*
  if (!metrics_addr.empty()) opt.metrics = metrics::parse_endpoint(metrics_addr);
  opt.metrics_labels = metrics::parse_label_filter(metrics_labels);
  if (opt.metrics_labels.any() && !opt.metrics)
    throw UsageError("--metrics-label-filter needs --metrics-addr");
  // --otlp-*
  auto proto = exporter::parse_otlp_protocol(otlp_protocol);
  if (!proto)
    throw UsageError("--otlp-protocol must be http/protobuf or http/json, not '" + otlp_protocol +
                     "'");
  if (!otlp_endpoint.empty()) {
    auto url = exporter::parse_otlp_endpoint(otlp_endpoint);
    if (!url) throw UsageError(std::string(url.error().what()));
    exporter::OtlpConfig cfg;
    cfg.url = std::move(*url);
    cfg.protocol = *proto;
    cfg.resource = exporter::default_resource();
    opt.otlp = std::move(cfg);
  } else if (otlp_protocol != "http/protobuf") {
    throw UsageError("--otlp-protocol needs --otlp-endpoint");
  }
  b.policy = policy.load();
  opt.policy = b.policy.get();
  opt.enforce_mode = policy.enforce_mode();
  b.detector = rules.load();
  opt.detector = b.detector.get();
  return b;
}

WriteResultMode parse_write_results(const std::string& s) {
  if (auto m = parse_name<WriteResultMode>(s)) return *m;
  throw UsageError("--write-results must be readback or syscall, not '" + s + "'");
}

}  // namespace sysctlscope::cli
