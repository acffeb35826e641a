// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "model/decode.hpp"
#include "model/event.hpp"
#include "model/filter.hpp"
#include "model/sysctl_path.hpp"
#include "output/sink.hpp"
#include "records.hpp"
#include "sysctlscope/event.h"

using namespace sysctlscope;

TEST(Names, SlashAndDottedFormsConvertBothWays) {
  EXPECT_EQ(slash_to_dotted("net/ipv4/tcp_keepalive_time"), "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(slash_to_dotted("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(dotted_to_slash("net.ipv4.conf.eth0/100.rp_filter"),
            "net/ipv4/conf/eth0.100/rp_filter");
  EXPECT_EQ(dotted_to_slash(slash_to_dotted("kernel/core_pattern")), "kernel/core_pattern");
}

TEST(Values, OnlyOneTrailingNewlineIsRemoved) {
  EXPECT_EQ(strip_one_newline("600\n"), "600");
  EXPECT_EQ(strip_one_newline("600\n\n"), "600\n");
  EXPECT_EQ(strip_one_newline("4096\t131072\t6291456\n"), "4096\t131072\t6291456");
  EXPECT_EQ(strip_one_newline(""), "");
}

TEST(Time, Rfc3339RoundTrip) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
  uint64_t t = 1795350029123456789ull;
  EXPECT_EQ(*parse_rfc3339(format_rfc3339(t)), t);
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("2026-11-22T11:00:29.1+01:00"));
}

namespace {
ss_sysctl_event make_record(bool write, const char* name, std::string_view value,
                            std::string_view nv, uint32_t flags = 0) {
  ss_sysctl_event r =
      sstest::sysctl_record(write, name, value, write ? nv : std::string_view(), flags);
  r.hdr.task.pid = 10;
  r.hdr.task.tid = 11;
  r.hdr.task.ppid = 1;
  r.hdr.task.uid = 0;
  r.hdr.task.netns = 4026531840u;
  r.hdr.task.cgroup_id = 77;
  r.hdr.task.ts_boot_ns = 1000;
  std::strcpy(r.hdr.task.comm, "cat");
  r.write_id = write ? 1000 : 0;
  return r;
}
}  // namespace

TEST(Decode, ReadRecord) {
  Decoder d{BootClock(5)};
  auto r = make_record(false, "net/ipv4/tcp_rmem", "4096\t131072\t6291456\n", "");
  auto out = d.decode(&r, r.hdr.size);
  ASSERT_TRUE(out);
  const Event& e = std::get<Event>(*out);
  ASSERT_EQ(e.type(), kTypeOf<SysctlRead>);
  EXPECT_EQ(e.as<SysctlRead>().sysctl, "net.ipv4.tcp_rmem");
  EXPECT_EQ(e.as<SysctlRead>().value, "4096\t131072\t6291456");
  EXPECT_EQ(e.time_ns, 1005u);
  EXPECT_EQ(e.comm, "cat");
  EXPECT_EQ(e.netns, 4026531840u);
  EXPECT_FALSE(e.as<SysctlRead>().truncated);
}

TEST(Decode, WriteRecordKeepsValuesAndTruncation) {
  Decoder d{BootClock(0)};
  std::string big(SS_VALUE_MAX - 1, 'x');
  auto r = make_record(true, "kernel/core_pattern", "core\n", big, SS_F_NEW_TRUNC);
  auto out = d.decode(&r, r.hdr.size);
  ASSERT_TRUE(out);
  const auto& w = std::get<Event>(*out).as<SysctlWrite>();
  EXPECT_EQ(w.old_value, "core");
  EXPECT_EQ(w.value, big);
  EXPECT_TRUE(w.value_truncated);
  auto j = nlohmann::ordered_json::parse(event_to_json(std::get<Event>(*out)));
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["result"], "unknown");
}

TEST(Decode, RejectsMalformedRecords) {
  Decoder d{BootClock(0)};
  auto r = make_record(false, "a", "b", "");
  EXPECT_FALSE(d.decode(&r, 4));
  r.hdr.version = 99;
  EXPECT_FALSE(d.decode(&r, r.hdr.size));
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = 200;
  EXPECT_FALSE(d.decode(&r, r.hdr.size));
  r.value_len = 600;  // lengths past the record
  EXPECT_FALSE(d.decode(&r, r.hdr.size));
}

TEST(Filter, TypesGlobsAndFailed) {
  EXPECT_THROW(Filter::parse_types({"sysctl_reed"}), UsageError);
  EXPECT_THROW(Filter::validate_glob("net.[ipv4"), UsageError);
  EXPECT_THROW(Filter::validate_glob("net\\"), UsageError);
  EXPECT_NO_THROW(Filter::validate_glob("net.ipv4.tcp_*"));
  EXPECT_NO_THROW(Filter::validate_glob("net.ipv[46].*"));

  Filter f;
  f.sysctl_globs = {"net.ipv4.tcp_*"};
  Event e(SysctlRead{.sysctl = "net.ipv4.tcp_keepalive_time"});
  EXPECT_TRUE(f.matches(e));
  e.as<SysctlRead>().sysctl = "net.ipv4.ip_forward";
  EXPECT_FALSE(f.matches(e));

  Filter failed;
  failed.failed_only = true;
  Event w(SysctlWrite{.result = *parse_write_outcome("ok")});
  EXPECT_FALSE(failed.matches(w));
  w.as<SysctlWrite>().result = *parse_write_outcome("EINVAL");
  EXPECT_TRUE(failed.matches(w));
  EXPECT_EQ(kernel_type_mask(failed, {}) & SS_TYPE_BIT(SS_EV_SYSCTL_READ), 0u);

  Event lost(Lost{});
  EXPECT_TRUE(failed.matches(lost));  // losses are never filtered
}

TEST(SysctlName, Normalisation) {
  EXPECT_EQ(normalize_sysctl_name("net/ipv4/tcp_keepalive_time"), "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(normalize_sysctl_name("/proc/sys/net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(normalize_sysctl_name("net.ipv4.conf.eth0/100.rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(normalize_sysctl_name("kernel.hostname"), "kernel.hostname");
  EXPECT_EQ(normalize_sysctl_name(""), "");
}

TEST(SysctlName, CannotEscapeProcSys) {
  EXPECT_TRUE(valid_sysctl_name("net.ipv4.tcp_keepalive_time"));
  EXPECT_TRUE(valid_sysctl_name("net.ipv4.conf.eth0/100.rp_filter"));
  EXPECT_FALSE(valid_sysctl_name(normalize_sysctl_name("kernel/../../etc/passwd")));
  EXPECT_FALSE(valid_sysctl_name(normalize_sysctl_name("net/./ipv4")));
  EXPECT_FALSE(valid_sysctl_name("net..ipv4"));
  EXPECT_FALSE(valid_sysctl_name("net.ipv4."));
  EXPECT_FALSE(valid_sysctl_name(""));
}

TEST(SysctlName, ScopeOfNames) {
  EXPECT_EQ(scope_of("net.ipv4.tcp_keepalive_time"), SysctlScope::Net);
  EXPECT_EQ(scope_of("net.core.somaxconn"), SysctlScope::Net);
  EXPECT_EQ(scope_of("kernel.hostname"), SysctlScope::Uts);
  EXPECT_EQ(scope_of("kernel.domainname"), SysctlScope::Uts);
  EXPECT_EQ(scope_of("kernel.shmmax"), SysctlScope::Ipc);
  EXPECT_EQ(scope_of("kernel.msgmnb"), SysctlScope::Ipc);
  EXPECT_EQ(scope_of("kernel.sem"), SysctlScope::Ipc);
  EXPECT_EQ(scope_of("fs.mqueue.msg_max"), SysctlScope::Ipc);
  EXPECT_EQ(scope_of("user.max_user_namespaces"), SysctlScope::User);
  EXPECT_EQ(scope_of("kernel.ns_last_pid"), SysctlScope::User);
  EXPECT_EQ(scope_of("vm.swappiness"), SysctlScope::Global);
  EXPECT_EQ(scope_of("kernel.semaphore_bogus_name_is_global"), SysctlScope::Global);
  EXPECT_EQ(scope_of("network.is.not.net"), SysctlScope::Global);
}

TEST(Vocab, WriteOutcomeHasOneUnknownAndRoundTripsErrnoNames) {
  // "" (recordings of old versions) and "unknown" are one value.
  EXPECT_EQ(parse_write_outcome(""), WriteOutcome{});
  EXPECT_EQ(parse_write_outcome("unknown"), WriteOutcome{});
  EXPECT_EQ(to_string(WriteOutcome{}), "unknown");
  for (std::string w : {"ok", "not_applied", "EINVAL", "ENOENT", "EPERM", "E200"})
    EXPECT_EQ(to_string(parse_write_outcome(w).value()), w);
  EXPECT_EQ(parse_write_outcome("EINVAL"), WriteOutcome::failed_with(EINVAL));
  EXPECT_TRUE(parse_write_outcome("EINVAL")->failed());
  EXPECT_TRUE(parse_write_outcome("not_applied")->failed());
  EXPECT_FALSE(parse_write_outcome("unknown")->failed());
  EXPECT_FALSE(parse_write_outcome("future_word"));
  EXPECT_FALSE(parse_write_outcome("E"));
  EXPECT_FALSE(parse_write_outcome("E0"));
}

TEST(Vocab, NamesRoundTrip) {
  EXPECT_EQ(name_of(BlockedBy::ReadOnlyMount), "read_only_mount");
  EXPECT_EQ(parse_name<BlockedBy>("permission"), BlockedBy::Permission);
  EXPECT_FALSE(parse_name<BlockedBy>(""));
  EXPECT_EQ(blocked_by_errno(EROFS), BlockedBy::ReadOnlyMount);
  EXPECT_EQ(blocked_by_errno(EACCES), BlockedBy::Permission);
  EXPECT_EQ(blocked_by_errno(EIO), BlockedBy::Other);
  EXPECT_EQ(name_of(scope_of("net.ipv4.tcp_syncookies")), "net");
  EXPECT_EQ(name_of(scope_of("vm.swappiness")), "none");
  EXPECT_EQ(parse_name<WriteResultMode>("syscall"), WriteResultMode::Syscall);
  EXPECT_FALSE(parse_name<WriteResultMode>("Syscall"));
}

TEST(Vocab, AWordOutsideTheVocabularyIsKeptVerbatim) {
  // Replay writes such a member back as it was, after the known ones.
  auto e = event_from_json(nlohmann::ordered_json::parse(
      R"({"time":"2026-11-22T11:00:00.000000001Z","event":"sysctl_write","netns":1,)"
      R"("sysctl":"a.b","old_value":"1","value":"2","result":"future_word","file_pos":0})"));
  EXPECT_TRUE(e.as<SysctlWrite>().result.unknown());
  EXPECT_NE(e.unknown_json.find(R"("result":"future_word")"), std::string::npos);
}
