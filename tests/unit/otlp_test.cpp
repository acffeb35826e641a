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
#include <thread>

#include "export/otlp.hpp"

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

// A loopback port nothing listens on: connections are refused at once.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
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
  EXPECT_NE(ex.render_prometheus().find(
                "sysctlscope_otlp_dropped_records_total{reason=\"rejected\"} 4\n"),
            std::string::npos);
}

TEST(OtlpExporter, NoReceiverMeansRetriesExhaustedNotSilence) {
  const int port = closed_port();
  OtlpExporter ex(fast({"http://127.0.0.1:" + std::to_string(port), "/v1/logs"}));
  for (int i = 0; i < 5; ++i) ex.enqueue(item(i));
  std::this_thread::sleep_for(1s);  // > batch delay + retry budget
  ExportStats s = ex.stats();
  EXPECT_EQ(s.dropped[static_cast<size_t>(DropReason::RetriesExhausted)], 5u);
  ex.shutdown();
  EXPECT_EQ(ex.stats().sent + ex.stats().dropped_total(), 5u);
}

TEST(OtlpExporter, AFullQueueDropsTheExcessAndShutdownCountsTheRest) {
  const int port = closed_port();
  OtlpConfig c = fast({"http://127.0.0.1:" + std::to_string(port), "/v1/logs"});
  c.queue_max = 2;
  c.batch_max = 2;
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
