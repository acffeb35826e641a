// SPDX-License-Identifier: Apache-2.0
// Write results by read-back (the default) against the real kernel: no
// write-syscall hook is attached, and results come from the value read back
// where the write applied. Host values are changed only under SysctlGuard.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"

using namespace sstest;

namespace {

std::vector<Json> writes_of(const std::vector<Json>& evs, long pid) {
  return select(
      evs, [&](const Json& e) { return is_event(e, "sysctl_write") && e["proc"]["pid"] == pid; });
}

// `unshare -n sleep`: a netns that outlives the processes writing into it.
struct NetnsHolder {
  pid_t pid = -1;
  NetnsHolder() {
    pid = fork();
    if (pid == 0) {
      execlp("unshare", "unshare", "-n", "sleep", "60", (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500 && netns_of(pid) == netns_of(0); ++i) usleep(10000);
  }
  ~NetnsHolder() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST(ReadbackE2E, ScratchNetnsOkAndNotAppliedWhileTheWriterLives) {
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // The shell stays 0.5 s in its netns: the read-back finds it there.
  auto r =
      sh("unshare -n sh -c 'echo $$; echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; "
         "echo abc > /proc/sys/net/ipv4/tcp_keepalive_intvl; "
         "echo \"4096 65536 1048576\" > /proc/sys/net/ipv4/tcp_rmem; sleep 0.5'");
  long pid = std::stol(r.out);
  auto evs = writes_of(t.stop(), pid);
  ASSERT_EQ(evs.size(), 3u) << t.stderr_text();
  EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(evs[0]["result"], "ok");
  EXPECT_EQ(evs[1]["sysctl"], "net.ipv4.tcp_keepalive_intvl");
  EXPECT_EQ(evs[1]["value"], "abc");
  EXPECT_EQ(evs[1]["result"], "not_applied");
  EXPECT_EQ(evs[2]["sysctl"], "net.ipv4.tcp_rmem");
  EXPECT_EQ(evs[2]["result"], "ok") << "/proc prints it tab-separated";
  for (auto& e : evs) {
    EXPECT_EQ(e["result_source"], "readback");
    EXPECT_FALSE(e.contains("bytes_written"));
  }
}

// `nsenter -t HOLDER -n sysctl -w`: the writer is gone when the event is
// handled; the netns is found through another process in it.
TEST(ReadbackE2E, WriterGoneNetnsHeldByAnotherProcess) {
  NetnsHolder h;
  ASSERT_NE(netns_of(h.pid), netns_of(0));
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string enter = "nsenter -t " + std::to_string(h.pid) + " -n ";
  auto a = sh(enter + "sh -c 'echo $$; echo 650 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  auto b = sh(enter + "sh -c 'echo $$; echo -5 > /proc/sys/net/ipv4/tcp_keepalive_probes'");
  long pa = std::stol(a.out), pb = std::stol(b.out);
  auto pred = [&](const Json& e) { return is_event(e, "sysctl_write") && e["proc"]["pid"] == pb; };
  ASSERT_TRUE(t.wait_for(pred)) << t.stderr_text();
  auto evs = t.stop();
  auto wa = writes_of(evs, pa), wb = writes_of(evs, pb);
  ASSERT_EQ(wa.size(), 1u);
  ASSERT_EQ(wb.size(), 1u);
  EXPECT_EQ(wa[0]["netns"], netns_of(h.pid));
  EXPECT_EQ(wa[0]["result"], "ok");
  EXPECT_EQ(wb[0]["result"], "not_applied") << wb[0].dump();
}

// Issue 19: the netns dies with its only process right after the writes.
// The writer's exit snapshot (taken before it leaves the netns) judges them.
TEST(ReadbackE2E, DeadNetnsJudgedAtTheWritersExit) {
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("unshare -n sh -c 'echo $$; echo abc > /proc/sys/net/ipv4/tcp_keepalive_time; "
         "echo nosuchcc > /proc/sys/net/ipv4/tcp_congestion_control; "
         "echo 321 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  long pid = std::stol(r.out);
  auto pred = [&](const Json& e) { return writes_of({e}, pid).size() == 1 && e["value"] == "321"; };
  ASSERT_TRUE(t.wait_for(pred)) << t.stderr_text();
  auto evs = writes_of(t.stop(), pid);
  ASSERT_EQ(evs.size(), 3u) << t.stderr_text();
  EXPECT_EQ(evs[0]["value"], "abc");
  EXPECT_EQ(evs[0]["result"], "not_applied");
  EXPECT_EQ(evs[1]["value"], "nosuchcc");
  EXPECT_EQ(evs[1]["result"], "not_applied");
  EXPECT_EQ(evs[2]["value"], "321");
  EXPECT_EQ(evs[2]["result"], "ok");
  for (auto& e : evs) EXPECT_EQ(e["result_source"], "readback");
}

// Issue 19: sysctls behind net_generic() slots (mptcp, br_netfilter,
// nf_defrag_ipv6), written in a netns that dies with its writer: judged from
// the exit snapshot, and the same verdicts as --write-results syscall on the
// same writes.
TEST(ReadbackE2E, DeadNetnsNetGenericSysctlsJudgedAtExit) {
  struct W {
    const char* path;  // under /proc/sys/net/
    const char* value;
    const char* result;
  };
  const W all[] = {
      {"mptcp/add_addr_timeout", "77", "ok"},
      {"mptcp/scheduler", "nosuchsched", "not_applied"},
      {"bridge/bridge-nf-call-iptables", "0", "ok"},
      {"netfilter/nf_conntrack_frag6_timeout", "1234", "ok"},
      {"netfilter/nf_conntrack_frag6_low_thresh", "99999999999",
       "not_applied"},  // above high_thresh
  };
  // The files a fresh netns of this kernel has (modules and config differ).
  std::vector<W> ws;
  std::string script = "echo $$;";
  for (const auto& w : all)
    if (sh(std::string("unshare -n test -w /proc/sys/net/") + w.path).status == 0) {
      ws.push_back(w);
      script += std::string(" echo ") + w.value + " > /proc/sys/net/" + w.path + ";";
    }
  ASSERT_FALSE(ws.empty());
  std::cout << "[ writes ] " << ws.size() << " of " << std::size(all) << " files exist here\n";
  for (const bool syscall : {false, true}) {
    std::vector<std::string> args = {"--type", "sysctl_write"};
    if (syscall) args.insert(args.end(), {"--write-results", "syscall"});
    Tracer t(args);
    ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
    auto r = sh("unshare -n sh -c '" + script + "' 2>/dev/null");
    long pid = std::stol(r.out);
    std::string last = std::string("net.") + ws.back().path;  // no dots inside these names
    std::replace(last.begin(), last.end(), '/', '.');
    auto pred = [&](const Json& e) {
      return writes_of({e}, pid).size() == 1 && e["sysctl"] == last;
    };
    ASSERT_TRUE(t.wait_for(pred)) << t.stderr_text();
    auto evs = writes_of(t.stop(), pid);
    ASSERT_EQ(evs.size(), ws.size()) << t.stderr_text();
    for (size_t i = 0; i < ws.size(); ++i) {
      EXPECT_EQ(evs[i]["value"], ws[i].value);
      const std::string got = evs[i]["result"].get<std::string>();
      if (syscall)
        EXPECT_EQ(got == "ok" ? "ok" : "not_applied", std::string(ws[i].result))
            << ws[i].path << " " << got;
      else
        EXPECT_EQ(got, ws[i].result) << ws[i].path << ": " << evs[i].dump();
    }
  }
}

// Only writers outside the tracer's (the host's) netns are marked for an exit
// snapshot: the host netns outlives every writer and is read back through
// /proc, so a host `sysctl -w` costs no ~30 KiB record at its exit.
TEST(ReadbackE2E, OnlyWritersOutsideTheHostNetnsAwaitAnExitSnapshot) {
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string same = read_sysctl("net.ipv4.tcp_keepalive_time");  // rewritten unchanged
  auto marked = [](long tid) {
    auto r = run({"bpftool", "-j", "map", "dump", "name", "net_writers"});
    if (r.status != 0) return false;
    // One map: its entries. Several (an earlier tracer's maps are freed a few
    // seconds after it exits, or a peer's tracer runs): one object per map.
    auto has = [&](const Json& entries) {
      for (const auto& kv : entries)
        if (kv.contains("formatted") && kv["formatted"]["key"] == tid) return true;
      return false;
    };
    const Json all = Json::parse(r.out);
    for (const auto& x : all)
      if (x.contains("elements") ? has(x["elements"]) : has(Json::array({x}))) return true;
    return false;
  };
  auto host =
      sh("sh -c 'echo $$; echo " + same + " > /proc/sys/net/ipv4/tcp_keepalive_time; sleep 5' >" +
         "/tmp/ss-host-writer.pid & sleep 1; cat /tmp/ss-host-writer.pid");
  auto scratch =
      sh("unshare -n sh -c 'echo $$; echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; sleep 5' >" +
         std::string("/tmp/ss-scratch-writer.pid & sleep 1; cat /tmp/ss-scratch-writer.pid"));
  const long hp = std::stol(host.out), sp = std::stol(scratch.out);
  auto pred = [&](const Json& e) { return writes_of({e}, sp).size() == 1; };
  ASSERT_TRUE(t.wait_for(pred)) << t.stderr_text();
  EXPECT_TRUE(marked(sp)) << "a writer in a scratch netns awaits its exit snapshot";
  EXPECT_FALSE(marked(hp)) << "a host writer needs none";
  auto evs = t.stop();
  auto hw = writes_of(evs, hp);
  ASSERT_EQ(hw.size(), 1u);
  EXPECT_EQ(hw[0]["result"], "ok");
  sh("kill " + std::to_string(hp) + " " + std::to_string(sp) +
     " 2>/dev/null; rm -f /tmp/ss-host-writer.pid "
     "/tmp/ss-scratch-writer.pid");
}

namespace {
// `n` short-lived netns in a row, each with a valid and an invalid write;
// the kernel hands each new netns the inode the previous one just freed.
// Returns the results per sysctl, "<value>=<result>" in order, per writer.
struct ChurnResult {
  std::vector<std::string> keepalive, fin;
  size_t unknown = 0;
  size_t detections = 0;  // with --rules: ordinary writes match no rule
  std::string err;
};
ChurnResult churn(const std::vector<std::string>& args, int n) {
  ChurnResult out;
  Tracer t(args);
  if (!t.wait_ready()) {
    out.err = t.stderr_text();
    return out;
  }
  auto r = sh("for i in $(seq 1 " + std::to_string(n) +
              "); do unshare -n sh -c \"echo \\$\\$; "
              "echo $((1000+i)) > /proc/sys/net/ipv4/tcp_keepalive_time; "
              "echo x$i > /proc/sys/net/ipv4/tcp_fin_timeout\"; done");
  std::set<long> pids;
  std::stringstream ss(r.out);
  for (std::string line; std::getline(ss, line);) pids.insert(std::stol(line));
  const long last = pids.empty() ? 0 : *pids.rbegin();
  t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.tcp_fin_timeout") && e["proc"]["pid"] == last;
  });
  for (const auto& e : t.stop()) {
    if (is_event(e, "detection")) ++out.detections;
    if (!is_event(e, "sysctl_write") || !pids.count(e["proc"]["pid"].get<long>())) continue;
    std::string v = e["value"].get<std::string>() + "=" + e["result"].get<std::string>();
    (e["sysctl"] == "net.ipv4.tcp_keepalive_time" ? out.keepalive : out.fin).push_back(v);
    if (e["result"] == "unknown") ++out.unknown;
  }
  out.err = t.stderr_text();
  return out;
}
}  // namespace

// Issue 19: 200 iterations of a netns that lives for microseconds, inodes
// reused at once. Default mode: every valid write ok, every invalid one
// not_applied, none unknown, none judged by the next netns of the inode;
// --write-results syscall on the same workload agrees (with errnos).
TEST(ReadbackE2E, RecycledNetnsChurnEveryWriteDefiniteAndTrue) {
  const int n = 200;
  std::vector<std::string> want_ka, want_fin, want_fin_errno;
  for (int i = 1; i <= n; ++i) {
    want_ka.push_back(std::to_string(1000 + i) + "=ok");
    want_fin.push_back("x" + std::to_string(i) + "=not_applied");
    want_fin_errno.push_back("x" + std::to_string(i) + "=EINVAL");
  }
  auto rb = churn({"--type", "sysctl_write,detection", "--rules", "escape,hardening"}, n);
  EXPECT_EQ(rb.unknown, 0u) << rb.err;
  EXPECT_EQ(rb.detections, 0u) << "ordinary writes match no rule";
  EXPECT_EQ(rb.keepalive, want_ka) << rb.err;
  EXPECT_EQ(rb.fin, want_fin) << rb.err;
  auto sc = churn({"--type", "sysctl_write", "--write-results", "syscall"}, n);
  EXPECT_EQ(sc.keepalive, want_ka) << sc.err;
  EXPECT_EQ(sc.fin, want_fin_errno) << sc.err;
}

// A write refused by another cgroup/sysctl program (EPERM) in a netns that
// dies with its writer: the value at the writer's exit is the old one.
TEST(ReadbackE2E, WriteRefusedByAnotherProgramInADyingNetns) {
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ScratchCgroup cg;
  auto denied =
      write_refused_by_another_program(t, cg, {SYSCTL_DENY_RUN, SYSCTL_DENY_OBJ, SYSCTL_OPENER});
  ASSERT_TRUE(denied) << t.stderr_text();
  EXPECT_EQ((*denied)["value"], "600");
  EXPECT_EQ((*denied)["result"], "not_applied");
  EXPECT_EQ((*denied)["result_source"], "readback");
}

// Issue 16: events leave in time order, also behind a write held for its
// result: the read between two writes is printed between them.
TEST(ReadbackE2E, EventsLeaveInTimeOrder) {
  Tracer t({"--type", "sysctl_write,sysctl_read"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("unshare -n sh -c 'echo $$; echo 700 > /proc/sys/net/ipv4/tcp_keepalive_time; "
         "read v < /proc/sys/net/ipv4/tcp_keepalive_time; "
         "echo 710 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  long pid = std::stol(r.out);
  ASSERT_TRUE(t.wait_for(
      [&](const Json& e) { return writes_of({e}, pid).size() == 1 && e["value"] == "710"; }));
  std::vector<std::string> seq;
  std::string prev;
  for (const auto& e : t.stop()) {
    if (!e["proc"].is_object() || e["proc"]["pid"] != pid) continue;
    seq.push_back(e["event"].get<std::string>() + ":" + e.value("value", ""));
    EXPECT_LE(prev, e["time"].get<std::string>()) << e.dump();
    prev = e["time"];
  }
  EXPECT_EQ(seq,
            (std::vector<std::string>{"sysctl_write:700", "sysctl_read:700", "sysctl_write:710"}));
}

// Issue 16: a second tracer's read-back thread is named, so a tracer sees
// another's setns() + read as sysctlscope's own (docs/events.md).
TEST(ReadbackE2E, AnotherTracersReadbackThreadIsNamed) {
  NetnsHolder h;
  Tracer watcher({"--type", "netns_enter,sysctl_read"});
  ASSERT_TRUE(watcher.wait_ready()) << watcher.stderr_text();
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // The writer stays in the netns: t reads the value back through it.
  auto r = sh("nsenter -t " + std::to_string(h.pid) +
              " -n sh -c 'echo $$; echo 620 > /proc/sys/net/ipv4/tcp_keepalive_time; sleep 0.3'");
  long pid = std::stol(r.out);
  auto ev = t.wait_for([&](const Json& e) { return writes_of({e}, pid).size() == 1; });
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["result"], "ok");
  auto enter = watcher.wait_for(
      [&](const Json& e) { return is_event(e, "netns_enter") && e["proc"]["pid"] == t.pid(); });
  ASSERT_TRUE(enter) << watcher.stderr_text();
  EXPECT_EQ((*enter)["proc"]["comm"], "sysctlscope-rb");
  t.stop();
  for (const auto& e : watcher.stop())
    if (e["proc"].is_object() && e["proc"]["pid"] == watcher.pid())
      ADD_FAILURE() << "own activity: " << e.dump();
}

// A global sysctl (restored by the guard) and a UTS one in a scratch UTS ns.
TEST(ReadbackE2E, GlobalAndUtsSysctls) {
  SysctlGuard g("kernel.printk_ratelimit");
  const std::string next = g.original() == "7" ? "8" : "7";
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // Two writers, one after the other: writes to one sysctl within one poll
  // batch are judged together (only the last by value).
  auto r = sh("sh -c 'echo $$; echo " + next + " > /proc/sys/kernel/printk_ratelimit'");
  long pid = std::stol(r.out);
  ASSERT_TRUE(t.wait_for(
      [&](const Json& e) { return is_event(e, "sysctl_write") && e["proc"]["pid"] == pid; }));
  auto r2 = sh("sh -c 'echo $$; echo x > /proc/sys/kernel/printk_ratelimit; exit 0'");
  long pid2 = std::stol(r2.out);
  auto u =
      sh("unshare -u sh -c 'echo $$; echo sstest-host > /proc/sys/kernel/hostname; sleep 0.5'");
  long upid = std::stol(u.out);
  auto evs = t.stop();
  auto w = writes_of(evs, pid), w2 = writes_of(evs, pid2);
  ASSERT_EQ(w.size(), 1u) << t.stderr_text();
  ASSERT_EQ(w2.size(), 1u) << t.stderr_text();
  EXPECT_EQ(w[0]["value"], next);
  EXPECT_EQ(w[0]["result"], "ok");
  EXPECT_EQ(w2[0]["value"], "x");
  EXPECT_EQ(w2[0]["result"], "not_applied");
  auto uw = writes_of(evs, upid);
  ASSERT_EQ(uw.size(), 1u);
  EXPECT_EQ(uw[0]["sysctl"], "kernel.hostname");
  EXPECT_EQ(uw[0]["result"], "ok") << "read in the writer's UTS namespace, not the host's";
  EXPECT_NE(read_sysctl("kernel.hostname"), "sstest-host");
}

// Which programs each mode attaches: readback hooks no write syscall (so
// unrelated write()s pay nothing); syscall hooks them and gives errnos.
TEST(ReadbackE2E, OnlySyscallModeHooksWriteExits) {
  auto write_hooks = [](pid_t pid) {
    auto r = run({"bpftool", "-j", "perf", "list"});
    EXPECT_EQ(r.status, 0) << r.err;
    int n = 0;
    for (const auto& p : Json::parse(r.out))
      if (p.value("pid", 0) == pid && p.value("tracepoint", "").find("write") != std::string::npos)
        ++n;
    return n;
  };
  // Programs held by the tracer (prog_id in its fds' fdinfo), by their
  // kernel-truncated 15-char names: tp_btf programs (ss_clear_exit) are not
  // perf events, so bpftool perf list does not show them.
  auto prog_names = [](pid_t pid) {
    std::set<int> ids;
    std::error_code ec;
    for (auto& f :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec)) {
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);)
        if (line.rfind("prog_id:", 0) == 0) ids.insert(std::stoi(line.substr(8)));
    }
    auto r = run({"bpftool", "-j", "prog", "show"});
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::string> names;
    for (const auto& p : Json::parse(r.out))
      if (ids.count(p.value("id", -1))) names.push_back(p.value("name", ""));
    return names;
  };
  auto count_prefix = [](const std::vector<std::string>& names, const std::string& pre) {
    return std::count_if(names.begin(), names.end(),
                         [&](const std::string& n) { return n.rfind(pre, 0) == 0; });
  };
  {
    Tracer t({});
    ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
    EXPECT_EQ(write_hooks(t.pid()), 0);
    auto names = prog_names(t.pid());
    EXPECT_GT(count_prefix(names, "ss_sysctl"), 0) << "bpftool shows the tracer's programs";
    EXPECT_EQ(count_prefix(names, "ss_clear"), 0) << "no stale-clearing program in readback mode";
    EXPECT_EQ(count_prefix(names, "ss_exit_wr") + count_prefix(names, "ss_exit_pw"), 0);
  }
  Tracer t({"--type", "sysctl_write", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  EXPECT_EQ(write_hooks(t.pid()), 5) << "write, pwrite64, writev, pwritev, pwritev2";
  EXPECT_EQ(count_prefix(prog_names(t.pid()), "ss_clear"), 6)
      << "sendfile64, splice, copy_file_range, io_uring_enter, io_submit, sched_process_exit";
  auto r =
      sh("unshare -n sh -c 'echo $$; echo abc > /proc/sys/net/ipv4/tcp_keepalive_time; exit 0'");
  long pid = std::stol(r.out);
  auto ev = t.wait_for(
      [&](const Json& e) { return is_event(e, "sysctl_write") && e["proc"]["pid"] == pid; });
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["result"], "EINVAL");
  EXPECT_EQ((*ev)["result_source"], "syscall");
}

TEST(ReadbackE2E, BadModeIsOneLineAndExit2) {
  auto r = run({binary(), "trace", "--write-results", "errno"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err,
            "sysctlscope: error: --write-results must be readback or syscall, not 'errno'\n");
}
