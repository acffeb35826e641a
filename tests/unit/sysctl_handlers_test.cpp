// SPDX-License-Identifier: Apache-2.0
// model/sysctl_handlers against the kernel write corpus (measured on a real
// kernel by the privileged Writes.* test) and a few rules on their own.
#include "model/sysctl_handlers.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "model/event.hpp"
#include "write_corpus.hpp"

using namespace sysctlscope;

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : " ") + e;
  return s;
}

std::string lowest(const std::string& after) { return after.substr(0, after.find("..")); }

}  // namespace

TEST(WriteModel, CorpusOutcomesVerdictsAndStoredValues) {
  const auto cases = sstest::load_write_corpus(SS_SOURCE_DIR "/tests/corpus/kernel_writes.tsv");
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id + " (" + c.sysctl + " <- " + c.value + ")");
    const int strict = c.group == "warn" ? 0 : 1;
    auto h = handler_of(c.sysctl);
    ASSERT_TRUE(h) << "every corpus sysctl has a table row";
    const std::string bytes = c.bytes();
    const auto outs = kernel_write_outcomes(*h, c.old, bytes, c.pos, strict);
    bool found = false;
    for (const auto& o : outs)
      if (o.ok == c.ok() && (!c.ok() || o.taken == c.taken()) && joined(o.stored) == c.after)
        found = true;
    EXPECT_TRUE(found) << "no outcome " << c.result << " -> '" << c.after << "'";

    // The read-back verdict, with the value this kernel would print.
    const std::string now = lowest(c.after);
    auto v = judge_by_handler(c.sysctl, c.old, bytes, c.pos, strict, now);
    ASSERT_TRUE(v);
    EXPECT_EQ(to_string(v->result), c.ok() ? "ok" : "not_applied");
    const std::string plain =
        normalize_value(c.ok() ? std::string(strip_one_newline(bytes)) : c.old);
    if (now != plain)
      EXPECT_EQ(v->stored.value_or("<none>"), now);
    else
      EXPECT_FALSE(v->stored) << *v->stored;

    // The syscall mode's stored value, where the model can tell it.
    auto s = stored_after_result(c.sysctl, c.old, bytes, c.pos, strict,
                                 *parse_write_outcome(c.ok() ? "ok" : c.result));
    if (c.after.find("..") == std::string::npos && c.after != plain)
      EXPECT_EQ(s.value_or("<none>"), c.after);
    else
      EXPECT_FALSE(s) << *s;
  }
}

TEST(WriteModel, RefusedBeforeTheHandlerLeavesTheOldValue) {
  // tcp_max_syn_backlog (proc_dointvec) accepts 600; still holding 128 means
  // something refused it before the handler (EPERM from a BPF program).
  auto v = judge_by_handler("net.ipv4.tcp_max_syn_backlog", "128", "600\n", 0, 1, "128");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->result, WriteOutcome{WriteStatus::NotApplied});
  EXPECT_FALSE(v->stored);
  // A third value: nobody's write of 600 leaves 900.
  v = judge_by_handler("net.ipv4.tcp_max_syn_backlog", "128", "600\n", 0, 1, "900");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->result.unknown());
  // EPERM stores nothing; EINVAL on a vector stores its first elements.
  EXPECT_FALSE(stored_after_result("net.ipv4.tcp_rmem", "4096 131072 6291456",
                                   "8192 0 6291456", 0, 1, WriteOutcome::failed_with(EPERM)));
  EXPECT_EQ(stored_after_result("net.ipv4.tcp_rmem", "4096 131072 6291456", "8192 0 6291456", 0,
                                1, WriteOutcome::failed_with(EINVAL))
                .value_or(""),
            "8192 131072 6291456");
}

TEST(WriteModel, UntabledIntegersAreParsedAsProcDointvec) {
  EXPECT_FALSE(handler_of("vm.swappiness"));
  auto v = judge_by_handler("vm.swappiness", "60", "0x10", 0, 1, "16");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->result.ok());
  EXPECT_EQ(v->stored.value_or(""), "16");
  // Bounds unknown: the old value back means refused.
  v = judge_by_handler("vm.swappiness", "60", "1000", 0, 1, "60");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->result, WriteOutcome{WriteStatus::NotApplied});
  // A string sysctl outside the table: no model, bytes are compared.
  EXPECT_FALSE(judge_by_handler("kernel.core_pattern", "core", "0x10", 0, 1, "0x10"));
}

TEST(WriteModel, TableRowsMatchOneComponentPerStar) {
  ASSERT_TRUE(handler_of("net.ipv4.conf.eth0.rp_filter"));
  EXPECT_EQ(handler_of("net.ipv4.conf.eth0.rp_filter")->family, HandlerFamily::Int);
  EXPECT_FALSE(handler_of("net.ipv4.conf.eth0"));
  EXPECT_EQ(handler_of("net.ipv4.neigh.lo.retrans_time_ms")->family, HandlerFamily::MsJiffies);
  EXPECT_EQ(handler_of("net.ipv4.neigh.lo.retrans_time")->family, HandlerFamily::UserHz);
  for (auto n : {"net.ipv4.tcp_rmem", "kernel.hostname", "net.ipv4.ip_local_port_range"})
    EXPECT_NE(std::string(handler_of(n)->source), "") << n;
}
