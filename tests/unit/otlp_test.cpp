// SPDX-License-Identifier: Apache-2.0
// The OTLP exporter's pure parts (endpoint rule, severity, backoff,
// Retry-After) and its sender against a local HTTP server that refuses,
// fails, or is absent: every record ends sent or counted as dropped.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "export/otlp.hpp"
#include "model/event.hpp"
#include "output/sink.hpp"
#include "harness.hpp"

using namespace sysctlscope::exporter;
using namespace std::chrono_literals;

TEST(OtlpEndpoint, AppendsTheSignalPathUnlessGiven) {
  auto u = parse_otlp_endpoint("http://collector:4318");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->base, "http://collector:4318");
  EXPECT_EQ(u->path, "/v1/logs");
  u = parse_otlp_endpoint("http://collector:4318/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->path, "/v1/logs");
  u = parse_otlp_endpoint("http://gw/otlp");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->base, "http://gw");
  EXPECT_EQ(u->path, "/otlp/v1/logs");
  u = parse_otlp_endpoint("http://gw:80/custom/v1/logs");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->path, "/custom/v1/logs");
  EXPECT_FALSE(parse_otlp_endpoint("https://gw:4318"));
  EXPECT_FALSE(parse_otlp_endpoint("gw:4318"));
  EXPECT_FALSE(parse_otlp_endpoint("http:///v1/logs"));
  EXPECT_FALSE(parse_otlp_endpoint("http://gw/v1/logs?x=1"));
}

TEST(OtlpSeverity, RuleSeveritiesMapToTheDataModelRanges) {
  EXPECT_EQ(otlp_severity("info").first, 9);
  EXPECT_EQ(otlp_severity("low").first, 13);
  EXPECT_EQ(otlp_severity("medium").first, 15);
  EXPECT_EQ(otlp_severity("high").first, 17);
  EXPECT_EQ(otlp_severity("critical").first, 21);
  EXPECT_EQ(otlp_severity("critical").second, "critical");
  EXPECT_EQ(otlp_severity("").first, 9);
  EXPECT_EQ(otlp_severity("").second, "INFO");
}

TEST(OtlpBackoff, DoublesUpToTheCapAndHonoursRetryAfterSeconds) {
  EXPECT_EQ(backoff_delay(0, 250ms, 5s), 250ms);
  EXPECT_EQ(backoff_delay(1, 250ms, 5s), 500ms);
  EXPECT_EQ(backoff_delay(4, 250ms, 5s), 4000ms);
  EXPECT_EQ(backoff_delay(5, 250ms, 5s), 5000ms);
  EXPECT_EQ(backoff_delay(60, 250ms, 5s), 5000ms);
  EXPECT_EQ(parse_retry_after("3"), 3000ms);
  EXPECT_EQ(parse_retry_after(" 0 "), 0ms);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  EXPECT_TRUE(retryable_status(429));
  EXPECT_TRUE(retryable_status(503));
  EXPECT_FALSE(retryable_status(400));
  EXPECT_FALSE(retryable_status(404));
}

namespace {
// A local server answering each POST with the next of `codes` (the last repeats).
class FakeCollector {
 public:
  explicit FakeCollector(std::vector<int> codes) : codes_(std::move(codes)) {
    srv_.Post("/v1/logs", [this](const httplib::Request& req, httplib::Response& res) {
      size_t n = calls_.fetch_add(1);
      int code = codes_[std::min(n, codes_.size() - 1)];
      res.status = code;
      if (code == 503) res.set_header("Retry-After", "0");
      if (code == 200) bytes_ += req.body.size();
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    th_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeCollector() {
    srv_.stop();
    th_.join();
  }
  OtlpUrl url() const { return {"http://127.0.0.1:" + std::to_string(port_), "/v1/logs"}; }
  size_t calls() const { return calls_; }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<int> codes_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread th_;
  std::atomic<size_t> calls_{0}, bytes_{0};
};

OtlpConfig fast(OtlpUrl url) {
  OtlpConfig c;
  c.url = std::move(url);
  c.batch_delay = 20ms;
  c.retry_initial = 10ms;
  c.retry_max = 40ms;
  c.retry_budget = 500ms;
  c.shutdown_budget = 1s;
  c.request_timeout = 1s;
  return c;
}


LogItem item(int i) {
  return {1000u + static_cast<uint64_t>(i), R"({"event":"sysctl_read","sysctl":"x"})"};
}
}  // namespace

TEST(OtlpExporter, RetriesServerErrorsThenDelivers) {
  FakeCollector fc({503, 502, 200});
  OtlpExporter ex(fast(fc.url()));
  for (int i = 0; i < 3; ++i) ex.enqueue(item(i));
  ex.shutdown();
  ExportStats s = ex.stats();
  EXPECT_EQ(s.records, 3u);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.batches, 1u);
  EXPECT_EQ(s.failed_requests, 2u);
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_EQ(fc.calls(), 3u);
  EXPECT_GT(fc.bytes(), 0u);
}

TEST(OtlpExporter, ALoneRecordLeavesAfterTheBatchDelay) {
  FakeCollector fc({200});
  OtlpExporter ex(fast(fc.url()));
  ex.enqueue(item(0));
  for (int i = 0; i < 100 && ex.stats().sent == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ex.stats().sent, 1u);  // without waiting for shutdown
  ex.shutdown();
}

TEST(OtlpExporter, ARejectedBatchIsDroppedAndCounted) {
  FakeCollector fc({400});
  OtlpExporter ex(fast(fc.url()));
  for (int i = 0; i < 4; ++i) ex.enqueue(item(i));
  ex.shutdown();
  ExportStats s = ex.stats();
  EXPECT_EQ(s.sent, 0u);
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::Rejected)], 4u);
  EXPECT_EQ(fc.calls(), 1u);  // not retried
  EXPECT_NE(ex.summary().find("4 dropped (rejected 4)"), std::string::npos) << ex.summary();
  sysctlscope::metrics::Metrics m;
  m.set_extra([&ex] { return ex.counters(); });
  EXPECT_NE(m.render().find("sysctlscope_otlp_dropped_records_total{reason=\"rejected\"} 4\n"),
            std::string::npos);
}

TEST(OtlpExporter, NoReceiverMeansRetriesExhaustedNotSilence) {
  const int port = sstest::free_port();
  OtlpExporter ex(fast({"http://127.0.0.1:" + std::to_string(port), "/v1/logs"}));
  for (int i = 0; i < 5; ++i) ex.enqueue(item(i));
  std::this_thread::sleep_for(1s);  // > batch delay + retry budget
  ExportStats s = ex.stats();
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::RetriesExhausted)], 5u);
  ex.shutdown();
  EXPECT_EQ(ex.stats().sent + ex.stats().dropped_total(), 5u);
}

TEST(OtlpExporter, AFullQueueDropsTheExcessAndShutdownCountsTheRest) {
  const int port = sstest::free_port();
  OtlpConfig c = fast({"http://127.0.0.1:" + std::to_string(port), "/v1/logs"});
  c.queue_max = 2;
  c.batch_max = 8;      // never reached (a full batch would leave at once, racing the enqueues)
  c.batch_delay = 10s;  // nothing leaves before shutdown...
  c.retry_budget = 10s;
  c.shutdown_budget = 100ms;  // ...and shutdown cannot deliver
  OtlpExporter ex(c);
  for (int i = 0; i < 5; ++i) ex.enqueue(item(i));
  ex.shutdown();
  ExportStats s = ex.stats();
  EXPECT_EQ(s.records, 5u);
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::QueueFull)], 3u);
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::Shutdown)], 2u);
  EXPECT_EQ(s.sent, 0u);
}

// ---- attributes made from the Event agree with the JSON line ---------------

namespace {

// docs/otlp.md's mapping applied to the JSON line (the harness's, shared with
// the receiver test): the specification the Event-based attributes must meet.
std::vector<std::pair<std::string, nlohmann::json>> attrs_of_line(const std::string& line) {
  std::vector<std::pair<std::string, nlohmann::json>> a;
  const nlohmann::ordered_json want = sstest::otlp_expected_attributes(nlohmann::ordered_json::parse(line));
  for (const auto& [k, v] : want.items()) a.push_back({k, v});
  return a;
}

std::vector<std::pair<std::string, nlohmann::json>> attrs_of_item(const LogItem& it) {
  std::vector<std::pair<std::string, nlohmann::json>> a;
  for (const auto& x : it.attrs) {
    std::string key = (x.ours ? "sysctlscope." : "") + std::string(x.key) + (x.hex ? "_hex" : "");
    std::visit([&](const auto& v) { a.push_back({key, nlohmann::json(v)}); }, x.value);
  }
  return a;
}

void expect_same_attrs(const sysctlscope::Event& e, const std::string& where) {
  LogItem it = make_log_item(e);
  EXPECT_EQ(it.json, sysctlscope::event_to_json(e)) << where;
  auto want = attrs_of_line(it.json);
  auto got = attrs_of_item(it);
  ASSERT_EQ(got.size(), want.size()) << where << "\n" << it.json;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first) << where;
    // JSON numbers: compare by value (the line's are unsigned, ours int64).
    if (want[i].second.is_number())
      EXPECT_EQ(got[i].second.get<int64_t>(), want[i].second.get<int64_t>()) << where << " " << got[i].first;
    else
      EXPECT_EQ(got[i].second, want[i].second) << where << " " << got[i].first;
  }
  auto sev = nlohmann::json::parse(it.json).value("severity", std::string());
  EXPECT_EQ(it.severity, otlp_severity(sev).first) << where;
}

}  // namespace

// Every event of the replay corpus (seed scenario, blocked writes, churn,
// drift, detections): the attributes made from the Event are exactly what the
// documented mapping gives from its JSON line, in the same order.
TEST(OtlpRecord, AttributesFromTheEventMatchTheJsonLineOnTheReplayCorpus) {
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(SS_SOURCE_DIR "/tests/corpus")) {
    if (f.path().extension() != ".jsonl") continue;
    std::ifstream in(f.path());
    std::string line;
    for (int no = 1; std::getline(in, line); ++no) {
      auto j = nlohmann::ordered_json::parse(line);
      if (!j.contains("event") || j["event"] == "session_start" || j["event"] == "session_end")
        continue;
      sysctlscope::Event e = sysctlscope::event_from_json(j);
      if (!e.unknown_json.empty()) continue;  // a replayed oddity; live events have none
      expect_same_attrs(e, f.path().filename().string() + ":" + std::to_string(no));
      ++n;
    }
  }
  EXPECT_GE(n, 60u);
}

// Bytes that are not UTF-8 (a value, a comm): U+FFFD as in the JSON line, and
// the exact bytes in the `_hex` twin.
TEST(OtlpRecord, InvalidUtf8AndControlBytesMatchTheJsonLine) {
  sysctlscope::Event e;
  e.time_ns = 5;
  e.pid = e.tid = 7;
  e.comm = std::string("ev\xff\x01l", 5);
  e.cgroup_id = 1;
  e.netns = 4026531840u;
  sysctlscope::SysctlWrite w;
  w.sysctl = "kernel.domainname";
  w.old_value = std::string("a\xc3(b\n", 5);
  w.value = std::string("\x1b[31m\xfe", 6);
  e.data = w;
  expect_same_attrs(e, "invalid utf-8");
  LogItem it = make_log_item(e);
  bool hex = false;
  for (const auto& a : it.attrs)
    if (a.hex && a.key == "value") hex = std::get<std::string>(a.value) == "1b5b33316dfe";
  EXPECT_TRUE(hex);
}

// A detection: its rule's severity is the record's (high: 17), and an actor
// known from the causing write is there.
TEST(OtlpRecord, ADetectionCarriesItsSeverityAndActor) {
  sysctlscope::Event e;
  e.time_ns = 9;
  e.pid = e.tid = 31;
  e.comm = "runc:[2:INIT]";
  e.netns = 4026532000u;
  e.container = sysctlscope::ContainerInfo{};
  e.container->id = "abc";
  e.container->runtime = sysctlscope::Runtime::Runc;
  sysctlscope::Detection d;
  d.rule = "escape.core_pattern";
  d.pack = "escape";
  d.severity = "high";
  d.technique = "T1611";
  d.sysctl = "kernel.core_pattern";
  d.trigger = "sysctl_blocked";
  d.result = "EROFS";
  d.blocked = true;
  e.data = d;
  expect_same_attrs(e, "detection");
  LogItem it = make_log_item(e);
  EXPECT_EQ(it.severity, 17);
  EXPECT_EQ(it.severity_text, "high");
}
