// SPDX-License-Identifier: Apache-2.0
// Writes that never reach the sysctl layer (sysctl_blocked) and the real
// result of writes that do (sysctl_write.result), against the real kernel.
// Read-only /proc/sys only ever inside a private mount namespace (unshare -m),
// value changes only inside scratch network namespaces (unshare -n).
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

// A private mount ns where /proc/sys is a read-only bind, as runc sets it up.
const std::string kRoProcSys =
    "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 9; ";

std::string opener() { return SYSCTL_OPENER; }

// First line of a shell's output: the pid it printed with `echo $$`.
pid_t first_pid(const std::string& out) {
  std::istringstream in(out);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

std::vector<Json> by_pid(const std::vector<Json>& evs, const std::string& type, pid_t pid) {
  return select(evs, [&](const Json& e) { return is_event(e, type) && e["proc"]["pid"] == pid; });
}

// Events of a shell and of the processes it started.
std::vector<Json> by_family(const std::vector<Json>& evs, const std::string& type, pid_t pid) {
  return select(evs, [&](const Json& e) {
    return is_event(e, type) && (e["proc"]["pid"] == pid || e["proc"]["ppid"] == pid);
  });
}

Json flags(std::initializer_list<const char*> f) {
  Json a = Json::array();
  for (auto s : f) a.push_back(s);
  return a;
}

}  // namespace

TEST(Blocked, ReadOnlyProcSysAbsoluteRelativeDotDotAndProcSelfRoot) {
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = sh("unshare -m sh -c 'echo $$; " + kRoProcSys +
              "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time; "
              "cd /proc/sys/net/ipv4 && echo 1 > tcp_syncookies; "
              "cd /proc/sys/net/core && echo 60 > ../ipv4/tcp_fin_timeout; "
              "cd / && echo 1 > /proc/self/root/proc//sys/./net/../net/ipv4/tcp_sack; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t pid = first_pid(r.out);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_pid({e}, "sysctl_blocked", pid).size() == 1 && e["sysctl"] == "net.ipv4.tcp_sack";
  })) << t.stderr_text();
  auto evs = by_pid(t.stop(), "sysctl_blocked", pid);
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(evs[0]["path"], "/proc/sys/net/ipv4/tcp_keepalive_time");
  EXPECT_EQ(evs[1]["sysctl"], "net.ipv4.tcp_syncookies");
  EXPECT_EQ(evs[1]["path"], "tcp_syncookies");
  EXPECT_EQ(evs[2]["sysctl"], "net.ipv4.tcp_fin_timeout");
  EXPECT_EQ(evs[2]["path"], "../ipv4/tcp_fin_timeout");
  EXPECT_EQ(evs[3]["sysctl"], "net.ipv4.tcp_sack");
  EXPECT_EQ(evs[3]["path"], "/proc/self/root/proc//sys/./net/../net/ipv4/tcp_sack");
  for (auto& e : evs) {
    EXPECT_EQ(e["errno"], "EROFS");
    EXPECT_EQ(e["blocked_by"], "read_only_mount");
    EXPECT_EQ(e["flags"], flags({"O_WRONLY", "O_CREAT", "O_TRUNC"}));  // the shell's `>`
    EXPECT_EQ(e["syscall"], "openat");
    EXPECT_EQ(e["proc"]["comm"], "sh");
    EXPECT_EQ(e["proc"]["uid"], 0);
    EXPECT_EQ(e["netns"], netns_of(0));
    EXPECT_EQ(e["cgroup"]["id"], cgroup_id_of_pid(getpid()));
    ASSERT_TRUE(e["cmdline"].is_array()) << e.dump();
    EXPECT_EQ(e["cmdline"][0], "sh");
    EXPECT_EQ(e["cmdline"][1], "-c");
  }
}

TEST(Blocked, EveryOpenSyscallCwdAndDirfd) {
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string o = opener();
  auto r = sh("unshare -m sh -c 'echo $$; " + kRoProcSys + "cd /proc/sys/net; " + o +
              " -c open ipv4/tcp_keepalive_time; " + o + " -c creat core/somaxconn; " + o +
              " -c openat -d /proc/sys/net ipv4/tcp_syncookies; " + o +
              " -c openat2 -d /proc/sys/net/ipv4 ../core/netdev_max_backlog; cd /; " + o +
              " -c openat -d /proc/sys/kernel ostype; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  size_t refused = 0;
  for (size_t at = 0; (at = r.out.find("open EROFS", at)) != std::string::npos; ++at) ++refused;
  EXPECT_EQ(refused, 5u) << r.out;
  pid_t pid = first_pid(r.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_family({e}, "sysctl_blocked", pid).size() == 1 && e["sysctl"] == "kernel.ostype";
  })) << t.stderr_text();
  auto evs = by_family(t.stop(), "sysctl_blocked", pid);
  ASSERT_EQ(evs.size(), 5u);
  struct Want {
    const char *sysctl, *path, *call;
    Json flags;
  } want[] = {
      {"net.ipv4.tcp_keepalive_time", "ipv4/tcp_keepalive_time", "open",
       flags({"O_WRONLY", "O_TRUNC"})},
      {"net.core.somaxconn", "core/somaxconn", "creat", flags({"O_WRONLY", "O_CREAT", "O_TRUNC"})},
      {"net.ipv4.tcp_syncookies", "ipv4/tcp_syncookies", "openat", flags({"O_WRONLY", "O_TRUNC"})},
      {"net.core.netdev_max_backlog", "../core/netdev_max_backlog", "openat2",
       flags({"O_WRONLY", "O_CLOEXEC"})},
      {"kernel.ostype", "ostype", "openat", flags({"O_WRONLY", "O_TRUNC"})},
  };
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(evs[i]["sysctl"], want[i].sysctl);
    EXPECT_EQ(evs[i]["path"], want[i].path);
    EXPECT_EQ(evs[i]["syscall"], want[i].call);
    EXPECT_EQ(evs[i]["flags"], want[i].flags);
    EXPECT_EQ(evs[i]["errno"], "EROFS");
    EXPECT_EQ(evs[i]["proc"]["comm"], "sysctl_opener");
    EXPECT_EQ(evs[i]["cmdline"][0], o);
  }
}

TEST(Blocked, ProcfsMountedElsewhereInPrivateMountNs) {
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  TempDir d;
  // A second, read-only procfs instance; -n as well in case ro were ignored.
  auto r = sh("unshare -m -n sh -c 'echo $$; mount -t proc -o ro proc " + d.path() +
              " || exit 9; echo 1 > " + d.path() + "/sys/net/ipv4/tcp_keepalive_time; cd " +
              d.path() + "/sys/net && echo 1 > ipv4/tcp_syncookies; cd " + d.path() +
              " && echo 1 > self/root" + d.path() + "/sys/net/ipv4/tcp_sack; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t pid = first_pid(r.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_pid({e}, "sysctl_blocked", pid).size() == 1 && e["sysctl"] == "net.ipv4.tcp_sack";
  })) << t.stderr_text();
  auto evs = by_pid(t.stop(), "sysctl_blocked", pid);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(evs[0]["path"], d.path() + "/sys/net/ipv4/tcp_keepalive_time");
  EXPECT_EQ(evs[1]["sysctl"], "net.ipv4.tcp_syncookies");
  EXPECT_EQ(evs[1]["path"], "ipv4/tcp_syncookies");
  EXPECT_EQ(evs[2]["sysctl"], "net.ipv4.tcp_sack");
  for (auto& e : evs) EXPECT_EQ(e["errno"], "EROFS");
}

TEST(Blocked, UnprivilegedUserWritingRootOnlySysctlIsPermission) {
  Tracer t({"--type", "sysctl_blocked"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "
         "'echo $$; echo 1 > /proc/sys/kernel/kptr_restrict; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  pid_t pid = first_pid(r.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_pid({e}, "sysctl_blocked", pid).size() == 1;
  })) << t.stderr_text();
  auto evs = by_pid(t.stop(), "sysctl_blocked", pid);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["sysctl"], "kernel.kptr_restrict");
  EXPECT_EQ(evs[0]["errno"], "EACCES");
  EXPECT_EQ(evs[0]["blocked_by"], "permission");
  EXPECT_EQ(evs[0]["proc"]["uid"], 65534);
}

TEST(Blocked, NothingForReadOnlyTmpfsOrSuccessfulOpens) {
  Tracer t({"--type", "sysctl_blocked,sysctl_write", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  TempDir d;
  // A read-only tmpfs, even with a sysctl-looking path, is not our business.
  auto r =
      sh("unshare -m -n sh -c 'echo $$; mount -t tmpfs tmpfs " + d.path() + " && mkdir -p " +
         d.path() + "/sys/net/ipv4 && mount -o remount,ro " + d.path() + " || exit 9; echo 1 > " +
         d.path() + "/x; cd " + d.path() + " && echo 1 > sys/net/ipv4/tcp_sack; echo 1 > " +
         d.path() + "/sys/net/ipv4/tcp_sack; echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; " +
         kRoProcSys + "echo 1 > /proc/sys/net/ipv4/tcp_sack; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_NE(r.err.find(d.path() + "/x: Read-only file system"), std::string::npos) << r.err;
  pid_t pid = first_pid(r.out);
  // The last command is the marker: once it is in, everything before is too.
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_pid({e}, "sysctl_blocked", pid).size() == 1;
  })) << t.stderr_text();
  usleep(300000);
  auto all = t.stop();
  auto blocked = by_pid(all, "sysctl_blocked", pid);
  ASSERT_EQ(blocked.size(), 1u)
      << "only the /proc/sys one; not the tmpfs file, not the successful open";
  EXPECT_EQ(blocked[0]["sysctl"], "net.ipv4.tcp_sack");
  auto writes = by_pid(all, "sysctl_write", pid);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0]["result"], "ok");
}

TEST(WriteResult, InvalidValueUnknownCongestionControlAndOk) {
  Tracer t({"--type", "sysctl_write", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("unshare -n sh -c 'echo $$; echo abc > /proc/sys/net/ipv4/tcp_keepalive_time; "
         "echo nope > /proc/sys/net/ipv4/tcp_congestion_control; "
         "echo 700 > /proc/sys/net/ipv4/tcp_keepalive_time; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t pid = first_pid(r.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_pid({e}, "sysctl_write", pid).size() == 1 && e["value"] == "700";
  }));
  auto evs = by_pid(t.stop(), "sysctl_write", pid);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(evs[0]["value"], "abc");
  EXPECT_EQ(evs[0]["result"], "EINVAL");
  EXPECT_EQ(evs[1]["sysctl"], "net.ipv4.tcp_congestion_control");
  EXPECT_EQ(evs[1]["result"], "ENOENT");
  EXPECT_EQ(evs[2]["value"], "700");
  EXPECT_EQ(evs[2]["result"], "ok");
  for (auto& e : evs) EXPECT_FALSE(e.contains("bytes_written")) << e.dump();
}

TEST(WriteResult, EveryWriteSyscallAndNoStaleResultAfterSendfile) {
  Tracer t({"--type", "sysctl_write", "--comm", "sysctl_opener", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string o = opener() + " ";
  const std::string p = " /proc/sys/net/ipv4/tcp_keepalive_time ";
  auto r = sh("unshare -n sh -c 'echo $$; " + o + "-w write" + p + "601; " + o + "-w pwrite64" + p +
              "602; " + o + "-w writev" + p + "603; " + o + "-w pwritev" + p + "604; " + o +
              "-w pwritev2" + p + "x; " + o + "-w sendfile" + p + "605; exit 0'");
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t pid = first_pid(r.out);
  // sendfile's result is never reported: its write waits out the hold time.
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return by_family({e}, "sysctl_write", pid).size() == 1 && e["value"] == "605";
  }));
  auto evs = by_family(t.stop(), "sysctl_write", pid);
  ASSERT_EQ(evs.size(), 6u);
  const char* want[][2] = {{"601", "ok"}, {"602", "ok"},   {"603", "ok"},
                           {"604", "ok"}, {"x", "EINVAL"}, {"605", "unknown"}};
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(evs[i]["value"], want[i][0]);
    EXPECT_EQ(evs[i]["result"], want[i][1])
        << "the sendfile write must not take the later write()'s result";
  }
}

TEST(WriteResult, SecondProgramDenyingWritesGivesEpermAndTracerKeepsGoing) {
  Tracer t({"--type", "sysctl_write", "--write-results", "syscall"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ScratchCgroup cg;
  auto denied =
      write_refused_by_another_program(t, cg, {SYSCTL_DENY_RUN, SYSCTL_DENY_OBJ, SYSCTL_OPENER});
  ASSERT_TRUE(denied) << t.stderr_text();
  EXPECT_EQ((*denied)["result"], "EPERM");
  EXPECT_EQ((*denied)["value"], "600");
  EXPECT_EQ((*denied)["cgroup"]["path"], cg.path().substr(cgroup2_mount().size()));
  // Our observer was not disturbed by the other program: still attached, still reporting.
  auto r2 = sh("unshare -n sh -c 'echo $$; echo 610 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  pid_t pid = first_pid(r2.out);
  auto ok = t.wait_for([&](const Json& e) { return by_pid({e}, "sysctl_write", pid).size() == 1; });
  ASSERT_TRUE(ok) << t.stderr_text();
  EXPECT_EQ((*ok)["result"], "ok");
  t.stop();
  EXPECT_EQ(t.exit_status(), 0) << t.stderr_text();
}
