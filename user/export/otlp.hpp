// SPDX-License-Identifier: Apache-2.0
// OpenTelemetry logs export (docs/otlp.md): every event the output prints is
// also sent as an OTLP log record over OTLP/HTTP, by a sender thread with a
// bounded queue, batching, and retries with exponential backoff. Nothing is
// lost silently: a record is either acknowledged by the receiver (sent) or
// counted as dropped with a reason.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "metrics/metrics.hpp"
#include "output/sink.hpp"

namespace sysctlscope::exporter {

enum class OtlpProtocol { Protobuf, Json };
// "http/protobuf" or "http/json" (the OTEL_EXPORTER_OTLP_PROTOCOL names).
std::optional<OtlpProtocol> parse_otlp_protocol(std::string_view s);

// Where the records go: http://host[:port] and the request path.
struct OtlpUrl {
  std::string base;  // "http://host:port"
  std::string path;  // ".../v1/logs"
};
// The OTLP/HTTP exporter rule: a URL already ending in /v1/logs is used as
// is, otherwise /v1/logs is appended to its path.
Expected<OtlpUrl> parse_otlp_endpoint(std::string_view endpoint);

using Attributes = std::vector<std::pair<std::string, std::string>>;
// service.name, service.version, host.name, and k8s.node.name from
// K8S_NODE_NAME or NODE_NAME (the DaemonSet sets it from spec.nodeName).
Attributes default_resource();

struct OtlpConfig {
  OtlpUrl url;
  OtlpProtocol protocol = OtlpProtocol::Protobuf;
  Attributes resource;
  size_t batch_max = 512;  // records per request
  std::chrono::milliseconds batch_delay{1000};
  size_t queue_max = 8192;  // records waiting; more are dropped (queue_full)
  std::chrono::milliseconds retry_initial{250}, retry_max{5000};
  std::chrono::milliseconds retry_budget{10000};     // per batch, then retries_exhausted
  std::chrono::milliseconds shutdown_budget{5000};   // at exit, then shutdown
  std::chrono::milliseconds request_timeout{5000};
};

// An attribute's value: OTLP AnyValue string_value, int_value or bool_value.
using AttrValue = std::variant<std::string, int64_t, bool>;
struct LogAttr {
  std::string_view key;  // a literal: a semantic-convention name or a registry field name
  bool ours = false;     // written "sysctlscope.<key>"
  AttrValue value;
  bool hex = false;      // written "<key>_hex": the exact bytes of a value that is not UTF-8
  bool operator==(const LogAttr&) const = default;
};

// One queued record: the event's time, its JSON line (the body, docs/events.md)
// and what the JSON line says as attributes and severity (docs/otlp.md).
struct LogItem {
  uint64_t time_ns = 0;
  std::string json;
  std::vector<LogAttr> attrs;
  int severity = 9;
  std::string_view severity_text = "INFO";
};

// The record of one event. Attributes are made from the Event by the
// registry's field visitor (not by parsing the JSON line back: 4x cheaper),
// with the values the JSON line holds: bytes that are not UTF-8 become U+FFFD
// as there, and the `*_hex` twin is added; absent/null members are absent.
LogItem make_log_item(const Event& e);

// The ExportLogsServiceRequest of one batch, in the protocol's encoding.
std::string encode_logs(const Attributes& resource, const std::vector<LogItem>& batch,
                        OtlpProtocol protocol, uint64_t observed_ns);

// SeverityNumber and SeverityText of a rule severity (info..critical); INFO
// for anything else.
std::pair<int, std::string_view> otlp_severity(std::string_view rule_severity);

// attempt 0, 1, 2, ...: initial * 2^attempt, at most `max`.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max);
// A Retry-After header in delay-seconds form; nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v);
// 429 and 5xx are worth retrying (as is a connection error); other codes
// reject the batch.
bool retryable_status(int status);

enum class DropReason : size_t { QueueFull, Rejected, RetriesExhausted, Shutdown, kCount };
std::string_view drop_reason_name(DropReason r);

struct ExportStats {
  uint64_t records = 0;  // handed to the exporter
  uint64_t sent = 0;     // acknowledged with a 2xx
  uint64_t batches = 0;  // requests acknowledged
  uint64_t failed_requests = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> dropped{};
  uint64_t dropped_total() const;
};

class OtlpExporter {
 public:
  explicit OtlpExporter(OtlpConfig cfg);
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Never waits for the network: a full queue drops the record (counted).
  void enqueue(LogItem item);
  // Sends what is queued within shutdown_budget, drops (counts) the rest,
  // joins the sender. Idempotent.
  void shutdown();
  ExportStats stats() const;
  // The export counters, for /metrics (docs/metrics.md).
  std::vector<metrics::CounterFamily> counters() const;
  // One line for stderr at exit.
  std::string summary() const;
  const OtlpConfig& config() const { return cfg_; }

 private:
  void run();
  void send(std::vector<LogItem> batch);
  void drop(size_t n, DropReason r);

  const OtlpConfig cfg_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LogItem> queue_;
  std::chrono::steady_clock::time_point oldest_{};
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  bool failing_ = false;  // sender thread only: said once per outage

  std::atomic<uint64_t> records_{0}, sent_{0}, batches_{0}, failed_requests_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DropReason::kCount)> dropped_{};
  std::thread thread_;
};

// Writes to the real output and hands the same event to the exporter.
class OtlpSink final : public Sink {
 public:
  OtlpSink(Sink& out, OtlpExporter& ex) : out_(out), ex_(ex) {}
  void write(const Event& e) override {
    out_.write(e);
    ex_.enqueue(make_log_item(e));
  }
  bool flush() override { return out_.flush(); }
  bool closed() const override { return out_.closed(); }

 private:
  Sink& out_;
  OtlpExporter& ex_;
};

}  // namespace sysctlscope::exporter
