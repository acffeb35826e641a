// SPDX-License-Identifier: Apache-2.0
// --otlp-endpoint against the real kernel and a receiver that decodes what
// arrives with OpenTelemetry's own protobuf root (tests/otlp/receiver.js,
// npm @opentelemetry/otlp-transformer pinned in tests/otlp/package-lock.json,
// installed by scripts/deps.sh): the records equal the JSON stream, event by
// event, and a receiver killed mid-stream loses nothing silently.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "harness.hpp"

extern char** environ;

using namespace sstest;
using namespace std::chrono_literals;

namespace {

const std::string kReceiverDir = std::string(SS_SOURCE_DIR) + "/tests/otlp";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Complete lines only: the receiver may be writing the last one.
std::vector<Json> complete_json_lines(const std::string& text) {
  std::vector<Json> v;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // incomplete line
    if (nl > pos) v.push_back(Json::parse(text.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return v;
}

// node tests/otlp/receiver.js, its decoded records in a file.
class Receiver {
 public:
  Receiver() {
    const std::string port_file = dir_.path() + "/port";
    out_ = dir_.path() + "/records.jsonl";
    err_ = dir_.path() + "/stderr";
    std::vector<std::string> argv = {"node", kReceiverDir + "/receiver.js", port_file};
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawnp(&pid_, "node", &fa, nullptr, av.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 200 && pid_ > 0 && port_ == 0; ++i) {
      std::this_thread::sleep_for(50ms);
      std::string p = slurp(port_file);
      if (!p.empty()) port_ = std::stoi(p);
    }
  }
  ~Receiver() { kill(SIGTERM); }
  void kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Json> records() const { return complete_json_lines(slurp(out_)); }
  std::string stderr_text() const { return slurp(err_); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string out_, err_;
};

// "2026-12-05T17:12:06.031844028Z" -> ns since the epoch, as a decimal string.
std::string rfc3339_ns(const std::string& t) {
  struct tm tm {};
  const char* rest = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  EXPECT_TRUE(rest && *rest == '.') << t;
  uint64_t s = static_cast<uint64_t>(timegm(&tm));
  std::string frac;
  for (++rest; *rest >= '0' && *rest <= '9'; ++rest) frac += *rest;
  frac.resize(9, '0');
  return std::to_string(s * 1'000'000'000ull + std::stoull(frac));
}

Json sorted(const Json& o) {
  std::map<std::string, Json> m;
  for (auto it = o.begin(); it != o.end(); ++it) m[it.key()] = it.value();
  Json s = Json::object();
  for (auto& [k, v] : m) s[k] = v;
  return s;
}

std::string hostname() {
  char h[256] = {};
  ::gethostname(h, sizeof h - 1);
  return h;
}

// "otlp: N records sent in B batches to URL, D dropped (...)" on stderr.
struct Summary {
  uint64_t sent = 0, batches = 0, dropped = 0;
  bool found = false;
};
Summary parse_summary(const std::string& err) {
  std::smatch m;
  static const std::regex re(R"(otlp: (\d+) records sent in (\d+) batches to \S+, (\d+) dropped)");
  Summary s;
  if (std::regex_search(err, m, re)) {
    s = {std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), true};
  }
  return s;
}

uint64_t metric(const std::string& text, const std::string& series) {
  size_t p = text.find("\n" + series + " ");
  if (p == std::string::npos) return UINT64_MAX;
  return std::stoull(text.substr(p + series.size() + 2));
}

constexpr const char* kKeepalive = "net.ipv4.tcp_keepalive_*";

// Writes and reads in a scratch netns: `n` of each.
void keepalive_activity(int n) {
  std::string cmd = "unshare -n sh -c 'for i in $(seq 1 " + std::to_string(n) +
                    "); do echo $((100+i)) > /proc/sys/net/ipv4/tcp_keepalive_time; "
                    "cat /proc/sys/net/ipv4/tcp_keepalive_intvl >/dev/null; done'";
  auto r = sh(cmd);
  ASSERT_EQ(r.status, 0) << r.err;
}

}  // namespace

TEST(Otlp, ReceiverDecodesEveryEventAsTheJsonStream) {
  Receiver rx;
  ASSERT_GT(rx.port(), 0) << "receiver did not start (scripts/deps.sh installs tests/otlp): "
                          << rx.stderr_text();
  ::setenv("K8S_NODE_NAME", "node-a", 1);
  Tracer t({"--sysctl", kKeepalive, "--otlp-endpoint", rx.url()});
  ::unsetenv("K8S_NODE_NAME");
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  keepalive_activity(20);
  // A Kubernetes-style container, so records carry container and pod attributes.
  std::string id;
  {
    KubePod pod;  // its cgroups go before the tracer stops
    const RuncContainer::Options o = pod.container("nginx");
    id = o.id;
    RuncContainer c(o);
    ASSERT_GT(c.start_detached(), 0);
    ASSERT_EQ(c.exec({"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"}).status, 0);
    ASSERT_TRUE(t.wait_for([&](const Json& e) {
      return e["container"].is_object() && e["container"]["id"] == id;
    })) << t.stderr_text();
  }
  auto events = t.stop();
  ASSERT_EQ(t.exit_status(), 0) << t.stderr_text();
  ASSERT_GE(events.size(), 41u);

  Summary s = parse_summary(t.stderr_text());
  ASSERT_TRUE(s.found) << t.stderr_text();
  EXPECT_EQ(s.sent, events.size());
  EXPECT_EQ(s.dropped, 0u);
  // The sender has finished before the tracer exits: everything is there.
  auto recs = rx.records();
  ASSERT_EQ(recs.size(), events.size()) << rx.stderr_text();
  size_t with_pod = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    const Json& r = recs[i];
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(Json::parse(r["body"].get<std::string>()), e);
    EXPECT_EQ(r["time_unix_nano"], rfc3339_ns(e["time"]));
    EXPECT_EQ(r["severity_number"], 9);
    EXPECT_EQ(r["severity_text"], "INFO");
    EXPECT_EQ(sorted(r["attributes"]), sorted(sstest::otlp_expected_attributes(e)));
    EXPECT_EQ(r["resource"], (Json{{"service.name", "sysctlscope"},
                                   {"service.version", r["scope"]["version"]},
                                   {"host.name", hostname()},
                                   {"k8s.node.name", "node-a"}}));
    EXPECT_EQ(r["scope"]["name"], "sysctlscope");
    if (e["container"].is_object() && e["container"]["id"] == id) {
      ++with_pod;
      EXPECT_EQ(r["attributes"]["container.id"], id);
      EXPECT_EQ(r["attributes"]["k8s.pod.name"], "web-0");
      EXPECT_EQ(r["attributes"]["k8s.namespace.name"], "shop");
      EXPECT_EQ(r["attributes"]["container.name"], "nginx");
    }
  }
  EXPECT_GE(with_pod, 1u);
}

TEST(Otlp, JsonProtocolDecodesToTheSameRecords) {
  Receiver rx;
  ASSERT_GT(rx.port(), 0) << rx.stderr_text();
  Tracer t({"--sysctl", kKeepalive, "--otlp-endpoint", rx.url() + "/v1/logs", "--otlp-protocol",
            "http/json"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  keepalive_activity(5);
  auto events = t.stop();
  ASSERT_GE(events.size(), 10u);
  auto recs = rx.records();
  ASSERT_EQ(recs.size(), events.size()) << rx.stderr_text();
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(Json::parse(recs[i]["body"].get<std::string>()), events[i]);
    EXPECT_EQ(recs[i]["time_unix_nano"], rfc3339_ns(events[i]["time"]));
    EXPECT_EQ(sorted(recs[i]["attributes"]), sorted(sstest::otlp_expected_attributes(events[i])));
  }
}

TEST(Otlp, ReceiverKilledMidStreamLosesNothingSilently) {
  Receiver rx;
  ASSERT_GT(rx.port(), 0) << rx.stderr_text();
  const int mport = free_port();
  Tracer t({"--sysctl", kKeepalive, "--otlp-endpoint", rx.url(), "--metrics-addr",
            "127.0.0.1:" + std::to_string(mport)});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  keepalive_activity(5);
  // Delivered (batches leave within about a second)...
  for (int i = 0; i < 100 && rx.records().size() < 10; ++i) std::this_thread::sleep_for(100ms);
  const size_t delivered = rx.records().size();
  ASSERT_GE(delivered, 10u) << rx.stderr_text();
  // ...then the receiver dies and more events come.
  rx.kill(SIGKILL);
  keepalive_activity(5);
  ASSERT_TRUE(t.wait_for([](const Json&) { return false; }, 1s) == std::nullopt);
  const size_t before_stop = t.events().size();
  // Retries give up after their budget (10 s): the drops show in /metrics.
  httplib::Client c("127.0.0.1", mport);
  std::string text;
  uint64_t dropped = 0;
  for (int i = 0; i < 250; ++i) {
    if (auto r = c.Get("/metrics"); r && r->status == 200) {
      text = r->body;
      dropped =
          metric(text, "sysctlscope_otlp_dropped_records_total{reason=\"retries_exhausted\"}");
      if (dropped != UINT64_MAX && dropped + delivered >= before_stop) break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(dropped + delivered, before_stop) << text;
  EXPECT_EQ(metric(text, "sysctlscope_otlp_sent_records_total"), delivered) << text;
  EXPECT_GE(metric(text, "sysctlscope_otlp_failed_requests_total"), 1u) << text;
  auto events = t.stop();
  ASSERT_EQ(t.exit_status(), 0) << t.stderr_text();
  Summary s = parse_summary(t.stderr_text());
  ASSERT_TRUE(s.found) << t.stderr_text();
  EXPECT_EQ(s.sent, delivered);
  EXPECT_EQ(s.sent + s.dropped, events.size()) << t.stderr_text();
  EXPECT_GE(s.dropped, 10u);
  EXPECT_NE(t.stderr_text().find("otlp: POST " + rx.url() + "/v1/logs failed"), std::string::npos)
      << t.stderr_text();
}

TEST(Otlp, BadOtlpOptionsAreOneLineErrors) {
  auto r = run({binary(), "trace", "--otlp-endpoint", "https://collector:4318"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("https is not supported"), std::string::npos) << r.err;
  r = run({binary(), "trace", "--otlp-endpoint", "collector:4318"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("must be an http:// URL"), std::string::npos) << r.err;
  r = run({binary(), "trace", "--otlp-endpoint", "http://c:4318", "--otlp-protocol", "grpc"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--otlp-protocol must be http/protobuf or http/json"), std::string::npos)
      << r.err;
}

// A detection's rule severity is the record's: high -> 17 (ERROR), the
// rule's word as the text, the same body as the stream.
TEST(Otlp, DetectionCarriesItsRuleSeverity) {
  Receiver rx;
  ASSERT_GT(rx.port(), 0) << rx.stderr_text();
  SysctlGuard g("kernel.kptr_restrict");
  Tracer t(
      {"--sysctl", "kernel.kptr_restrict", "--rules", "hardening", "--otlp-endpoint", rx.url()});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  g.set(g.original() == "1" ? "2" : "1");
  ASSERT_TRUE(t.wait_for([](const Json& e) { return e["event"] == "detection"; }))
      << t.stderr_text();
  auto events = t.stop();
  auto recs = rx.records();
  ASSERT_EQ(recs.size(), events.size()) << rx.stderr_text();
  size_t detections = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(Json::parse(recs[i]["body"].get<std::string>()), events[i]);
    if (events[i]["event"] != "detection") continue;
    ++detections;
    EXPECT_EQ(events[i]["rule"], "hardening.kernel_pointers");
    EXPECT_EQ(recs[i]["severity_number"], 17);
    EXPECT_EQ(recs[i]["severity_text"], "high");
  }
  EXPECT_EQ(detections, 1u);
}
