// SPDX-License-Identifier: Apache-2.0
#include "export/otlp.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "model/event.hpp"
#include "output/escape.hpp"
#include "sysctlscope_version.hpp"

namespace sysctlscope::exporter {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::optional<OtlpProtocol> parse_otlp_protocol(std::string_view s) {
  if (s == "http/protobuf") return OtlpProtocol::Protobuf;
  if (s == "http/json") return OtlpProtocol::Json;
  return std::nullopt;
}

Expected<OtlpUrl> parse_otlp_endpoint(std::string_view endpoint) {
  constexpr std::string_view kHttp = "http://";
  if (endpoint.substr(0, 8) == "https://")
    return Error("--otlp-endpoint", std::string(endpoint), 0,
                 "https is not supported: send to a local collector over http "
                 "(http://HOST:4318)");
  if (endpoint.substr(0, kHttp.size()) != kHttp)
    return Error("--otlp-endpoint", std::string(endpoint), 0,
                 "must be an http:// URL, e.g. http://otel-collector:4318");
  std::string_view rest = endpoint.substr(kHttp.size());
  size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  if (host.empty() || host.find_first_of("?#@ ") != std::string_view::npos)
    return Error("--otlp-endpoint", std::string(endpoint), 0, "no host in the URL");
  OtlpUrl u;
  u.base = std::string(kHttp) + std::string(host);
  std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  if (path.find_first_of("?#") != std::string::npos)
    return Error("--otlp-endpoint", std::string(endpoint), 0, "a query or fragment is not allowed");
  constexpr std::string_view kSignal = "/v1/logs";
  if (path.size() >= kSignal.size() && path.compare(path.size() - kSignal.size(), kSignal.size(),
                                                    kSignal) == 0) {
    u.path = path;
  } else {
    while (!path.empty() && path.back() == '/') path.pop_back();
    u.path = path + std::string(kSignal);
  }
  return u;
}

Attributes default_resource() {
  Attributes a = {{"service.name", "sysctlscope"}, {"service.version", kVersion}};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0]) a.emplace_back("host.name", host);
  for (const char* var : {"K8S_NODE_NAME", "NODE_NAME"}) {
    if (const char* v = std::getenv(var); v && *v) {
      a.emplace_back("k8s.node.name", v);
      break;
    }
  }
  return a;
}

std::pair<int, std::string_view> otlp_severity(std::string_view s) {
  // SeverityNumber ranges of the logs data model: INFO 9, WARN 13, ERROR 17,
  // FATAL 21; the text keeps the rule's own word.
  if (s == "low") return {13, "low"};
  if (s == "medium") return {15, "medium"};
  if (s == "high") return {17, "high"};
  if (s == "critical") return {21, "critical"};
  if (s == "info") return {9, "info"};
  return {9, "INFO"};
}

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max) {
  auto d = initial;
  for (int i = 0; i < attempt && d < max; ++i) d *= 2;
  return std::min(d, max);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty() || v.size() > 6) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;  // an HTTP date: use our own backoff
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return std::chrono::milliseconds(n * 1000);
}

bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::QueueFull: return "queue_full";
    case DropReason::Rejected: return "rejected";
    case DropReason::RetriesExhausted: return "retries_exhausted";
    case DropReason::Shutdown: return "shutdown";
    case DropReason::kCount: break;
  }
  return "?";
}

uint64_t ExportStats::dropped_total() const {
  uint64_t t = 0;
  for (auto v : dropped) t += v;
  return t;
}

// ---- encoding -------------------------------------------------------------
//
// Protobuf by hand: Debian 12 packages no OTLP C++ library, and these few
// messages need only varints, fixed64 and length-delimited fields. Field
// numbers are those of opentelemetry-proto (collector/logs/v1,
// logs/v1/logs.proto, common/v1/common.proto, resource/v1/resource.proto).
// The test suite decodes the result with OpenTelemetry's own protobuf root.
namespace {

namespace pb {
void varint(std::string& o, uint64_t v) {
  while (v >= 0x80) {
    o.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  o.push_back(static_cast<char>(v));
}
void tag(std::string& o, uint32_t field, uint32_t wire) { varint(o, (field << 3) | wire); }
void bytes(std::string& o, uint32_t field, std::string_view v) {
  tag(o, field, 2);
  varint(o, v.size());
  o.append(v);
}
void fixed64(std::string& o, uint32_t field, uint64_t v) {
  tag(o, field, 1);
  for (int i = 0; i < 8; ++i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void uint(std::string& o, uint32_t field, uint64_t v) {
  tag(o, field, 0);
  varint(o, v);
}
}  // namespace pb

}  // namespace

// ---- one event's record ----------------------------------------------------

namespace {

// The type's scalar fields as attributes, mirroring the JSON writer
// (user/output/json.cpp): same members, same presence rules, same values.
// Arrays and objects (texts, maps, host diffs) stay in the body only.
struct AttrWriter {
  LogItem& item;

  void put(std::string_view k, AttrValue v, bool hex = false) {
    item.attrs.push_back({k, true, std::move(v), hex});
  }
  void text(std::string_view k, std::string_view v) {
    put(k, utf8_lossy(v));
    if (k == "severity") {
      auto [n, t] = otlp_severity(v);
      item.severity = n;
      item.severity_text = t;
    }
  }
  void text_or(std::string_view k, const std::string& v, std::string_view dflt) {
    text(k, v.empty() ? dflt : std::string_view(v));
  }
  void opt_text(std::string_view k, const std::string& v) {
    if (!v.empty()) text(k, v);
  }
  template <class E>
  void word(std::string_view k, E v) {
    put(k, std::string(name_of(v)));
  }
  template <class E>
  void opt_word(std::string_view k, const std::optional<E>& v) {
    if (v) word(k, *v);
  }
  void outcome(std::string_view k, WriteOutcome v) {
    put(k, v.status == WriteStatus::Failed ? errno_name(v.err) : std::string(name_of(v.status)));
  }
  void bytes(std::string_view k, const std::string& v) {
    put(k, utf8_lossy(v));
    if (!is_valid_utf8(v)) put(k, hex_encode(v), true);
  }
  void opt_bytes(std::string_view k, const std::string& v) {
    if (!v.empty()) bytes(k, v);
  }
  template <class T>
  void num(std::string_view k, T v) {
    put(k, static_cast<int64_t>(v));
  }
  void opt_num(std::string_view k, const std::optional<uint64_t>& v) {
    if (v) num(k, *v);
  }
  void inode(std::string_view k, uint32_t v) {
    if (v) num(k, v);
  }
  void flag(std::string_view k, bool v) {
    if (v) put(k, true);
  }
  void truncation(std::string_view k, const std::string&, bool a, const std::string&, bool b) {
    flag(k, a || b);
  }
  template <class... A>
  void texts(A&&...) {}
  template <class... A>
  void text_map(A&&...) {}
  template <class... A>
  void host_diffs(A&&...) {}
};

void semconv(LogItem& it, std::string_view key, AttrValue v) {
  it.attrs.push_back({key, false, std::move(v), false});
}
void semconv_text(LogItem& it, std::string_view key, const std::string& v) {
  if (!v.empty()) semconv(it, key, utf8_lossy(v));  // the JSON writes "" as null
}

}  // namespace

LogItem make_log_item(const Event& e) {
  LogItem it;
  it.time_ns = e.time_ns;
  it.json = event_to_json(e);
  it.attrs.reserve(24);
  it.attrs.push_back({"event", true, std::string(to_string(e.type())), false});
  if (has_actor(e)) {
    semconv(it, "process.pid", static_cast<int64_t>(e.pid));
    semconv(it, "thread.id", static_cast<int64_t>(e.tid));
    semconv(it, "process.parent_pid", static_cast<int64_t>(e.ppid));
    semconv(it, "process.executable.name", utf8_lossy(e.comm));
    semconv(it, "process.user.id", static_cast<int64_t>(e.uid));
    semconv(it, "sysctlscope.cgroup.id", static_cast<int64_t>(e.cgroup_id));
    semconv_text(it, "sysctlscope.cgroup.path", e.cgroup_path);
  }
  if (e.netns) it.attrs.push_back({"netns", true, static_cast<int64_t>(e.netns), false});
  if (e.container) {
    const ContainerInfo& c = *e.container;
    semconv_text(it, "container.id", c.id);
    semconv_text(it, "container.name", c.name);
    semconv_text(it, "container.runtime.name", std::string(name_of(c.runtime)));
    semconv_text(it, "k8s.pod.name", c.pod);
    semconv_text(it, "k8s.namespace.name", c.k8s_namespace);
    semconv_text(it, "k8s.pod.uid", c.pod_uid);
  }
  it.attrs.push_back({"cross_namespace", true, e.cross_namespace, false});
  AttrWriter w{it};
  std::visit([&](const auto& p) { std::decay_t<decltype(p)>::fields(w, p); }, e.data);
  return it;
}

namespace {

// AnyValue: string_value 1, bool_value 2, int_value 3.
void pb_any(std::string& o, const AttrValue& v) {
  if (auto* s = std::get_if<std::string>(&v))
    pb::bytes(o, 1, *s);
  else if (auto* b = std::get_if<bool>(&v))
    pb::uint(o, 2, *b ? 1 : 0);
  else
    pb::uint(o, 3, static_cast<uint64_t>(std::get<int64_t>(v)));
}

void append_key(std::string& o, const LogAttr& a) {
  if (a.ours) o += "sysctlscope.";
  o += a.key;
  if (a.hex) o += "_hex";
}

// KeyValue: key 1, value 2 (AnyValue).
void pb_kv(std::string& o, uint32_t field, std::string_view key, const std::string& any) {
  thread_local std::string kv;  // reused: one allocation per thread, not per attribute
  kv.clear();
  pb::bytes(kv, 1, key);
  pb::bytes(kv, 2, any);
  pb::bytes(o, field, kv);
}

std::string encode_protobuf(const Attributes& resource, const std::vector<LogItem>& batch,
                            uint64_t observed_ns) {
  std::string any, key;
  // Resource: attributes 1.
  std::string res;
  for (const auto& [k, v] : resource) {
    any.clear();
    pb::bytes(any, 1, v);
    pb_kv(res, 1, k, any);
  }
  // InstrumentationScope: name 1, version 2.
  std::string scope;
  pb::bytes(scope, 1, "sysctlscope");
  pb::bytes(scope, 2, kVersion);
  // ScopeLogs: scope 1, log_records 2.
  size_t guess = 64;
  for (const auto& item : batch) guess += item.json.size() * 2 + 32 * item.attrs.size() + 64;
  std::string scope_logs;
  scope_logs.reserve(guess);
  pb::bytes(scope_logs, 1, scope);
  std::string rec, body;
  for (const auto& item : batch) {
    rec.clear();
    // LogRecord: time_unix_nano 1 (fixed64), severity_number 2,
    // severity_text 3, body 5, attributes 6, observed_time_unix_nano 11.
    pb::fixed64(rec, 1, item.time_ns);
    pb::uint(rec, 2, static_cast<uint64_t>(item.severity));
    pb::bytes(rec, 3, item.severity_text);
    body.clear();
    pb::bytes(body, 1, item.json);
    pb::bytes(rec, 5, body);
    for (const auto& a : item.attrs) {
      key.clear();
      append_key(key, a);
      any.clear();
      pb_any(any, a.value);
      pb_kv(rec, 6, key, any);
    }
    pb::fixed64(rec, 11, observed_ns);
    pb::bytes(scope_logs, 2, rec);
  }
  // ExportLogsServiceRequest: resource_logs 1 = ResourceLogs: resource 1,
  // scope_logs 2. Headers first, so the large scope_logs is copied once.
  std::string rl_head;
  pb::bytes(rl_head, 1, res);
  pb::tag(rl_head, 2, 2);
  pb::varint(rl_head, scope_logs.size());
  std::string out;
  out.reserve(rl_head.size() + scope_logs.size() + 16);
  pb::tag(out, 1, 2);
  pb::varint(out, rl_head.size() + scope_logs.size());
  out += rl_head;
  out += scope_logs;
  return out;
}

// OTLP/JSON: lowerCamelCase names, 64-bit integers as strings, enums as
// numbers. Written directly (as the event's own JSON line is): building a
// DOM per record cost 70 us a record.
void json_kv(std::string& o, std::string_view key, const AttrValue& v) {
  o += "{\"key\":";
  append_json_string(o, key);
  o += ",\"value\":{";
  if (auto* s = std::get_if<std::string>(&v)) {
    o += "\"stringValue\":";
    append_json_string(o, *s);
  } else if (auto* b = std::get_if<bool>(&v)) {
    o += *b ? "\"boolValue\":true" : "\"boolValue\":false";
  } else {
    o += "\"intValue\":\"";
    o += std::to_string(std::get<int64_t>(v));
    o += '"';
  }
  o += "}}";
}

std::string encode_json(const Attributes& resource, const std::vector<LogItem>& batch,
                        uint64_t observed_ns) {
  size_t guess = 256;
  for (const auto& item : batch) guess += item.json.size() * 2 + 64 * item.attrs.size() + 160;
  std::string o;
  o.reserve(guess);
  o += "{\"resourceLogs\":[{\"resource\":{\"attributes\":[";
  for (size_t i = 0; i < resource.size(); ++i) {
    if (i) o += ',';
    json_kv(o, resource[i].first, resource[i].second);
  }
  o += "]},\"scopeLogs\":[{\"scope\":{\"name\":\"sysctlscope\",\"version\":";
  append_json_string(o, kVersion);
  o += "},\"logRecords\":[";
  const std::string observed = std::to_string(observed_ns);
  std::string key;
  for (size_t r = 0; r < batch.size(); ++r) {
    const LogItem& item = batch[r];
    if (r) o += ',';
    o += "{\"timeUnixNano\":\"";
    o += std::to_string(item.time_ns);
    o += "\",\"observedTimeUnixNano\":\"";
    o += observed;
    o += "\",\"severityNumber\":";
    o += std::to_string(item.severity);
    o += ",\"severityText\":";
    append_json_string(o, item.severity_text);
    o += ",\"body\":{\"stringValue\":";
    append_json_string(o, item.json);
    o += "},\"attributes\":[";
    for (size_t i = 0; i < item.attrs.size(); ++i) {
      if (i) o += ',';
      key.clear();
      append_key(key, item.attrs[i]);
      json_kv(o, key, item.attrs[i].value);
    }
    o += "]}";
  }
  o += "]}]}]}";
  return o;
}

}  // namespace

std::string encode_logs(const Attributes& resource, const std::vector<LogItem>& batch,
                        OtlpProtocol protocol, uint64_t observed_ns) {
  return protocol == OtlpProtocol::Json ? encode_json(resource, batch, observed_ns)
                                        : encode_protobuf(resource, batch, observed_ns);
}

// ---- the sender -----------------------------------------------------------

OtlpExporter::OtlpExporter(OtlpConfig cfg) : cfg_(std::move(cfg)) {
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() { shutdown(); }

void OtlpExporter::enqueue(LogItem item) {
  records_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lk(mu_);
    if (!stopping_ && queue_.size() < cfg_.queue_max) {
      const bool first = queue_.empty();
      if (first) oldest_ = Clock::now();
      queue_.push_back(std::move(item));
      // The sender waits for a first record (then the batch delay) or a full batch.
      if (first || queue_.size() >= cfg_.batch_max) cv_.notify_one();
      return;
    }
  }
  drop(1, DropReason::QueueFull);
}

void OtlpExporter::drop(size_t n, DropReason r) {
  dropped_[static_cast<size_t>(r)].fetch_add(n, std::memory_order_relaxed);
}

void OtlpExporter::shutdown() {
  {
    std::lock_guard lk(mu_);
    if (!thread_.joinable()) return;
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ = Clock::now() + cfg_.shutdown_budget;
    }
  }
  cv_.notify_all();
  thread_.join();
}

void OtlpExporter::run() {
  for (;;) {
    std::vector<LogItem> batch;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (!stopping_ && queue_.size() < cfg_.batch_max)
        cv_.wait_until(lk, oldest_ + cfg_.batch_delay,
                       [&] { return stopping_ || queue_.size() >= cfg_.batch_max; });
      if (queue_.empty()) return;  // stopping, all sent
      if (stopping_ && Clock::now() >= stop_deadline_) {
        drop(queue_.size(), DropReason::Shutdown);
        queue_.clear();
        return;
      }
      size_t n = std::min(queue_.size(), cfg_.batch_max);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      oldest_ = Clock::now();
    }
    send(std::move(batch));
  }
}

void OtlpExporter::send(std::vector<LogItem> batch) {
  const auto observed = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  const std::string body = encode_logs(cfg_.resource, batch, cfg_.protocol, observed);
  const char* ctype =
      cfg_.protocol == OtlpProtocol::Json ? "application/json" : "application/x-protobuf";
  httplib::Client cli(cfg_.url.base);
  cli.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(cfg_.request_timeout));
  cli.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(cfg_.request_timeout));
  cli.set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(cfg_.request_timeout));
  const auto give_up = Clock::now() + cfg_.retry_budget;
  const std::string where = cfg_.url.base + cfg_.url.path;
  for (int attempt = 0;; ++attempt) {
    auto res = cli.Post(cfg_.url.path, body, ctype);
    std::string why;
    std::optional<std::chrono::milliseconds> after;
    if (res && res->status >= 200 && res->status < 300) {
      sent_.fetch_add(batch.size(), std::memory_order_relaxed);
      batches_.fetch_add(1, std::memory_order_relaxed);
      if (failing_) spdlog::warn("otlp: {} accepts records again", where);
      failing_ = false;
      return;
    }
    failed_requests_.fetch_add(1, std::memory_order_relaxed);
    if (res) {
      why = "HTTP " + std::to_string(res->status);
      if (!retryable_status(res->status)) {
        spdlog::warn("otlp: {} refused a batch of {} records ({}): dropped", where, batch.size(),
                     why);
        drop(batch.size(), DropReason::Rejected);
        return;
      }
      if (res->has_header("Retry-After")) after = parse_retry_after(res->get_header_value("Retry-After"));
    } else {
      why = httplib::to_string(res.error());
    }
    if (!failing_) spdlog::warn("otlp: POST {} failed ({}); retrying", where, why);
    failing_ = true;
    auto delay = after.value_or(backoff_delay(attempt, cfg_.retry_initial, cfg_.retry_max));
    std::unique_lock lk(mu_);
    auto deadline = stopping_ ? std::min(give_up, stop_deadline_) : give_up;
    if (Clock::now() + delay > deadline) {
      // Out of time for this batch: the last attempt failed.
      bool at_exit = stopping_;
      lk.unlock();
      spdlog::warn("otlp: {} records dropped after {} attempts to {} ({})", batch.size(),
                   attempt + 1, where, why);
      drop(batch.size(), at_exit ? DropReason::Shutdown : DropReason::RetriesExhausted);
      return;
    }
    // Shutdown cuts the wait short: one more attempt, then the deadline.
    bool was_stopping = stopping_;
    cv_.wait_for(lk, delay, [&] { return stopping_ != was_stopping; });
  }
}

ExportStats OtlpExporter::stats() const {
  ExportStats s;
  s.records = records_.load(std::memory_order_relaxed);
  s.sent = sent_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.failed_requests = failed_requests_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < s.dropped.size(); ++i)
    s.dropped[i] = dropped_[i].load(std::memory_order_relaxed);
  return s;
}

std::vector<metrics::CounterFamily> OtlpExporter::counters() const {
  ExportStats s = stats();
  std::vector<metrics::CounterFamily> f = {
      {"sysctlscope_otlp_records_total", "Events handed to the OTLP exporter.", {}, {{{}, s.records}}},
      {"sysctlscope_otlp_sent_records_total", "OTLP log records the receiver acknowledged (2xx).",
       {}, {{{}, s.sent}}},
      {"sysctlscope_otlp_batches_total", "OTLP export requests the receiver acknowledged.", {},
       {{{}, s.batches}}},
      {"sysctlscope_otlp_failed_requests_total",
       "OTLP export requests that failed (connection error or non-2xx), retries included.", {},
       {{{}, s.failed_requests}}},
      {"sysctlscope_otlp_dropped_records_total", "OTLP log records never delivered, by reason.",
       "reason", {}}};
  for (size_t i = 0; i < s.dropped.size(); ++i)
    f.back().samples.push_back({drop_reason_name(static_cast<DropReason>(i)), s.dropped[i]});
  return f;
}

std::string OtlpExporter::summary() const {
  ExportStats s = stats();
  std::string o = "otlp: " + std::to_string(s.sent) + " records sent in " +
                  std::to_string(s.batches) + " batches to " + cfg_.url.base + cfg_.url.path +
                  ", " + std::to_string(s.dropped_total()) + " dropped";
  if (s.dropped_total()) {
    o += " (";
    bool first = true;
    for (size_t i = 0; i < s.dropped.size(); ++i) {
      if (!s.dropped[i]) continue;
      if (!first) o += ", ";
      first = false;
      o += std::string(drop_reason_name(static_cast<DropReason>(i))) + " " +
           std::to_string(s.dropped[i]);
    }
    o += ")";
  }
  return o;
}

}  // namespace sysctlscope::exporter
