// SPDX-License-Identifier: Apache-2.0
// The scenario users hit: `echo 5 > /proc/sys/...` inside a runc container
// fails with "Read-only file system" and nothing else records it. Plus the
// `trace --failed` view over writes and blocked opens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {
const char* kKeepalive = "net.ipv4.tcp_keepalive_time";

}  // namespace

TEST(RuncE2E, BlockedWriteInContainerIsReadOnlyMountAbsoluteAndRelative) {
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cgid = cgroup_id_of_pid(init);
  ASSERT_NE(cgid, 0u);
  auto r1 = c.exec({"sh", "-c", "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time"});
  EXPECT_NE(r1.status, 0);
  EXPECT_NE(r1.err.find("Read-only file system"), std::string::npos) << r1.err;
  auto r2 = c.exec({"sh", "-c", "cd /proc/sys/net/ipv4 && echo 5 > tcp_keepalive_time"});
  EXPECT_NE(r2.status, 0);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return e["cgroup"]["id"] == cgid && e["path"] == "tcp_keepalive_time";
  })) << t.stderr_text();
  auto evs = select(t.stop(), [&](const Json& e) {
    return is_event(e, "sysctl_blocked") && e["cgroup"]["id"] == cgid;
  });
  ASSERT_EQ(evs.size(), 2u) << "exactly one event per refused open";
  EXPECT_EQ(evs[0]["path"], "/proc/sys/net/ipv4/tcp_keepalive_time");
  EXPECT_EQ(evs[1]["path"], "tcp_keepalive_time");
  for (auto& e : evs) {
    EXPECT_EQ(e["sysctl"], kKeepalive);
    EXPECT_EQ(e["errno"], "EROFS");
    EXPECT_EQ(e["blocked_by"], "read_only_mount");
    EXPECT_EQ(e["cgroup"]["path"], "/" + c.id());
    EXPECT_EQ(e["netns"], netns_of(init)) << "the container's netns";
    EXPECT_EQ(e["proc"]["comm"], "sh");
    EXPECT_EQ(e["cmdline"][0], "sh");
  }
  EXPECT_EQ(evs[0]["cmdline"][2], "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time");
}

TEST(RuncE2E, BlockedWriteByShortLivedContainerProcess) {
  // The container's only process fails and exits at once: the name and the
  // command line must come from the kernel, not from /proc afterwards.
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer::Options o;
  o.id = "sstest-short-" + std::to_string(getpid());
  // The container id in a comment makes the command line ours alone (its
  // cgroup is gone by the time we look, so the path cannot identify it).
  const std::string cmd = "cd /proc/sys/net/ipv4; echo 5 > tcp_keepalive_time # " + o.id;
  o.args = {"sh", "-c", cmd};
  RuncContainer c(o);
  auto r = c.run_to_exit();
  ASSERT_NE(r.status, 0);
  ASSERT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  auto mine = [&](const Json& e) {
    return is_event(e, "sysctl_blocked") && e["cmdline"].is_array() && e["cmdline"].size() == 3 &&
           e["cmdline"][2] == cmd;
  };
  ASSERT_TRUE(t.wait_for(mine)) << t.stderr_text();
  usleep(200000);
  auto evs = select(t.stop(), mine);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["sysctl"], kKeepalive);
  EXPECT_EQ(evs[0]["path"], "tcp_keepalive_time");
  EXPECT_EQ(evs[0]["errno"], "EROFS");
  EXPECT_EQ(evs[0]["proc"]["comm"], "sh");
  EXPECT_NE(evs[0]["cgroup"]["id"], cgroup_id_of_pid(getpid()))
      << "in the container's cgroup, not ours";
  EXPECT_NE(evs[0]["netns"], netns_of(0)) << "in the container's netns";
}

TEST(FailedE2E, TraceFailedShowsFailedWritesAndBlockedOnly) {
  Tracer t({"--failed", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("unshare -m -n sh -c 'echo $$; cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null; "
         "echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; echo abc > "
         "/proc/sys/net/ipv4/tcp_keepalive_time; "
         "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 9; "
         "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  long pid = std::stol(r.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_blocked") && e["proc"]["pid"] == pid;
  })) << t.stderr_text();
  usleep(300000);
  auto evs = select(t.stop(), [&](const Json& e) {
    return e.contains("proc") && e["proc"].is_object() && e["proc"]["pid"] == pid;
  });
  ASSERT_EQ(evs.size(), 2u) << "no read, no successful write";
  EXPECT_TRUE(is_event(evs[0], "sysctl_write", kKeepalive));
  EXPECT_EQ(evs[0]["value"], "abc");
  EXPECT_EQ(evs[0]["result"], "EINVAL");
  EXPECT_TRUE(is_event(evs[1], "sysctl_blocked", kKeepalive));
  EXPECT_EQ(evs[1]["errno"], "EROFS");
}

TEST(FailedE2E, TableRowForBlockedWrite) {
  Tracer t({"--type", "sysctl_blocked"}, {"trace", "-o", "table"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  sh("unshare -m sh -c 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && "
     "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  usleep(500000);
  t.terminate();
  std::ifstream in(t.stdout_path());
  std::string line, row;
  while (std::getline(in, line))
    if (line.find("echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time") != std::string::npos)
      row = line;
  EXPECT_NE(row.find("sysctl_blocked"), std::string::npos) << row;
  EXPECT_NE(row.find("net.ipv4.tcp_keepalive_time: open refused [EROFS read_only_mount] "
                     "path=/proc/sys/net/ipv4/tcp_keepalive_time cmd=sh -c mount"),
            std::string::npos)
      << row;
}
