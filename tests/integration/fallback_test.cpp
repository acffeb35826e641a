// SPDX-License-Identifier: Apache-2.0
// Fallback programs load and work on the real kernel: features are hidden
// with SYSCTLSCOPE_PRETEND_MISSING, so the paths a kernel without them would
// take run here too.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

// setenv for the tracer started in this scope (spawn() passes environ on).
struct ScopedEnv {
  std::string name;
  ScopedEnv(const std::string& n, const std::string& v) : name(n) {
    setenv(n.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST(Fallback, WithoutTpBtfTheRawForkHookStillReportsCloneBirths) {
  ScopedEnv env("SYSCTLSCOPE_PRETEND_MISSING", "tp_btf");
  Tracer t({"--type", "netns_create"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  EXPECT_NE(t.stderr_text().find("treating tp_btf as missing"), std::string::npos)
      << t.stderr_text();
  auto r = run({CLONE_NETNS, "clone", "hold"});
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t creator = 0, child = 0;
  uint64_t inode = 0;
  std::istringstream(r.out) >> creator >> inode >> child;
  ASSERT_GT(child, 0) << r.out;
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "netns_create") && e["netns"] == inode && e["proc"]["pid"] == creator;
  });
  kill(child, SIGKILL);
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["via"], "clone");
  EXPECT_EQ((*ev)["parent_netns"], netns_of(0));
  EXPECT_EQ((*ev)["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");
}

TEST(Fallback, UnknownPretendMissingEntryIsOneLineAndExit2) {
  ScopedEnv env("SYSCTLSCOPE_PRETEND_MISSING", "kprobes");
  Tracer t({"--type", "netns_create"});
  ASSERT_TRUE(t.wait_exit(std::chrono::seconds(20)));
  EXPECT_EQ(t.exit_status(), 2);
  std::string err = t.stderr_text();
  EXPECT_NE(err.find("unknown feature 'kprobes'"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// Without the cgroup_mkdir/rmdir tracepoints the id -> path map is kept by
// walking cgroupfs: a cgroup created after start resolves by the targeted
// re-scan an unknown id triggers (it still exists when the event arrives).
TEST(Fallback, WithoutCgroupTracepointsANewCgroupResolvesByRescan) {
  ScopedEnv env("SYSCTLSCOPE_PRETEND_MISSING", "cgroup:cgroup_mkdir,cgroup:cgroup_rmdir");
  Tracer t({"--sysctl", "net.ipv4.tcp_keepalive_time"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string name = "sstest-fallback-" + std::to_string(getpid());
  const std::string dir = cgroup2_mount() + "/" + name;
  auto r =
      sh("mkdir " + dir + " && sh -c 'echo $$ > " + dir +
         "/cgroup.procs && cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null && echo $$ > " +
         cgroup2_mount() + "/cgroup.procs'");
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", "net.ipv4.tcp_keepalive_time") &&
           e["proc"]["comm"] == "cat" && e["cgroup"]["path"] == "/" + name;
  });
  t.stop();
  sh("rmdir " + dir);
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_TRUE((*ev)["container"].is_null());
}

// Every ability Linux 5.10 lacks (docs/kernels.md), hidden at once: the
// programs take the probe-read, kernel-stack, tid-hash and full-reservation
// paths, and the events are the same as on the fast path.
TEST(Fallback, Linux510AbilitiesGiveTheSameEvents) {
  ScopedEnv env("SYSCTLSCOPE_PRETEND_MISSING",
                "task_btf,task_pt_regs,task_storage,atomics,sysctl_task_btf,sysctl_pid_helpers,"
                "sysctl_ancestor,tp_ancestor");
  ScratchCgroup cg;
  // --cgroup: the ancestor id comes from the task's cgroup, not the helper.
  Tracer t({"--cgroup", cg.path()});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string err = t.stderr_text();
  EXPECT_NE(err.find("bpf_get_current_task_btf (task fields by probe reads"), std::string::npos) << err;
  EXPECT_NE(err.find("compare-and-swap"), std::string::npos) << err;

  // In the scratch cgroup: a write and a read in a new netns, a refused
  // relative open (syscall arguments from the kernel stack), a setns().
  const std::string ro =
      "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys; ";
  auto r = sh("sh -c 'echo $$ > " + cg.path() +
              "/cgroup.procs; echo $$; "
              "unshare -n sh -c \"echo \\$\\$; readlink /proc/self/ns/net; "
              "echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; "
              "cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null; sleep 2\" & "
              "sleep 0.5; nsenter --net=/proc/$!/ns/net true; "
              "unshare -m sh -c \"" + ro +
              "cd /proc/sys/net/ipv4 && echo 1 > tcp_syncookies\"; wait; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream out(r.out);
  pid_t outer = 0, inner = 0;
  std::string nsline;
  out >> outer >> inner >> nsline;
  ASSERT_GT(inner, 0) << r.out;
  const uint64_t netns = std::stoull(nsline.substr(nsline.find('[') + 1));
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return is_event(e, "sysctl_blocked"); }))
      << t.stderr_text();
  auto evs = t.stop();
  ASSERT_EQ(t.exit_status(), 0) << t.stderr_text();

  auto writes = select(evs, [&](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.tcp_keepalive_time");
  });
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0]["old_value"], "7200");
  EXPECT_EQ(writes[0]["value"], "600");
  EXPECT_EQ(writes[0]["result"], "ok");
  EXPECT_EQ(writes[0]["proc"]["pid"], inner);
  EXPECT_EQ(writes[0]["proc"]["tid"], inner);
  EXPECT_EQ(writes[0]["proc"]["comm"], "sh");
  EXPECT_EQ(writes[0]["proc"]["ppid"], outer);
  EXPECT_EQ(writes[0]["netns"], netns);
  EXPECT_EQ(writes[0]["cgroup"]["id"], cg.id());
  auto reads = select(evs, [&](const Json& e) {
    return is_event(e, "sysctl_read", "net.ipv4.tcp_keepalive_time") && e["netns"] == netns;
  });
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0]["value"], "600");
  EXPECT_EQ(reads[0]["proc"]["comm"], "cat");
  EXPECT_EQ(reads[0]["proc"]["ppid"], inner);

  auto births = select(evs, [&](const Json& e) { return is_event(e, "netns_create"); });
  ASSERT_EQ(births.size(), 1u);
  EXPECT_EQ(births[0]["netns"], netns);
  EXPECT_EQ(births[0]["via"], "unshare");
  EXPECT_EQ(births[0]["parent_netns"], netns_of(0)) << "known_netns as a tid hash";
  EXPECT_EQ(births[0]["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");

  auto enters = select(evs, [&](const Json& e) { return is_event(e, "netns_enter"); });
  ASSERT_EQ(enters.size(), 1u);
  EXPECT_EQ(enters[0]["proc"]["comm"], "nsenter");
  EXPECT_EQ(enters[0]["from_netns"], netns_of(0));
  EXPECT_EQ(enters[0]["netns"], netns);

  auto blocked = select(evs, [&](const Json& e) { return is_event(e, "sysctl_blocked"); });
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_EQ(blocked[0]["sysctl"], "net.ipv4.tcp_syncookies");
  EXPECT_EQ(blocked[0]["path"], "tcp_syncookies") << "relative to the cwd";
  EXPECT_EQ(blocked[0]["syscall"], "openat");
  EXPECT_EQ(blocked[0]["errno"], "EROFS");
  EXPECT_EQ(blocked[0]["blocked_by"], "read_only_mount");

  // The --cgroup filter held: nothing from outside the scratch cgroup.
  for (const auto& e : evs) {
    if (e.contains("cgroup") && e["cgroup"].is_object() && e["event"] != "lost") {
      EXPECT_EQ(e["cgroup"]["id"], cg.id()) << e.dump();
    }
  }
}

// --btf FILE: CO-RE and the birth snapshots take the kernel's types from the
// file (a copy of this kernel's BTF here); a missing file is one line, exit 2.
TEST(Fallback, BtfFromAFile) {
  TempDir d;
  const std::string file = d.path() + "/vmlinux.btf";
  ASSERT_EQ(sh("cp /sys/kernel/btf/vmlinux " + file).status, 0);
  Tracer t({"--type", "netns_create"}, {"--btf", file, "trace", "-o", "json"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = sh("unshare -n true");
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([](const Json& e) { return is_event(e, "netns_create"); });
  t.stop();
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");

  auto bad = run({binary(), "--btf", d.path() + "/nope", "trace"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}
