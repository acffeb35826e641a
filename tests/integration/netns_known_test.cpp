// SPDX-License-Identifier: Apache-2.0
// The namespace a task leaves by unshare()/setns() comes from the known_netns
// task storage (no syscall enter hooks): right for tasks older than the
// tracer (seeded from /proc), and no sys_enter_* tracepoint is in use.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace sstest;

namespace {

// late_unshare, started (and so older than any tracer) in the constructor.
struct LateUnshare {
  pid_t pid = -1;
  TempDir dir;
  std::string out = dir.path() + "/out";
  LateUnshare() {
    pid = fork();
    if (pid == 0) {
      execl(LATE_UNSHARE, LATE_UNSHARE, out.c_str(), (char*)nullptr);
      _exit(127);
    }
  }
  ~LateUnshare() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  // SIGUSR1, then the "<new> <orig>" line once written.
  std::pair<uint64_t, uint64_t> trigger() {
    kill(pid, SIGUSR1);
    for (int i = 0; i < 500; ++i) {
      std::ifstream in(out);
      uint64_t a = 0, b = 0;
      if (in >> a >> b) return {a, b};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {0, 0};
  }
};

}  // namespace

TEST(NetnsKnown, TaskOlderThanTheTracerGetsParentAndFromNetns) {
  LateUnshare task;
  ASSERT_GT(task.pid, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // it exists before the tracer
  Tracer t({"--type", "netns_create,netns_enter", "--pid", std::to_string(task.pid)});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto [created, orig] = task.trigger();
  ASSERT_NE(created, 0u);
  ASSERT_EQ(orig, netns_of(0));
  auto enter = t.wait_for([&](const Json& e) { return is_event(e, "netns_enter"); });
  ASSERT_TRUE(enter) << t.stderr_text();
  auto evs = t.stop();
  auto births = select(
      evs, [&](const Json& e) { return is_event(e, "netns_create") && e["netns"] == created; });
  ASSERT_EQ(births.size(), 1u);
  EXPECT_EQ(births[0]["via"], "unshare");
  EXPECT_EQ(births[0]["parent_netns"], orig) << "seeded from /proc: the task predates the tracer";
  EXPECT_EQ(births[0]["proc"]["pid"], task.pid);
  EXPECT_EQ((*enter)["from_netns"], created) << enter->dump();
  EXPECT_EQ((*enter)["netns"], orig) << enter->dump();  // where it went
}

// bpftool lists the tracepoints the tracer's programs hang on: exit hooks
// only (an enabled sys_enter_* tracepoint costs every syscall on the host).
TEST(NetnsKnown, TracerUsesNoSyscallEnterTracepoint) {
  Tracer t({});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = run({"bpftool", "-j", "perf", "list"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto all = Json::parse(r.out);
  size_t ours = 0;
  for (const auto& p : all) {
    if (p.value("pid", 0) != t.pid()) continue;
    ++ours;
    std::string tp = p.value("tracepoint", "");
    EXPECT_EQ(tp.rfind("sys_enter", 0), std::string::npos) << p.dump();
  }
  EXPECT_GT(ours, 0u) << r.out;  // the exit hooks are there
  t.stop();
}

namespace {
// `unshare -n sleep 60`: a netns kept alive (inode not reusable) while the
// test runs; killed on scope exit.
struct Holder {
  pid_t pid = fork();
  Holder() {
    if (pid == 0) {
      execlp("unshare", "unshare", "-n", "sleep", "60", (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500 && pid > 0 && netns_of(pid) == netns_of(0); ++i) usleep(10000);
  }
  ~Holder() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};
}  // namespace

// --type netns_enter alone: the unshare() exit still keeps known_netns, so a
// setns() back to the netns the task started in is seen, from the unshared one.
TEST(NetnsKnown, NetnsEnterOnlySeesASetnsBackAfterUnshare) {
  Tracer t({"--type", "netns_enter"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const uint64_t own = netns_of(0);
  auto r = sh("exec unshare -n sh -c 'stat -L -c %i /proc/self/ns/net; exec nsenter --net=/proc/" +
              std::to_string(getpid()) + "/ns/net true'");
  ASSERT_EQ(r.status, 0) << r.err;
  const uint64_t created = std::stoull(r.out);
  ASSERT_NE(created, own);
  auto enter = t.wait_for(
      [&](const Json& e) { return is_event(e, "netns_enter") && e["from_netns"] == created; });
  ASSERT_TRUE(enter) << t.stderr_text();
  EXPECT_EQ((*enter)["netns"], own) << enter->dump();
  EXPECT_EQ((*enter)["proc"]["comm"], "nsenter") << enter->dump();
  t.stop();
}

// --type netns_create alone: the setns() exit still keeps known_netns, so an
// unshare() after nsenter names the entered netns as the parent, not the one
// the task was forked in.
TEST(NetnsKnown, NetnsCreateOnlyParentIsTheNetnsEnteredBefore) {
  Holder held;
  ASSERT_GT(held.pid, 0);
  const uint64_t entered = netns_of(held.pid);
  ASSERT_NE(entered, netns_of(0));
  Tracer t({"--type", "netns_create"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = run({"nsenter", "--net=/proc/" + std::to_string(held.pid) + "/ns/net", "unshare", "-n",
                "stat", "-L", "-c", "%i", "/proc/self/ns/net"});
  ASSERT_EQ(r.status, 0) << r.err;
  const uint64_t created = std::stoull(r.out);
  auto birth = t.wait_for([&](const Json& e) {
    return is_event(e, "netns_create") && e["netns"] == created && e["proc"]["comm"] == "unshare";
  });
  ASSERT_TRUE(birth) << t.stderr_text();
  EXPECT_EQ((*birth)["parent_netns"], entered) << birth->dump();
  EXPECT_EQ((*birth)["via"], "unshare");
  t.stop();
}
