// SPDX-License-Identifier: Apache-2.0
// Write results by read-back: the judgement, the namespace scope of a name,
// and the pipeline's batching, with a fake value source (no kernel).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "sysctlscope/event.h"

#include "fakes.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/readback.hpp"
#include "records.hpp"

using namespace sysctlscope;
using sstest::VecSink;

TEST(Readback, NormalizeCollapsesBlanks) {
  EXPECT_EQ(normalize_value("4096\t131072\t6291456\n"), "4096 131072 6291456");
  EXPECT_EQ(normalize_value("  4096   131072 6291456  "), "4096 131072 6291456");
  EXPECT_EQ(normalize_value(""), "");
  EXPECT_EQ(normalize_value(" \t\n"), "");
  EXPECT_EQ(normalize_value("a\x01 b"), "a\x01 b");  // only blanks are touched
}

TEST(Readback, JudgeOkNotAppliedUnknown) {
  SysctlWrite w;
  w.old_value = "7200";
  w.value = "600";
  EXPECT_EQ(to_string(judge_readback(w, std::string("600"))), "ok");
  EXPECT_EQ(to_string(judge_readback(w, std::string("7200"))), "not_applied");
  EXPECT_EQ(to_string(judge_readback(w, std::string("900"))), "unknown") << "someone else changed it";
  EXPECT_EQ(to_string(judge_readback(w, std::nullopt)), "unknown") << "namespace gone";
  w.value = "4096 131072 6291456";
  EXPECT_EQ(to_string(judge_readback(w, std::string("4096\t131072\t6291456"))), "ok");
  w.value = "7200";  // writing the value it already has
  EXPECT_EQ(to_string(judge_readback(w, std::string("7200"))), "ok");
  w.value = "abc";
  w.value_truncated = true;
  EXPECT_EQ(to_string(judge_readback(w, std::string("abc"))), "unknown") << "a truncated value proves nothing";
  w.value_truncated = false;
  w.old_truncated = true;
  EXPECT_EQ(to_string(judge_readback(w, std::string("7200"))), "unknown");
}

TEST(Readback, ParseMode) {
  EXPECT_EQ(parse_name<WriteResultMode>("readback"), WriteResultMode::Readback);
  EXPECT_EQ(parse_name<WriteResultMode>("syscall"), WriteResultMode::Syscall);
  EXPECT_FALSE(parse_name<WriteResultMode>("Syscall"));
  EXPECT_FALSE(parse_name<WriteResultMode>(""));
}

namespace {
// A pipeline judging writes by reading them back from `src`.
PipelineConfig readback_config(ValueSource& src, Filter f, bool writer_exits = false) {
  PipelineConfig c;
  c.filter = std::move(f);
  c.readback = &src;
  c.writer_exits = writer_exits;
  return c;
}

// A writer's exit snapshot as the pipeline asks it: name -> value.
Pipeline::ValueOf values(std::map<std::string, std::string> m) {
  return [m = std::move(m)](const std::string& n) -> std::optional<std::string> {
    auto it = m.find(n);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}
class FakeSource final : public ValueSource {
 public:
  std::map<std::pair<uint32_t, std::string>, std::string> values;
  int reads = 0;
  std::vector<std::pair<uint32_t, uint32_t>> seen;
  // Writers gone: Reach::Writer finds nothing, Reach::Anyone reads `values`
  // (the inode's netns now, which may be a newer one).
  bool writers_gone = false;
  std::vector<Reach> reaches;
  std::optional<std::string> current_value(const Event& w, Reach reach) override {
    ++reads;
    reaches.push_back(reach);
    if (writers_gone && reach == Reach::Writer) return std::nullopt;
    auto it = values.find({w.netns, w.as<SysctlWrite>().sysctl});
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  void saw(NetnsId netns, uint32_t pid) override { seen.emplace_back(netns.inode, pid); }
};

// A netns_create record of `netns` (no snapshot: the pipeline has no births).
ss_netns_create_event birth_of(uint32_t netns, uint64_t boot_ns) {
  ss_netns_create_event r;
  std::memset(&r, 0, sizeof r);
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = SS_EV_NETNS_CREATE;
  r.hdr.size = sizeof r;
  r.hdr.task.ts_boot_ns = boot_ns;
  r.hdr.task.netns = r.netns = netns;
  r.via = SS_VIA_UNSHARE;
  return r;
}

ss_sysctl_event write_in(uint32_t netns, uint32_t pid, const char* name, const char* old_value,
                         const char* value) {
  auto r = sstest::sysctl_record(true, name, old_value, value);
  r.hdr.task.pid = r.hdr.task.tid = pid;
  r.hdr.task.netns = netns;
  r.hdr.task.ts_boot_ns = 1000;
  return r;
}

std::vector<std::string> results(const VecSink& sink) {
  std::vector<std::string> out;
  for (const auto& e : sink.events)
    if (auto* w = e.get_if<SysctlWrite>()) out.push_back(w->value + "=" + to_string(w->result));
  return out;
}
}  // namespace

TEST(Readback, PipelineJudgesTheLastWritePerPlaceAndKeepsOrder) {
  VecSink sink;
  FakeSource src;
  Pipeline p(readback_config(src, Filter{}), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "700";
  src.values[{5, "net.ipv4.tcp_keepalive_intvl"}] = "75";
  src.values[{6, "net.ipv4.tcp_keepalive_time"}] = "7200";
  auto feed = [&](ss_sysctl_event r) { p.on_record(&r, r.hdr.size); };
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_time", "7200", "600\n"));
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_time", "600", "700\n"));
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_intvl", "75", "abc\n"));
  feed(write_in(6, 11, "net/ipv4/tcp_keepalive_time", "7200", "900\n"));  // another netns
  feed(write_in(7, 12, "net/ipv4/tcp_keepalive_time", "7200", "900\n"));  // a netns now gone
  EXPECT_EQ(src.seen.size(), 5u);
  EXPECT_EQ(src.seen[0], std::make_pair(5u, 10u));

  p.expire_writes(0, false);  // too young (the handler may still run): held
  EXPECT_TRUE(sink.events.empty());
  p.expire_writes(std::numeric_limits<uint64_t>::max(), false);
  ASSERT_EQ(sink.events.size(), 5u);
  // One read per place, not per write; netns 7 (nobody answers through the
  // writer) gets a second, wider one.
  EXPECT_EQ(src.reads, 5);
  EXPECT_EQ(std::count(src.reaches.begin(), src.reaches.end(), Reach::Anyone), 1);
  // The first write is judged by what the second found (its old_value).
  const char* want[][2] = {{"600", "ok"},
                           {"700", "ok"},
                           {"abc", "not_applied"},
                           {"900", "not_applied"},
                           {"900", "unknown"}};
  for (size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const auto& w = sink.events[i].as<SysctlWrite>();
    EXPECT_EQ(w.value, want[i][0]);
    EXPECT_EQ(to_string(w.result), want[i][1]);
    EXPECT_EQ(w.result_source, WriteResultMode::Readback);
  }
}

TEST(Readback, EachWriteOfABurstJudgedByWhatTheNextOneFound) {
  VecSink sink;
  FakeSource src;
  Pipeline p(readback_config(src, Filter{}), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "800";
  auto feed = [&](ss_sysctl_event r) { p.on_record(&r, r.hdr.size); };
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_time", "7200", "600\n"));  // next found 600: ok
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_time", "600",
                "abc\n"));  // next found 600: not applied
  feed(write_in(5, 10, "net/ipv4/tcp_keepalive_time", "600", "700\n"));  // next found 750: unknown
  feed(write_in(5, 11, "net/ipv4/tcp_keepalive_time", "750", "800\n"));  // read back 800: ok
  p.expire_writes(0, true);
  ASSERT_EQ(sink.events.size(), 4u);
  EXPECT_EQ(src.reads, 1);
  const char* want[] = {"ok", "not_applied", "unknown", "ok"};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(to_string(sink.events[i].as<SysctlWrite>().result), want[i]) << i;
}

TEST(Readback, FailedFilterKeepsNotApplied) {
  VecSink sink;
  FakeSource src;
  Filter f;
  f.failed_only = true;
  Pipeline p(readback_config(src, f), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "7200";
  src.values[{5, "net.ipv4.tcp_keepalive_intvl"}] = "30";
  auto a = write_in(5, 10, "net/ipv4/tcp_keepalive_time", "7200", "abc\n");
  auto b = write_in(5, 10, "net/ipv4/tcp_keepalive_intvl", "75", "30\n");
  p.on_record(&a, a.hdr.size);
  p.on_record(&b, b.hdr.size);
  p.expire_writes(0, true);  // at exit: everything, whatever its age
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].as<SysctlWrite>().value, "abc");
  EXPECT_EQ(to_string(sink.events[0].as<SysctlWrite>().result), "not_applied");
  EXPECT_TRUE(sink.events[0].failed());
}

// Readback mode loads no write-family exit nor any program that only clears
// their pending entries; syscall mode loads all of them.
TEST(Readback, PlanLoadsNoWriteExitsInReadbackMode) {
  sstest::FakeProbe probe;
  const std::vector<std::string> write_family = {"ss_exit_write",
                                                 "ss_exit_pwrite64",
                                                 "ss_exit_writev",
                                                 "ss_exit_pwritev",
                                                 "ss_exit_pwritev2",
                                                 "ss_clear_sendfile64",
                                                 "ss_clear_splice",
                                                 "ss_clear_copy_file_range",
                                                 "ss_clear_io_uring_enter",
                                                 "ss_clear_io_submit",
                                                 "ss_clear_exit"};
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  auto rb = plan_programs(probe, kernel_type_mask(Filter{}, {WriteResultMode::Readback}));
  EXPECT_FALSE(rb.joins_writes);
  EXPECT_TRUE(has(rb.load, "ss_sysctl"));
  EXPECT_TRUE(has(rb.load, "ss_exit_openat")) << "blocked writes still need the open exits";
  for (const auto& n : write_family) EXPECT_FALSE(has(rb.load, n)) << n;
  auto sc = plan_programs(probe, kernel_type_mask(Filter{}, {WriteResultMode::Syscall}));
  EXPECT_TRUE(sc.joins_writes);
  for (const auto& n : write_family) EXPECT_TRUE(has(sc.load, n)) << n;
  // Filtered to sysctl_write only, readback still loads the sysctl hook.
  Filter writes;
  writes.types = Filter::parse_types({"sysctl_write"});
  auto w = plan_programs(probe, kernel_type_mask(writes, {WriteResultMode::Readback}));
  EXPECT_TRUE(has(w.load, "ss_sysctl"));
  EXPECT_FALSE(has(w.load, "ss_exit_write"));
}

// Issue 19: `unshare -n sh -c 'echo 1001 > tcp_keepalive_time; echo x1 >
// tcp_fin_timeout'` in a loop. The netns dies with its writer and the next
// iteration's netns gets the same inode at once, with keepalive at 7200. No
// write may be judged by the newer netns: not by its value read back, and
// not by the next iteration's write (whose old_value is the new netns').
TEST(Readback, RecycledInodeNeverJudgesByTheNewerNetns) {
  VecSink sink;
  FakeSource src;
  src.writers_gone = true;
  Pipeline p(readback_config(src, Filter{}), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "7200";  // the newer netns
  auto b1 = birth_of(5, 900);
  p.on_record(&b1, b1.hdr.size);
  auto w1 = write_in(5, 10, "net/ipv4/tcp_keepalive_time", "7200", "1001\n");
  p.on_record(&w1, w1.hdr.size);
  EXPECT_EQ(p.netns_now(5), (NetnsId{5, 1}));
  auto b2 = birth_of(5, 1100);  // the inode reused
  p.on_record(&b2, b2.hdr.size);
  auto w2 = write_in(5, 11, "net/ipv4/tcp_keepalive_time", "7200", "1002\n");
  w2.hdr.task.ts_boot_ns = 1200;
  p.on_record(&w2, w2.hdr.size);
  EXPECT_EQ(p.netns_now(5), (NetnsId{5, 2}));
  p.expire_writes(10'000'000, false);
  // The first: its writer is gone and inode 5 is another netns now.
  // The second: read back by inode in its own (current) generation (the
  // fake answers 7200 there).
  EXPECT_EQ(results(sink), (std::vector<std::string>{"1001=unknown", "1002=not_applied"}));
}

// The same loop with the writers' exit snapshots: every write definite.
TEST(Readback, WriterExitSnapshotJudgesWritesInADeadNetns) {
  VecSink sink;
  FakeSource src;
  src.writers_gone = true;
  Pipeline p(readback_config(src, Filter{}, /*writer_exits=*/true), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "7200";
  for (uint32_t i = 0; i < 3; ++i) {
    const uint64_t t = 1000 + 1000 * i;
    auto b = birth_of(5, t);
    p.on_record(&b, b.hdr.size);
    const std::string ka = std::to_string(1000 + i), fin = "x" + std::to_string(i);
    auto a = write_in(5, 10 + i, "net/ipv4/tcp_keepalive_time", "7200", (ka + "\n").c_str());
    a.hdr.task.ts_boot_ns = t + 10;
    auto f = write_in(5, 10 + i, "net/ipv4/tcp_fin_timeout", "60", (fin + "\n").c_str());
    f.hdr.task.ts_boot_ns = t + 20;
    p.on_record(&a, a.hdr.size);
    p.on_record(&f, f.hdr.size);
    p.on_writer_exit(
        10 + i, 5, t + 30,
        values({{"net.ipv4.tcp_keepalive_time", ka}, {"net.ipv4.tcp_fin_timeout", "60"}}));
  }
  // An exit of a thread in another generation of the inode is not theirs.
  p.on_writer_exit(10, 5, 5000, values({{"net.ipv4.tcp_keepalive_time", "1"}}));
  p.expire_writes(10'000'000, false);
  EXPECT_EQ(results(sink),
            (std::vector<std::string>{"1000=ok", "x0=not_applied", "1001=ok", "x1=not_applied",
                                      "1002=ok", "x2=not_applied"}));
  EXPECT_EQ(src.reads, 0) << "judged by the snapshots alone";
}

// A write whose writer is gone waits (bounded) for the exit snapshot, and
// what came after it waits too: events leave in the kernel's order.
TEST(Readback, GoneWriterWaitsForItsExitAndKeepsOrder) {
  VecSink sink;
  FakeSource src;
  src.writers_gone = true;
  Pipeline p(readback_config(src, Filter{}, /*writer_exits=*/true), sink);
  auto w = write_in(7, 10, "net/ipv4/tcp_keepalive_time", "7200", "600\n");
  p.on_record(&w, w.hdr.size);
  auto r = sstest::sysctl_record(false, "net/ipv4/tcp_keepalive_time", "7200");
  r.hdr.task.ts_boot_ns = 2000;
  r.hdr.task.pid = r.hdr.task.tid = 20;
  p.on_record(&r, r.hdr.size);
  p.expire_writes(5'000'000, false);
  EXPECT_TRUE(sink.events.empty()) << "the read behind the held write waits with it";
  p.on_writer_exit(10, 7, 1500, values({{"net.ipv4.tcp_keepalive_time", "7200"}}));
  p.expire_writes(6'000'000, false);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(to_string(sink.events[0].as<SysctlWrite>().result), "not_applied");
  EXPECT_TRUE(sink.events[1].is<SysctlRead>());

  // No snapshot ever (lost): after kExitWaitNs, read back by inode, since
  // no newer netns of that inode was seen.
  src.values[{7, "net.ipv4.tcp_fin_timeout"}] = "30";
  auto f = write_in(7, 11, "net/ipv4/tcp_fin_timeout", "60", "30\n");
  f.hdr.task.ts_boot_ns = 10'000'000;
  p.on_record(&f, f.hdr.size);
  p.expire_writes(12'000'000, false);
  EXPECT_EQ(sink.events.size(), 2u);
  p.expire_writes(10'000'000 + Pipeline::kExitWaitNs, false);
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(to_string(sink.events[2].as<SysctlWrite>().result), "ok");
  EXPECT_EQ(src.reaches.back(), Reach::Anyone);
}

// The next write to the same sysctl in the same netns generation came before
// the writer's exit: its old_value, not the exit value, judges.
TEST(Readback, NextWriteBeforeTheExitJudges) {
  VecSink sink;
  FakeSource src;
  src.writers_gone = true;
  Pipeline p(readback_config(src, Filter{}, /*writer_exits=*/true), sink);
  auto a = write_in(8, 10, "net/ipv4/tcp_keepalive_time", "7200", "600\n");
  auto b = write_in(8, 11, "net/ipv4/tcp_keepalive_time", "600", "900\n");
  b.hdr.task.ts_boot_ns = 1100;
  p.on_record(&a, a.hdr.size);
  p.on_record(&b, b.hdr.size);
  p.on_writer_exit(10, 8, 1200, values({{"net.ipv4.tcp_keepalive_time", "900"}}));
  p.on_writer_exit(11, 8, 1300, values({{"net.ipv4.tcp_keepalive_time", "900"}}));
  p.expire_writes(10'000'000, false);
  EXPECT_EQ(results(sink), (std::vector<std::string>{"600=ok", "900=ok"}));
}

TEST(Readback, KernelMaskAddsBirthsAndWriterExits) {
  Filter w;
  w.types = Filter::parse_types({"sysctl_write"});
  const uint32_t rb = kernel_type_mask(w, {WriteResultMode::Readback});
  EXPECT_TRUE(rb & SS_TYPE_BIT(SS_EV_WRITER_EXIT));
  EXPECT_TRUE(rb & SS_TYPE_BIT(SS_EV_NETNS_CREATE)) << "netns generations";
  EXPECT_FALSE(rb & SS_TYPE_BIT(SS_EV_WRITE_RESULT));
  EXPECT_FALSE(kernel_type_mask(w, {WriteResultMode::Syscall}) & SS_TYPE_BIT(SS_EV_WRITER_EXIT));
  Filter reads;
  reads.types = Filter::parse_types({"sysctl_read"});
  EXPECT_EQ(kernel_type_mask(reads, {WriteResultMode::Readback}),
            SS_TYPE_BIT(SS_EV_SYSCTL_READ) | SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) |
                SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
  sstest::FakeProbe probe;
  auto plan = plan_programs(probe, rb);
  EXPECT_TRUE(plan.writer_exits);
  EXPECT_NE(std::find(plan.load.begin(), plan.load.end(), "ss_writer_exit"), plan.load.end());
  auto sc = plan_programs(probe, kernel_type_mask(Filter{}, {WriteResultMode::Syscall}));
  EXPECT_FALSE(sc.writer_exits);
}

// The read-back found a third value: the write that set it may have been
// queued while we read. The write waits one more pass; the next write's
// old_value then judges it, or, without one, the value read stands.
TEST(Readback, ThirdValueWaitsOnePassForTheWriteThatSetIt) {
  VecSink sink;
  FakeSource src;
  Pipeline p(readback_config(src, Filter{}), sink);
  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "900";  // already changed by the next write
  auto a = write_in(5, 10, "net/ipv4/tcp_keepalive_time", "7200", "600\n");
  p.on_record(&a, a.hdr.size);
  p.expire_writes(5'000'000, false);
  EXPECT_TRUE(sink.events.empty());
  auto b = write_in(5, 11, "net/ipv4/tcp_keepalive_time", "600", "900\n");
  b.hdr.task.ts_boot_ns = 4'000'000;
  p.on_record(&b, b.hdr.size);
  p.expire_writes(10'000'000, false);
  EXPECT_EQ(results(sink), (std::vector<std::string>{"600=ok", "900=ok"}));

  src.values[{5, "net.ipv4.tcp_keepalive_time"}] = "1000";  // nobody we saw wrote that
  auto c = write_in(5, 12, "net/ipv4/tcp_keepalive_time", "900", "950\n");
  c.hdr.task.ts_boot_ns = 20'000'000;
  p.on_record(&c, c.hdr.size);
  p.expire_writes(25'000'000, false);
  EXPECT_EQ(sink.events.size(), 2u);
  p.expire_writes(30'000'000, false);
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(to_string(sink.events[2].as<SysctlWrite>().result), "unknown");
}
