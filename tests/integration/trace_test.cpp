// SPDX-License-Identifier: Apache-2.0
// The foundation against the real kernel: exact events for reads and writes
// in a scratch netns, loss accounting, clean detach.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "harness.hpp"

using namespace sstest;

namespace {

const char* kKeepalive = "net.ipv4.tcp_keepalive_time";

// Ids of the cgroup/sysctl programs attached to the cgroup2 root. Other
// tracers may run concurrently (developers' machines), so tests compare sets.
std::set<int> sysctl_progs() {
  auto r = run({"bpftool", "-j", "cgroup", "show", cgroup2_mount()});
  std::set<int> ids;
  if (r.status != 0 || r.out.find('[') == std::string::npos)
    return ids;  // none: bpftool prints nothing
  for (auto& p : Json::parse(r.out))
    if (p.value("attach_type", "") == "cgroup_sysctl") ids.insert(p.value("id", 0));
  return ids;
}

}  // namespace

TEST(Trace, PrivilegedSuiteRunsAsRoot) {
  ASSERT_EQ(geteuid(), 0u) << "the privileged tests must run as root (see README)";
}

TEST(Trace, ExactEventsForWriteAndReadInScratchNetns) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // The shell itself writes (builtin echo), cat reads: one event each.
  auto r =
      sh("unshare -n sh -c 'echo $$; readlink /proc/self/ns/net; "
         "echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; cat "
         "/proc/sys/net/ipv4/tcp_keepalive_time'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream out(r.out);
  pid_t shpid;
  std::string nsline, value;
  out >> shpid >> nsline >> value;
  ASSERT_EQ(value, "600");
  uint64_t netns = std::stoull(nsline.substr(nsline.find('[') + 1));
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["netns"] == netns;
  }));
  auto evs = t.stop();
  ASSERT_EQ(t.exit_status(), 0) << t.stderr_text();

  auto mine =
      select(evs, [&](const Json& e) { return e.contains("netns") && e["netns"] == netns; });
  auto writes = select(mine, [](const Json& e) { return is_event(e, "sysctl_write"); });
  auto reads = select(mine, [](const Json& e) { return is_event(e, "sysctl_read"); });
  ASSERT_EQ(writes.size(), 1u);
  ASSERT_EQ(reads.size(), 1u) << "one cat must be one sysctl_read";
  const Json& w = writes[0];
  EXPECT_EQ(w["sysctl"], kKeepalive);
  EXPECT_EQ(w["old_value"], "7200");  // a fresh netns starts at the default
  EXPECT_EQ(w["value"], "600");
  EXPECT_EQ(w["file_pos"], 0);
  EXPECT_EQ(w["proc"]["pid"], shpid);
  EXPECT_EQ(w["proc"]["tid"], shpid);
  EXPECT_EQ(w["proc"]["comm"], "sh");
  EXPECT_EQ(w["proc"]["uid"], 0);
  EXPECT_EQ(w["cgroup"]["id"], cgroup_id_of_pid(getpid()));
  EXPECT_TRUE(w["container"].is_null());
  const Json& rd = reads[0];
  EXPECT_EQ(rd["value"], "600");
  EXPECT_EQ(rd["proc"]["comm"], "cat");
  EXPECT_EQ(rd["proc"]["ppid"], shpid);
  EXPECT_EQ(rd["cgroup"]["id"], cgroup_id_of_pid(getpid()));
  EXPECT_FALSE(rd.contains("truncated"));
  // Time is RFC 3339 UTC with nanoseconds.
  EXPECT_EQ(rd["time"].get<std::string>().size(),
            std::string("2026-11-22T11:00:29.123456789Z").size());
  EXPECT_EQ(r.out.find("7200"), std::string::npos);
}

TEST(Trace, TabSeparatedValuesStayAsProcPrintsThem) {
  Tracer t({"--sysctl", "net.ipv4.tcp_rmem", "--type", "sysctl_read"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = sh("unshare -n cat /proc/sys/net/ipv4/tcp_rmem");
  ASSERT_EQ(r.status, 0);
  std::string expect = r.out.substr(0, r.out.size() - 1);
  auto e =
      t.wait_for([&](const Json& j) { return is_event(j, "sysctl_read", "net.ipv4.tcp_rmem"); });
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["value"], expect);
  EXPECT_NE(expect.find('\t'), std::string::npos);
  t.stop();
}

TEST(Trace, HostileValueIsValidJson) {
  Tracer t({"--type", "sysctl_write", "--sysctl", "net.ipv4.tcp_congestion_control"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // Rejected by the kernel (ENOENT), but the hook sees the bytes first.
  sh("unshare -n sh -c 'printf \"\\033[2J\\377bbr\" > /proc/sys/net/ipv4/tcp_congestion_control'");
  auto e = t.wait_for([](const Json& j) { return is_event(j, "sysctl_write"); });
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["value_hex"], "1b5b324aff626272");
  EXPECT_EQ((*e)["value"],
            "\x1b[2J\xEF\xBF\xBD"
            "bbr");
  t.stop();
}

TEST(Trace, TinyRingBufferCountsEveryLostEvent) {
  // The hammer waits on stdin so the tracer can filter on its pid in-kernel.
  int go[2], outp[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(outp), 0);
  const long n = 20000;
  pid_t h = fork();
  if (h == 0) {
    dup2(go[0], 0);
    dup2(outp[1], 1);
    close(go[1]);
    close(outp[0]);
    execl(SYSCTL_HAMMER, SYSCTL_HAMMER, "/proc/sys/net/ipv4/tcp_keepalive_time",
          std::to_string(n).c_str(), (char*)nullptr);
    _exit(127);
  }
  close(go[0]);
  close(outp[1]);
  Tracer t({"--pid", std::to_string(h), "--ringbuf-size", "65536"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ASSERT_EQ(write(go[1], "go\n", 3), 3);
  close(go[1]);
  char buf[32] = {};
  ASSERT_GT(read(outp[0], buf, sizeof buf - 1), 0);
  close(outp[0]);
  int st;
  waitpid(h, &st, 0);
  ASSERT_EQ(atol(buf), n);
  usleep(300000);
  auto evs = t.stop();
  ASSERT_EQ(t.exit_status(), 0);
  long reads = 0, lost = 0;
  for (auto& e : evs) {
    if (is_event(e, "sysctl_read")) {
      EXPECT_EQ(e["proc"]["pid"], h);
      ++reads;
    }
    if (is_event(e, "lost")) lost += e["count"].get<long>();
  }
  EXPECT_GT(lost, 0);
  EXPECT_EQ(reads + lost, n) << "reads " << reads << " lost " << lost;
  EXPECT_NE(t.stderr_text().find(std::to_string(lost) + " lost"), std::string::npos)
      << t.stderr_text();
}

// Programs held by `pid`: BPF program and link fds show "prog_id:" in fdinfo.
std::set<int> progs_of(pid_t pid) {
  std::set<int> ids;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  std::error_code ec;
  for (auto& f : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);)
      if (line.rfind("prog_id:", 0) == 0) ids.insert(std::stoi(line.substr(8)));
  }
  return ids;
}

TEST(Trace, NothingStaysAttachedAfterExitOrSigkill) {
  for (int sig : {SIGTERM, SIGKILL}) {
    Tracer t({});
    ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
    // Our cgroup/sysctl program: attached to the root and held by the tracer
    // (other tracers may run on a developer's machine at the same time).
    std::set<int> ours;
    auto held = progs_of(t.pid());
    for (int id : sysctl_progs())
      if (held.count(id)) ours.insert(id);
    ASSERT_EQ(ours.size(), 1u) << "signal " << sig;
    t.stop(sig);
    if (sig == SIGTERM) {
      EXPECT_EQ(t.exit_status(), 0);
    }
    // Link fds die with the process (no pinning): detached right away.
    auto still = [&] { return sysctl_progs().count(*ours.begin()) > 0; };
    for (int i = 0; i < 50 && still(); ++i) usleep(20000);
    EXPECT_FALSE(still()) << "signal " << sig;
  }
}

TEST(Trace, CountAndDurationEndTheTrace) {
  Tracer t({"--count", "2", "--type", "sysctl_read"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  for (int i = 0; i < 5; ++i) sh("cat /proc/sys/kernel/ostype > /dev/null");
  ASSERT_TRUE(t.wait_exit(std::chrono::seconds(5))) << "--count 2 did not end the trace";
  EXPECT_EQ(t.exit_status(), 0);
  EXPECT_EQ(t.events().size(), 2u);

  auto r = run({binary(), "trace", "-o", "json", "--duration", "0.5", "--type", "netns_enter"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(Trace, NonRootGetsOneClearLine) {
  auto r = run({"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                "--inh-caps=-all", binary(), "trace"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("need CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Trace, TableOutputIsOneLinePerEvent) {
  Tracer t({"--sysctl", kKeepalive, "--type", "sysctl_write"}, {"trace", "-o", "table"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // Other tests may write the same sysctl meanwhile: our row is the one with
  // the writer's pid.
  auto w = sh("unshare -n sh -c 'echo $$; echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  std::string pid = w.out.substr(0, w.out.find('\n'));
  ASSERT_FALSE(pid.empty());
  usleep(400000);
  t.terminate();
  std::ifstream in(t.stdout_path());
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("TIME", 0), 0u);
  std::vector<std::string> ours;
  while (std::getline(in, line))
    if (line.find(" " + pid + " ") != std::string::npos) ours.push_back(line);
  ASSERT_EQ(ours.size(), 1u) << "rows for pid " << pid;
  const std::string& row = ours[0];
  EXPECT_NE(row.find("host"), std::string::npos) << row;
  EXPECT_NE(row.find("sysctl_write"), std::string::npos) << row;
  EXPECT_NE(row.find("net.ipv4.tcp_keepalive_time: 7200 -> 600"), std::string::npos) << row;
}
