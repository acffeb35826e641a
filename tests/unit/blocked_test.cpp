// SPDX-License-Identifier: Apache-2.0
// Path resolution, flag decoding, blocked-record decoding, write-result
// joining and program planning: the parts that need no kernel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>
#include <set>

#include "bpf/tracer.hpp"
#include "fakes.hpp"
#include "model/decode.hpp"
#include "model/sysctl_path.hpp"
#include "output/sink.hpp"
#include "pipeline/pipeline.hpp"
#include "records.hpp"
#include "sysctlscope/event.h"

using namespace sysctlscope;

namespace {
const std::vector<ProcMount> kHost = {{"/proc", "/"}};
// What runc leaves in a container: /proc plus read-only binds of parts of it.
const std::vector<ProcMount> kRunc = {{"/proc", "/"}, {"/proc/sys", "/sys"}};
}  // namespace

TEST(SysctlPath, AbsoluteRelativeDotDotAndDoubledSlashes) {
  EXPECT_EQ(resolve_sysctl_path("/proc/sys/net/ipv4/tcp_mem", "", kHost), "net/ipv4/tcp_mem");
  EXPECT_EQ(resolve_sysctl_path("tcp_syncookies", "/proc/sys/net/ipv4", kRunc),
            "net/ipv4/tcp_syncookies");
  EXPECT_EQ(resolve_sysctl_path("../core/somaxconn", "/proc/sys/net/ipv4", kRunc),
            "net/core/somaxconn");
  EXPECT_EQ(resolve_sysctl_path("//proc///sys/./kernel//ostype", "", kHost), "kernel/ostype");
  EXPECT_EQ(resolve_sysctl_path("../../../../../proc/sys/vm/swappiness", "/etc/x", kHost),
            "vm/swappiness");
  EXPECT_EQ(resolve_sysctl_path("sys/fs/file-max", "/proc", kHost), "fs/file-max");
}

TEST(SysctlPath, ProcSelfRootAndProcfsElsewhere) {
  EXPECT_EQ(resolve_sysctl_path("/proc/self/root/proc/sys/net/ipv4/tcp_sack", "", kRunc),
            "net/ipv4/tcp_sack");
  EXPECT_EQ(resolve_sysctl_path("/proc/thread-self/root/../proc/sys/kernel/ostype", "", kHost),
            "kernel/ostype");
  EXPECT_EQ(resolve_sysctl_path("self/root/proc/sys/kernel/ostype", "/proc", kHost),
            "kernel/ostype");
  const std::vector<ProcMount> elsewhere = {{"/proc", "/"}, {"/mnt/p", "/"}};
  EXPECT_EQ(resolve_sysctl_path("/mnt/p/sys/net/core/somaxconn", "", elsewhere),
            "net/core/somaxconn");
  // A bind of a sysctl directory somewhere else.
  const std::vector<ProcMount> bind = {{"/proc", "/"}, {"/srv/ipv4", "/sys/net/ipv4"}};
  EXPECT_EQ(resolve_sysctl_path("tcp_ecn", "/srv/ipv4", bind), "net/ipv4/tcp_ecn");
  // "self/root" below a mount whose root is not procfs' root is a plain path.
  EXPECT_EQ(resolve_sysctl_path("/proc/sys/self/root/x", "", kRunc), "self/root/x");
}

TEST(SysctlPath, NotSysctlFiles) {
  EXPECT_FALSE(resolve_sysctl_path("/tmp/ro/x", "", kHost));
  EXPECT_FALSE(resolve_sysctl_path("/proc/sysrq-trigger", "", kHost));
  EXPECT_FALSE(resolve_sysctl_path("/proc/sys", "", kHost));
  EXPECT_FALSE(resolve_sysctl_path("/proc/1/oom_score_adj", "", kHost));
  EXPECT_FALSE(resolve_sysctl_path("/procsys/net/x", "", kHost));
  EXPECT_FALSE(resolve_sysctl_path("sys/net/ipv4/tcp_sack", "/tmp/ro", kHost));  // tmpfs lookalike
  EXPECT_FALSE(resolve_sysctl_path("", "/proc/sys", kHost));
  EXPECT_FALSE(resolve_sysctl_path("/proc/sys/kernel/ostype", "", {}));
}

TEST(OpenFlags, DecodedInBitOrderWithUnknownBits) {
  using J = nlohmann::ordered_json;
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_CREAT | O_TRUNC), J({"O_WRONLY", "O_CREAT", "O_TRUNC"}));
  EXPECT_EQ(decode_open_flags(O_RDWR | O_CLOEXEC | O_APPEND),
            J({"O_RDWR", "O_APPEND", "O_CLOEXEC"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY | O_SYNC), J({"O_WRONLY", "O_SYNC"}));  // not also O_DSYNC
  EXPECT_EQ(decode_open_flags(O_RDONLY | O_TRUNC), J({"O_RDONLY", "O_TRUNC"}));
  EXPECT_EQ(decode_open_flags(O_WRONLY | 0x80000000u), J({"O_WRONLY", "0x80000000"}));
}

TEST(Cmdline, SplitOnNul) {
  using J = nlohmann::ordered_json;
  EXPECT_EQ(split_cmdline(std::string_view("sh\0-c\0echo 5 > x\0", 17)),
            J({"sh", "-c", "echo 5 > x"}));
  EXPECT_EQ(split_cmdline(std::string_view("a\0\0b", 4)), J({"a", "", "b"}));
  EXPECT_EQ(split_cmdline(""), J::array());
}

namespace {
ss_blocked_event blocked_record(const char* path, const char* base, int err) {
  ss_blocked_event r;
  std::memset(&r, 0, sizeof r);
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = SS_EV_SYSCTL_BLOCKED;
  r.hdr.size = sizeof r;
  r.hdr.task.pid = r.hdr.task.tid = 4242;
  std::strcpy(r.hdr.task.comm, "sh");
  r.err = err;
  r.open_flags = O_WRONLY | O_CREAT | O_TRUNC;
  r.call = SS_CALL_OPENAT;
  r.dirfd = -100;
  std::strcpy(r.path, path);
  r.path_len = std::strlen(path);
  std::strcpy(r.base, base);
  r.base_len = std::strlen(base);
  const char cmd[] = "sh\0-c\0echo 5 > tcp_keepalive_time";
  std::memcpy(r.cmdline, cmd, sizeof cmd);
  r.cmdline_len = sizeof cmd;
  std::strcpy(r.mounts[0].mountpoint, "/proc");
  std::strcpy(r.mounts[0].root, "/");
  std::strcpy(r.mounts[1].mountpoint, "/proc/sys");
  std::strcpy(r.mounts[1].root, "/sys");
  r.nr_mounts = 2;
  return r;
}
}  // namespace

TEST(DecodeBlocked, FieldsAndJson) {
  auto r = blocked_record("tcp_keepalive_time", "/proc/sys/net/ipv4", EROFS);
  Decoder d(BootClock(0));
  auto out = d.decode(&r, sizeof r);
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(std::holds_alternative<Event>(*out));
  const Event& e = std::get<Event>(*out);
  ASSERT_TRUE(e.is<SysctlBlocked>());
  EXPECT_EQ(e.as<SysctlBlocked>().sysctl, "net.ipv4.tcp_keepalive_time");
  EXPECT_TRUE(e.failed());
  std::string j = event_to_json(e);
  EXPECT_NE(
      j.find(
          R"("sysctl":"net.ipv4.tcp_keepalive_time","path":"tcp_keepalive_time","errno":"EROFS",)"
          R"("blocked_by":"read_only_mount","flags":["O_WRONLY","O_CREAT","O_TRUNC"],"syscall":"openat",)"
          R"("cmdline":["sh","-c","echo 5 > tcp_keepalive_time"]})"),
      std::string::npos)
      << j;
  // Replay keeps every field.
  EXPECT_EQ(event_to_json(event_from_json(nlohmann::ordered_json::parse(j))), j);
}

TEST(DecodeBlocked, PermissionOtherAndNotSysctl) {
  Decoder d(BootClock(0));
  auto acc = blocked_record("/proc/sys/kernel/kptr_restrict", "", EACCES);
  EXPECT_EQ(std::get<Event>(*d.decode(&acc, sizeof acc)).as<SysctlBlocked>().blocked_by, BlockedBy::Permission);
  auto perm = blocked_record("/proc/sys/kernel/kptr_restrict", "", EPERM);
  EXPECT_EQ(std::get<Event>(*d.decode(&perm, sizeof perm)).as<SysctlBlocked>().blocked_by, BlockedBy::Permission);
  auto tmp = blocked_record("/tmp/ro/x", "", EROFS);
  auto none = d.decode(&tmp, sizeof tmp);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(std::holds_alternative<Event>(*none)) << "not a sysctl file: no event";
  auto bad = blocked_record("/proc/sys/net/\xff\x1b", "", EROFS);
  auto ev = d.decode(&bad, sizeof bad);
  ASSERT_TRUE(std::holds_alternative<Event>(*ev));
  std::string line = event_to_json(std::get<Event>(*ev));
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["path_hex"], "2f70726f632f7379732f6e65742fff1b") << line;
  EXPECT_EQ(event_from_json(parsed).as<SysctlBlocked>().path, "/proc/sys/net/\xff\x1b");
  auto lost_base = blocked_record("tcp_sack", "", EROFS);
  lost_base.flags = SS_BF_BASE_UNKNOWN;
  EXPECT_FALSE(std::holds_alternative<Event>(*d.decode(&lost_base, sizeof lost_base))) << "relative to an unknown directory";
}

namespace {
using sstest::VecSink;

ss_sysctl_event write_record(uint64_t id, uint32_t tid, const char* value) {
  ss_sysctl_event r = sstest::sysctl_record(true, "net/ipv4/tcp_keepalive_time", "", value);
  r.hdr.task.pid = r.hdr.task.tid = tid;
  r.hdr.task.ts_boot_ns = id;
  r.write_id = id;
  return r;
}

ss_write_result_event result_record(uint64_t id, uint32_t tid, int64_t ret) {
  ss_write_result_event r;
  std::memset(&r, 0, sizeof r);
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = SS_EV_WRITE_RESULT;
  r.hdr.size = sizeof r;
  r.hdr.task.pid = r.hdr.task.tid = tid;
  r.write_id = id;
  r.ret = ret;
  return r;
}
}  // namespace

TEST(WriteJoin, ResultsErrnoPartialAndFailedFilter) {
  VecSink sink;
  Filter f;
  f.failed_only = true;
  Pipeline p(f, nullptr, sink, true);
  auto feed = [&](auto r) { p.on_record(&r, sizeof r); };
  feed(write_record(1, 10, "600\n"));
  feed(result_record(1, 10, 4));  // whole "600\n": ok, filtered out by --failed
  feed(write_record(2, 10, "abc\n"));
  feed(result_record(2, 10, -EINVAL));
  feed(write_record(3, 11, "6000\n"));
  feed(result_record(3, 99, 4));  // another thread's result: not this write's
  feed(result_record(3, 11, -EPERM));
  feed(write_record(4, 13, "650\n"));  // never gets a result: unknown is not a failure
  p.expire_writes(0, true);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(to_string(sink.events[0].as<SysctlWrite>().result), "EINVAL");
  EXPECT_EQ(to_string(sink.events[1].as<SysctlWrite>().result), "EPERM");

  VecSink all;
  Pipeline q(Filter{}, nullptr, all, true);
  auto r1 = write_record(5, 12, "600\n");
  q.on_record(&r1, sizeof r1);
  auto r2 = result_record(5, 12, 3);  // "600" taken, the newline not: partial
  q.on_record(&r2, sizeof r2);
  auto r3 = write_record(6, 12, "700");
  q.on_record(&r3, sizeof r3);
  q.expire_writes(0, true);  // no result ever came (io_uring, splice, ...)
  ASSERT_EQ(all.events.size(), 2u);
  EXPECT_EQ(to_string(all.events[0].as<SysctlWrite>().result), "ok");
  EXPECT_EQ(all.events[0].as<SysctlWrite>().bytes_written, 3u);
  EXPECT_EQ(to_string(all.events[1].as<SysctlWrite>().result), "unknown");
  EXPECT_FALSE(all.events[1].as<SysctlWrite>().bytes_written);
  EXPECT_EQ(all.events[1].as<SysctlWrite>().result_source, WriteResultMode::Syscall);
}

namespace {
using sstest::FakeProbe;
bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST(Plan, SyscallProgramsFollowTypesAndTracepoints) {
  FakeProbe probe;
  auto all = plan_programs(probe, ~0u);
  EXPECT_TRUE(all.joins_writes);
  for (auto n : {"ss_exit_openat", "ss_exit_openat2", "ss_exit_creat", "ss_exit_open",
                 "ss_exit_write", "ss_clear_sendfile64", "ss_clear_io_uring_enter", "ss_clear_exit",
                 "ss_exit_pwrite64", "ss_exit_writev", "ss_exit_pwritev", "ss_exit_pwritev2"})
    EXPECT_TRUE(has(all.load, n)) << n;

  probe.missing_syscalls = {"sys_exit_open", "sys_exit_creat"};  // arm64 has neither syscall
  auto arm = plan_programs(probe, ~0u);
  EXPECT_FALSE(has(arm.load, "ss_exit_open"));
  EXPECT_FALSE(has(arm.load, "ss_exit_creat"));
  EXPECT_TRUE(has(arm.load, "ss_exit_openat"));

  // The open/write hooks are exit-only (unshare/setns, rare syscalls, have enter hooks).
  auto blocked_and_results =
      plan_programs(probe, SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED) | SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                               SS_TYPE_BIT(SS_EV_WRITE_RESULT));
  for (auto& n : blocked_and_results.load)
    EXPECT_EQ(n.rfind("ss_enter_", 0), std::string::npos) << "no enter hooks: " << n;
  probe.missing_syscalls = {"sys_exit_write"};
  EXPECT_FALSE(plan_programs(probe, ~0u).joins_writes) << "results unknown without sys_exit_write";

  probe.missing_syscalls.clear();
  auto blocked_only = plan_programs(probe, SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED));
  EXPECT_FALSE(blocked_only.joins_writes);
  EXPECT_FALSE(has(blocked_only.load, "ss_exit_write"));
  EXPECT_TRUE(has(blocked_only.load, "ss_exit_openat"));
  auto reads_only = plan_programs(probe, SS_TYPE_BIT(SS_EV_SYSCTL_READ));
  EXPECT_FALSE(has(reads_only.load, "ss_exit_openat"));
  EXPECT_FALSE(has(reads_only.load, "ss_exit_write"));
}
