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
