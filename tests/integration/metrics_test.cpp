// SPDX-License-Identifier: Apache-2.0
// --metrics-addr against the real kernel and a real Prometheus (Debian's
// `prometheus`, started here on 127.0.0.1 with a temporary config and data
// directory, stopped at the end): Prometheus scrapes the tracer, and what
// its HTTP API reports equals what the tracer printed, series by series.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "harness.hpp"

extern char** environ;

using namespace sstest;
using namespace std::chrono_literals;

namespace {

// A real Prometheus server scraping `target` every second.
class Prometheus {
 public:
  explicit Prometheus(const std::string& target) : port_(free_port()) {
    std::ofstream(dir_.path() + "/prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: sysctlscope\n    static_configs:\n"
        << "      - targets: ['" << target << "']\n";
    std::vector<std::string> argv = {"prometheus",
                                     "--config.file=" + dir_.path() + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir_.path() + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"};
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = dir_.path() + "/log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawnp(&pid_, "prometheus", &fa, nullptr, av.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Prometheus() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool wait_ready() {
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 300; ++i) {
      if (auto r = c.Get("/-/ready"); r && r->status == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // Instant query: label set (as "k=v,...") -> value.
  std::map<std::string, double> query(const std::string& q, const std::string& label) {
    httplib::Client c("127.0.0.1", port_);
    std::map<std::string, double> out;
    auto r = c.Get("/api/v1/query", httplib::Params{{"query", q}}, httplib::Headers{});
    if (!r || r->status != 200) return out;
    auto j = Json::parse(r->body);
    for (const auto& s : j["data"]["result"])
      out[s["metric"].value(label, "")] = std::stod(s["value"][1].get<std::string>());
    return out;
  }
  std::string log() const {
    std::ifstream f(dir_.path() + "/log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

std::string get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  auto r = c.Get(path);
  if (status) *status = r ? r->status : -1;
  return r ? r->body : "";
}

std::map<std::string, double> count_by(const std::vector<Json>& evs, const std::string& field,
                                       const std::string& type = {}) {
  std::map<std::string, double> m;
  for (const auto& e : evs)
    if (type.empty() || e["event"] == type) m[e[field].get<std::string>()] += 1;
  return m;
}

// Prometheus' series that are not 0, as a map like count_by's.
std::map<std::string, double> nonzero(std::map<std::string, double> m) {
  std::erase_if(m, [](const auto& kv) { return kv.second == 0; });
  return m;
}
}  // namespace

TEST(Metrics, PrometheusScrapesTheSameCountsAsTheOutput) {
  // Program statistics on while this fd lives (no sysctl is changed).
  int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  ASSERT_GE(stats_fd, 0);
  ScratchCgroup cg;
  const int mport = free_port();
  Tracer t({"--cgroup", cg.path(), "--metrics-addr", "127.0.0.1:" + std::to_string(mport)});
  // /healthz: 503 until the probes are attached, then 200.
  std::vector<int> codes;
  for (int i = 0; i < 1500 && (codes.empty() || codes.back() != 200); ++i) {
    int st = -1;
    get(mport, "/healthz", &st);
    if (st > 0 && (codes.empty() || codes.back() != st)) codes.push_back(st);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ASSERT_EQ(codes, (std::vector<int>{503, 200})) << t.stderr_text();

  Prometheus prom("127.0.0.1:" + std::to_string(mport));
  ASSERT_TRUE(prom.wait_ready()) << prom.log();

  // In the scratch cgroup: reads, an accepted and a refused write in a new
  // netns, and a write refused by a read-only /proc/sys mount.
  const std::string ro = "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys; ";
  auto r = sh("sh -c 'echo $$ > " + cg.path() +
              "/cgroup.procs; "
              "for i in 1 2 3 4 5; do cat /proc/sys/kernel/ostype >/dev/null; done; "
              "unshare -n sh -c \"echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; "
              "echo bogus > /proc/sys/net/ipv4/tcp_keepalive_time\"; "
              "unshare -n -m sh -c \"" + ro +
              "echo 1 > /proc/sys/net/ipv4/tcp_syncookies\"; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return is_event(e, "sysctl_blocked"); }))
      << t.stderr_text();
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_write") && e["value"] == "bogus";
  })) << t.stderr_text();
  std::this_thread::sleep_for(300ms);  // held writes and anything behind them are out

  // What the trace printed.
  auto evs = t.events();
  const auto types = count_by(evs, "event");
  const auto results = count_by(evs, "result", "sysctl_write");
  const auto blocked = count_by(evs, "blocked_by", "sysctl_blocked");
  EXPECT_EQ(select(evs, [](const Json& e) { return is_event(e, "sysctl_read", "kernel.ostype"); })
                .size(),
            5u);
  EXPECT_EQ(types.at("sysctl_write"), 2);
  EXPECT_EQ(types.at("sysctl_blocked"), 1);
  EXPECT_GE(types.at("netns_create"), 2);

  // Prometheus catches up within a few scrapes and then agrees exactly.
  std::map<std::string, double> p_types, p_results, p_blocked;
  for (int i = 0; i < 150; ++i) {
    p_types = nonzero(prom.query("sysctlscope_events_total", "event"));
    p_results = nonzero(prom.query("sysctlscope_sysctl_write_results_total", "result"));
    p_blocked = nonzero(prom.query("sysctlscope_sysctl_blocked_total", "blocked_by"));
    if (p_types == types && p_results == results && p_blocked == blocked) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(p_types, types) << prom.log();
  EXPECT_EQ(p_results, results);
  EXPECT_EQ(p_blocked, blocked);
  EXPECT_EQ(prom.query("sysctlscope_lost_events_total", "")[""], 0);
  auto up = prom.query("up", "job");
  EXPECT_EQ(up["sysctlscope"], 1);
  auto build = prom.query("sysctlscope_build_info", "version");
  EXPECT_EQ(build.size(), 1u);

  // The exposition itself passes Prometheus' linter; program statistics
  // are there because the kernel counts them (stats_fd).
  const std::string text = get(mport, "/metrics");
  auto lint = run({"promtool", "check", "metrics"}, text);
  EXPECT_EQ(lint.status, 0) << lint.out << lint.err << text;
  // The gauge is the sysctl's own setting, which an enable-stats fd leaves alone.
  EXPECT_NE(text.find("\nsysctlscope_bpf_stats_enabled " + read_sysctl("kernel.bpf_stats_enabled") +
                      "\n"),
            std::string::npos)
      << text;
  const std::string runs = "\nsysctlscope_bpf_program_runs_total{program=\"ss_sysctl\"} ";
  auto pos = text.find(runs);
  ASSERT_NE(pos, std::string::npos) << text;
  EXPECT_GE(std::stoull(text.substr(pos + runs.size())), 8u);  // at least our own 8 sysctl events
  EXPECT_NE(text.find("sysctlscope_bpf_program_run_seconds_total{program=\"ss_sysctl\"} 0."),
            std::string::npos)
      << text;
  ::close(stats_fd);

  // Stopping: the output and the counters end equal.
  evs = t.stop();
  EXPECT_EQ(t.exit_status(), 0) << t.stderr_text();
  EXPECT_EQ(count_by(evs, "event"), types);
}

TEST(Metrics, BadMetricsOptionsAreOneLineErrors) {
  auto r = run({binary(), "trace", "--metrics-addr", "localhost"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--metrics-addr must be HOST:PORT"), std::string::npos) << r.err;
  r = run({binary(), "trace", "--metrics-label-filter", "pod"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--metrics-label-filter needs --metrics-addr"), std::string::npos) << r.err;
  // A port already taken: exit 1 before anything is loaded.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  r = run({binary(), "trace", "--metrics-addr", "127.0.0.1:" + std::to_string(ntohs(a.sin_port))});
  ::close(fd);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("bind metrics endpoint"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// `record` counts what it records: at the end the endpoint's per-type
// counters equal the recording's session_end.by_type.
TEST(Metrics, RecordCountsWhatItRecords) {
  TempDir dir;
  ScratchCgroup cg;
  const int mport = free_port();
  const std::string file = dir.path() + "/rec.jsonl";
  Tracer t({"-o", file, "--cgroup", cg.path(), "--metrics-addr", "127.0.0.1:" + std::to_string(mport)},
           {"record"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = sh("sh -c 'echo $$ > " + cg.path() +
              "/cgroup.procs; for i in 1 2 3; do cat /proc/sys/kernel/ostype >/dev/null; done'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = get(mport, "/metrics");
    if (text.find("sysctlscope_events_total{event=\"sysctl_read\"} 3\n") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  t.terminate();
  EXPECT_EQ(t.exit_status(), 0) << t.stderr_text();
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  auto end = Json::parse(last);
  ASSERT_EQ(end["record"], "session_end") << last;
  for (const auto& [type, n] : end["by_type"].items())
    EXPECT_NE(text.find("sysctlscope_events_total{event=\"" + type + "\"} " +
                        std::to_string(n.get<uint64_t>()) + "\n"),
              std::string::npos)
        << type << " " << n << "\n"
        << text;
  EXPECT_EQ(end["by_type"].value("sysctl_read", 0), 3);
}
