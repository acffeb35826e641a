// SPDX-License-Identifier: Apache-2.0
// The event-type registry (model/event_types.hpp), the exact JSON of every
// type (docs/events.md), and past bugs that a test can catch:
// monotonic expiry of held writes, which value of a write was truncated
// after a JSON round trip, the '/' boundary of --cgroup, and `diff --from`
// reading a recording whose last line was cut.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/error.hpp"
#include "core/path.hpp"
#include "fakes.hpp"
#include "forensics/recording.hpp"
#include "model/filter.hpp"
#include "netns/diff.hpp"
#include "output/sink.hpp"
#include "pipeline/pipeline.hpp"
#include "records.hpp"
#include "session/session.hpp"

using namespace sysctlscope;
using sstest::VecSink;

namespace {
constexpr std::string_view kCommonHost =
    R"("proc":{"pid":7,"tid":8,"ppid":1,"comm":"sh","uid":0},"cgroup":{"id":1,"path":"/"},"netns":4026531840,)"
    R"("container":null,"netns_container":null,"cross_namespace":false)";

template <class T>
Event with_actor(T payload) {
  Event e(std::move(payload));
  e.time_ns = 1700000000000000001ull;
  e.pid = 7;
  e.tid = 8;
  e.ppid = 1;
  e.comm = "sh";
  e.cgroup_id = 1;
  e.cgroup_path = "/";
  e.netns = 4026531840u;
  return e;
}

std::string line(std::string_view type, std::string_view fields) {
  return std::string(R"({"time":"2023-11-14T22:13:20.000000001Z","event":")") + std::string(type) +
         "\"," + std::string(kCommonHost) + std::string(fields) + "}";
}

// JSON -> Event -> JSON is the identity on what the tool writes.
void expect_round_trip(const std::string& j) {
  EXPECT_EQ(event_to_json(event_from_json(nlohmann::ordered_json::parse(j))), j);
}
}  // namespace

TEST(Registry, NamesRecordsAndIndexesAreConsistent) {
  std::set<std::string_view> names;
  std::set<uint32_t> records;
  for_each_event_type([&](auto t) {
    using T = typename decltype(t)::type;
    constexpr TypeInfo i = T::kInfo;
    EXPECT_TRUE(names.insert(i.name).second) << i.name;
    if (i.record) {
      EXPECT_TRUE(records.insert(i.record).second) << i.name;
    }
    EXPECT_EQ(to_string(kTypeOf<T>), i.name);
    EXPECT_EQ(parse_event_type(i.name), kTypeOf<T>);
    EXPECT_EQ(Event(T{}).type(), kTypeOf<T>);
  });
  EXPECT_EQ(names.size(), kEventTypeCount);
  EXPECT_EQ(kAllEventTypes.size(), kEventTypeCount);
  EXPECT_EQ(public_type_names(),
            "sysctl_read, sysctl_write, sysctl_blocked, netns_create, netns_enter, lost, sysctl_drift, "
            "detection");
  // Per-type counters are sized from the registry.
  EXPECT_EQ(std::size(PipelineStats{}.by_type), kEventTypeCount);
}

TEST(Registry, KernelMaskComesFromTheTypes) {
  constexpr KernelNeeds syscall{WriteResultMode::Syscall};
  Filter all;
  EXPECT_EQ(kernel_type_mask(all, syscall),
            SS_TYPE_BIT(SS_EV_SYSCTL_READ) | SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                SS_TYPE_BIT(SS_EV_WRITE_RESULT) | SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED) |
                SS_TYPE_BIT(SS_EV_NETNS_CREATE) | SS_TYPE_BIT(SS_EV_NETNS_ENTER) |
                SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
  Filter failed;
  failed.failed_only = true;
  EXPECT_EQ(kernel_type_mask(failed, syscall),
            SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) | SS_TYPE_BIT(SS_EV_WRITE_RESULT) |
                SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED) | SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) |
                SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
  Filter enters;
  enters.types = Filter::parse_types({"netns_enter"});
  EXPECT_EQ(kernel_type_mask(enters, syscall), SS_TYPE_BIT(SS_EV_NETNS_ENTER) |
                                                   SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) |
                                                   SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
  // --policy needs writes and births whatever --type shows (sysctl_drift).
  EXPECT_EQ(kernel_type_mask(enters, {WriteResultMode::Readback, true}),
            SS_TYPE_BIT(SS_EV_NETNS_ENTER) | SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                SS_TYPE_BIT(SS_EV_NETNS_CREATE) | SS_TYPE_BIT(SS_EV_WRITER_EXIT) |
                SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
  EXPECT_EQ(kernel_type_mask(enters, {WriteResultMode::Syscall, true}),
            SS_TYPE_BIT(SS_EV_NETNS_ENTER) | SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                SS_TYPE_BIT(SS_EV_WRITE_RESULT) | SS_TYPE_BIT(SS_EV_NETNS_CREATE) |
                SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
}

// The exact line of every public type: docs/events.md is the contract.
TEST(EventJson, ExactLinesOfEveryType) {
  auto read =
      with_actor(SysctlRead{.sysctl = "net.ipv4.tcp_rmem", .value = "4096\t131072\t6291456"});
  EXPECT_EQ(event_to_json(read),
            line("sysctl_read",
                 R"(,"sysctl":"net.ipv4.tcp_rmem","value":"4096\t131072\t6291456","file_pos":0)"));

  auto write = with_actor(SysctlWrite{.sysctl = "net.ipv4.tcp_keepalive_time",
                                      .old_value = "7200",
                                      .value = "60",
                                      .result = *parse_write_outcome("ok"),
                                      .result_source = WriteResultMode::Syscall,
                                      .bytes_written = 2});
  EXPECT_EQ(event_to_json(write),
            line("sysctl_write",
                 R"(,"sysctl":"net.ipv4.tcp_keepalive_time","old_value":"7200","value":"60",)"
                 R"("result":"ok","file_pos":0,"result_source":"syscall","bytes_written":2)"));
  auto unknown = with_actor(
      SysctlWrite{.sysctl = "a.b", .value = std::string("\xff", 1), .value_error = true});
  EXPECT_EQ(event_to_json(unknown),
            line("sysctl_write", R"(,"sysctl":"a.b","old_value":"","value":")"
                                 "\xEF\xBF\xBD"
                                 R"(","value_hex":"ff",)"
                                 R"("result":"unknown","file_pos":0,"value_error":true)"));

  auto blocked = with_actor(SysctlBlocked{.sysctl = "net.ipv4.tcp_sack",
                                          .path = "/proc/sys/net/ipv4/tcp_sack",
                                          .err = "EROFS",
                                          .blocked_by = BlockedBy::ReadOnlyMount,
                                          .flags = {"O_WRONLY", "O_CREAT", "O_TRUNC"},
                                          .syscall = "openat"});
  EXPECT_EQ(event_to_json(blocked),
            line("sysctl_blocked",
                 R"(,"sysctl":"net.ipv4.tcp_sack","path":"/proc/sys/net/ipv4/tcp_sack",)"
                 R"("errno":"EROFS","blocked_by":"read_only_mount",)"
                 R"("flags":["O_WRONLY","O_CREAT","O_TRUNC"],"syscall":"openat","cmdline":null)"));

  auto born = with_actor(NetnsCreate{
      .parent_netns = 4026531840u,
      .via = "unshare",
      .userns = 4026531837u,
      .defaults = std::vector<std::pair<std::string, std::string>>{{"net.core.somaxconn", "4096"},
                                                                   {"net.ipv4.ip_forward", "0"}},
      .differs_from_host = std::vector<HostDiff>{{"net.ipv4.ip_forward", "0", "1"}},
      .unmapped = {"net.ipv4.conf.lo.tag"}});
  EXPECT_EQ(event_to_json(born),
            line("netns_create",
                 R"(,"parent_netns":4026531840,"via":"unshare","userns":4026531837,)"
                 R"("defaults":{"net.core.somaxconn":"4096","net.ipv4.ip_forward":"0"},)"
                 R"("differs_from_host":[{"sysctl":"net.ipv4.ip_forward","value":"0","host":"1"}],)"
                 R"("unmapped":["net.ipv4.conf.lo.tag"])"));
  // Unknown namespaces are null, as docs/events.md says (0 is no inode).
  auto enter = with_actor(NetnsEnter{});
  EXPECT_EQ(event_to_json(enter), line("netns_enter", R"(,"from_netns":null)"));

  Event lost(Lost{.count = 3});
  lost.time_ns = 1700000000000000001ull;
  EXPECT_EQ(
      event_to_json(lost),
      R"({"time":"2023-11-14T22:13:20.000000001Z","event":"lost","proc":null,"cgroup":null,"netns":null,)"
      R"("container":null,"netns_container":null,"cross_namespace":false,"count":3})");

  for (const Event* e : {&read, &write, &unknown, &blocked, &born, &enter, &lost}) {
    SCOPED_TRACE(to_string(e->type()));
    expect_round_trip(event_to_json(*e));
  }
}

TEST(EventJson, UnknownMembersOfANewerRecordingSurviveReplay) {
  expect_round_trip(line("netns_enter", R"(,"from_netns":12,"future_field":{"a":[1,2]})"));
  // A member of an unexpected type is kept as it was, once.
  expect_round_trip(line("sysctl_blocked",
                         R"(,"sysctl":"a.b","path":"/proc/sys/a/b","errno":"EROFS",)"
                         R"("blocked_by":"permission","syscall":"open","cmdline":null,)"
                         R"("flags":"O_WRONLY|O_TRUNC")"));
}

// Fixed: a write whose old value was cut came back from JSON as a write
// whose new value was cut (readback then called it "unknown" for nothing).
TEST(EventJson, TruncationOfAWriteSurvivesTheRoundTrip) {
  const std::string cut(kValueCapture, 'x');
  auto back = [](const Event& e) {
    return event_from_json(nlohmann::ordered_json::parse(event_to_json(e))).as<SysctlWrite>();
  };
  auto old_cut =
      with_actor(SysctlWrite{.sysctl = "kernel.core_pattern", .old_value = cut, .value = "core"});
  old_cut.as<SysctlWrite>().old_truncated = true;
  auto b = back(old_cut);
  EXPECT_TRUE(b.old_truncated);
  EXPECT_FALSE(b.value_truncated);

  auto new_cut =
      with_actor(SysctlWrite{.sysctl = "kernel.core_pattern", .old_value = "core", .value = cut});
  new_cut.as<SysctlWrite>().value_truncated = true;
  b = back(new_cut);
  EXPECT_FALSE(b.old_truncated);
  EXPECT_TRUE(b.value_truncated);

  auto both =
      with_actor(SysctlWrite{.sysctl = "kernel.core_pattern", .old_value = cut, .value = cut});
  both.as<SysctlWrite>().old_truncated = both.as<SysctlWrite>().value_truncated = true;
  b = back(both);
  EXPECT_TRUE(b.old_truncated);
  EXPECT_TRUE(b.value_truncated);
}

// The sysctl_drift type the policy checker emits: userspace-only (no kernel
// record). Its whole footprint is its struct in model/event_types.hpp;
// everything below works without another change.
TEST(Registry, SysctlDriftNeedsNoOtherFile) {
  Event d(SysctlDrift{
      .sysctl = "net.ipv4.ip_forward", .expected = "0", .value = "1", .policy = "base.yaml:12"});
  d.time_ns = 1700000000000000001ull;
  d.netns = 4026532250u;
  d.container = ContainerInfo{"3f2a", Runtime::Runc, "web", "", "", ""};
  const std::string j = event_to_json(d);
  EXPECT_EQ(
      j,
      R"({"time":"2023-11-14T22:13:20.000000001Z","event":"sysctl_drift","proc":null,"cgroup":null,)"
      R"("netns":4026532250,"container":{"id":"3f2a","runtime":"runc","name":"web","pod":null,)"
      R"("namespace":null,"pod_uid":null},"netns_container":null,"cross_namespace":false,)"
      R"("sysctl":"net.ipv4.ip_forward","expected":"0","value":"1","policy":"base.yaml:12"})");
  expect_round_trip(j);

  std::string row;
  append_event_row(row, d);
  EXPECT_NE(row.find("sysctl_drift   net.ipv4.ip_forward = 1 (expected 0 by base.yaml:12)"),
            std::string::npos)
      << row;

  EXPECT_FALSE(d.failed());
  Filter f;
  f.sysctl_globs = {"net.ipv4.*"};
  EXPECT_TRUE(f.matches(d));
  EXPECT_NO_THROW(Filter::parse_types({"sysctl_drift"})) << "public: check and --policy emit it";
  EXPECT_NE(public_type_names().find("sysctl_drift"), std::string::npos);

  // Counted like any other type.
  VecSink sink;
  Pipeline p(Filter{}, nullptr, sink, false);
  p.feed(Event(d));
  EXPECT_EQ(p.stats().by_type[index_of(kTypeOf<SysctlDrift>)], 1u);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].as<SysctlDrift>().policy, "base.yaml:12");
}

// Fixed: held writes expired against the wall clock; a clock step (NTP,
// a VM resumed) released them at once or held them for hours.
TEST(HeldWrites, ExpireOnTheMonotonicKernelClock) {
  auto rec = sstest::sysctl_record(true, "net/ipv4/tcp_keepalive_time", "7200\n", "60\n");
  rec.hdr.task.ts_boot_ns = 5'000'000'000ull;
  rec.hdr.task.pid = rec.hdr.task.tid = 10;
  rec.write_id = 1;

  VecSink sink;
  Pipeline p(Filter{}, nullptr, sink, /*join_writes=*/true);
  p.on_record(&rec, rec.hdr.size);
  p.expire_writes(5'100'000'000ull, false);  // 100 ms old: its syscall result may still come
  EXPECT_TRUE(sink.events.empty());
  p.expire_writes(5'300'000'000ull,
                  false);  // 300 ms on the boot clock, whatever the wall clock says
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(to_string(sink.events[0].as<SysctlWrite>().result), "unknown");
  EXPECT_EQ(sink.events[0].boot_ns, 5'000'000'000ull);
}

// Fixed: "/sys/fs/cgroup2/x" was taken as below a cgroup2 mount at /sys/fs/cgroup.
TEST(CgroupArg, PrefixStopsAtASlash) {
  EXPECT_TRUE(path_under("/sys/fs/cgroup/a", "/sys/fs/cgroup"));
  EXPECT_TRUE(path_under("/sys/fs/cgroup", "/sys/fs/cgroup"));
  EXPECT_TRUE(path_under("/sys/fs/cgroup/a", "/sys/fs/cgroup/"));
  EXPECT_TRUE(path_under("/a", "/"));
  EXPECT_FALSE(path_under("/sys/fs/cgroup2/a", "/sys/fs/cgroup"));
  EXPECT_FALSE(path_under("/sys/fs/cgrou", "/sys/fs/cgroup"));
  EXPECT_EQ(path_level("/a//b/"), 2u);
  EXPECT_EQ(path_level("/"), 0u);

  using session::cgroup_dir_of;
  EXPECT_EQ(cgroup_dir_of("/sys/fs/cgroup", "/sys/fs/cgroup/system.slice"),
            "/sys/fs/cgroup/system.slice");
  EXPECT_EQ(cgroup_dir_of("/sys/fs/cgroup", "/sys/fs/cgroup2/x"),
            "/sys/fs/cgroup/sys/fs/cgroup2/x");
  EXPECT_EQ(cgroup_dir_of("/sys/fs/cgroup", "system.slice"), "/sys/fs/cgroup/system.slice");
  EXPECT_EQ(cgroup_dir_of("/sys/fs/cgroup", "/docker"), "/sys/fs/cgroup/docker");
}

// Fixed: `diff --from` refused a recording whose last line a killed
// recorder left cut, which `report` and `replay` accept.
TEST(RecordingReaders, BothAcceptACutLastLine) {
  const std::string start =
      R"({"record":"session_start","format":"sysctlscope-recording","version":1,"time":"2026-11-22T11:00:00Z"})"
      "\n";
  const std::string ev =
      R"({"time":"2026-11-22T11:00:00.000000003Z","event":"sysctl_write","proc":{"pid":12,"tid":12,"ppid":1,)"
      R"("comm":"sh","uid":0},"cgroup":null,"netns":4026532250,"container":null,"netns_container":null,)"
      R"("cross_namespace":false,"sysctl":"net.ipv4.tcp_keepalive_time","old_value":"900","value":"1000",)"
      R"("result":"ok","file_pos":0})"
      "\n";
  const std::string cut = R"({"time":"2026-11-22T11:00:01Z","event":"sysctl_wr)";

  forensics::Recording rec;
  forensics::parse_recording(start + ev + cut, "r.jsonl", rec);
  EXPECT_EQ(rec.events.size(), 1u);
  EXPECT_TRUE(rec.sessions[0].incomplete_tail);

  netns::Recording r;
  ASSERT_NO_THROW(r = netns::parse_recording(start + ev + cut, "r.jsonl"));
  EXPECT_EQ(r.events, 1u);
  EXPECT_EQ(r.last_write.size(), 1u);
  // A damaged line that is not the last one is still an error there.
  EXPECT_THROW(netns::parse_recording(start + cut + "\n" + ev, "r.jsonl"), UsageError);
}

// A malformed event (a field of the wrong JSON type) is an Error from the
// output layer's reader: `report` warns and goes on, `netns diff` names the
// line and stops.
TEST(RecordingReaders, AMalformedEventIsNamedByBothReaders) {
  const std::string start =
      R"({"record":"session_start","format":"sysctlscope-recording","version":1,"time":"2026-11-22T11:00:00Z"})"
      "\n";
  const std::string bad =
      R"({"time":"2026-11-22T11:00:00.000000003Z","event":"sysctl_write","proc":{"pid":"twelve","tid":12,"ppid":1,)"
      R"("comm":"sh","uid":0},"cgroup":null,"netns":4026532250,"container":null,"netns_container":null,)"
      R"("cross_namespace":false,"sysctl":"net.ipv4.tcp_keepalive_time","old_value":"900","value":"1000",)"
      R"("result":"ok","file_pos":0})"
      "\n";
  EXPECT_FALSE(parse_event(nlohmann::ordered_json::parse(bad)));

  forensics::Recording rec;
  forensics::parse_recording(start + bad, "r.jsonl", rec);
  EXPECT_EQ(rec.events.size(), 0u);
  ASSERT_EQ(rec.warnings.size(), 2u);  // and: no session_end
  EXPECT_EQ(rec.warnings[0], "r.jsonl:2: bad event: field 'pid' is not a number; ignored");

  try {
    netns::parse_recording(start + bad, "r.jsonl");
    ADD_FAILURE() << "netns diff accepted a malformed event";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "r.jsonl:2: field 'pid' is not a number");
  }
}

// The fallback that GCC 12 at -O3 used to reject (-Wrestrict) in Release builds.
TEST(Errors, ErrnoNames) {
  EXPECT_EQ(errno_name(EROFS), "EROFS");
  EXPECT_EQ(errno_name(4000), "E4000");
}
