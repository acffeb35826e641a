// SPDX-License-Identifier: Apache-2.0
// Rule packs (rules/*.json: schema, docs/rules.md) and the detection matcher
// (user/detect/), no root.
#include <cerrno>
#include <gtest/gtest.h>

#include <map>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "detect/rules.hpp"
#include "model/event.hpp"
#include "policy/policy.hpp"

using namespace sysctlscope;
using namespace sysctlscope::detect;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<Pack> builtin() {
  std::vector<std::string> names;
  for (auto n : builtin_pack_names()) names.emplace_back(n);
  return load_packs(names).value();
}

ContainerInfo ct() {
  ContainerInfo c;
  c.id = "0123456789abcdef";
  c.runtime = Runtime::Runc;
  c.name = "evil";
  return c;
}

Event write(std::string sysctl, std::string old_v, std::string new_v, bool in_container) {
  Event e(SysctlWrite{});
  auto& w = e.as<SysctlWrite>();
  w.sysctl = std::move(sysctl);
  w.old_value = std::move(old_v);
  w.value = std::move(new_v);
  w.result = WriteOutcome{WriteStatus::Ok, 0};
  e.pid = 42;
  e.comm = "sh";
  if (in_container) e.container = ct();
  return e;
}

Event blocked(std::string sysctl, bool in_container) {
  Event e(SysctlBlocked{});
  auto& b = e.as<SysctlBlocked>();
  b.sysctl = std::move(sysctl);
  b.err = "EROFS";
  b.blocked_by = BlockedBy::ReadOnlyMount;
  e.pid = 43;
  if (in_container) e.container = ct();
  return e;
}

std::vector<std::string> rules_of(const std::vector<Event>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.as<Detection>().rule);
  return out;
}

std::string pack_error(const std::string& text) {
  auto p = parse_pack(text, "t.json");
  return p ? "(no error)" : p.error().hint();
}

}  // namespace

// Every shipped pack file parses under the schema, is the one built in, and
// rule ids are unique across packs.
TEST(RulePacks, ShippedFilesFollowTheSchema) {
  std::set<std::string> files, ids;
  for (const auto& f : std::filesystem::directory_iterator(SS_SOURCE_DIR "/rules")) {
    if (f.path().extension() != ".json") continue;
    auto p = parse_pack(slurp(f.path()), f.path());
    ASSERT_TRUE(p) << p.error().what() << ": " << p.error().hint();
    EXPECT_EQ(p->name, f.path().stem().string()) << "a pack's name is its file's";
    files.insert(p->name);
    for (const auto& r : p->rules) {
      EXPECT_TRUE(ids.insert(r.id).second) << r.id;
      EXPECT_FALSE(r.description.empty());
      EXPECT_FALSE(r.remediation.empty());
    }
  }
  std::set<std::string> built;
  for (auto n : builtin_pack_names()) built.emplace(n);
  EXPECT_EQ(files, built);
  EXPECT_TRUE(files.count("escape") && files.count("hardening"));
}

TEST(RulePacks, SchemaErrorsNameTheProblem) {
  const std::string ok_rule =
      R"({"id":"x.a","severity":"high","description":"d","remediation":"r","sysctls":["vm.x"]})";
  EXPECT_EQ(pack_error(R"({"pack":"x","rules":[)" + ok_rule + "]}"), "(no error)");
  EXPECT_EQ(pack_error("{"), "not valid JSON");
  EXPECT_EQ(pack_error(R"({"pack":"x","rules":[]})"), "\"rules\" must be a non-empty list");
  EXPECT_EQ(pack_error(R"({"pack":"x","rulez":[]})"), "unknown key \"rulez\"");
  EXPECT_EQ(
      pack_error(
          R"({"pack":"x","rules":[{"id":"x.a","severity":"urgent","description":"d","remediation":"r","sysctls":["a"]}]})"),
      "severity \"urgent\" is not info, low, medium, high or critical");
  EXPECT_EQ(
      pack_error(
          R"({"pack":"x","rules":[{"id":"x.a","severity":"low","technique":"T16","description":"d","remediation":"r","sysctls":["a"]}]})"),
      "technique \"T16\" is not an ATT&CK id (T1611, T1562.001)");
  EXPECT_EQ(
      pack_error(
          R"({"pack":"x","rules":[{"id":"x.a","severity":"low","description":"d","remediation":"r","sysctls":["a"],"orign":"any"}]})"),
      "unknown key \"orign\"");
  EXPECT_EQ(
      pack_error(
          R"({"pack":"x","rules":[{"id":"y.a","severity":"low","description":"d","remediation":"r","sysctls":["a"]}]})"),
      "rule id \"y.a\" must start with \"x.\"");
  EXPECT_FALSE(load_pack("nosuchpack"));
  EXPECT_FALSE(load_pack("/nonexistent/pack.json"));
}

// docs/rules.md holds the table `sysctlscope rules --markdown` prints.
TEST(RulePacks, DocTableIsGeneratedFromThePacks) {
  const std::string doc = slurp(SS_SOURCE_DIR "/docs/rules.md");
  const std::string begin = "<!-- BEGIN GENERATED: sysctlscope rules --markdown -->\n";
  const std::string end = "<!-- END GENERATED -->";
  auto b = doc.find(begin), e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), markdown_table(builtin()))
      << "docs/rules.md is stale: regenerate with `sysctlscope rules --markdown`";
}

TEST(Detector, ContainerWriteOfCorePatternIsCriticalEscape) {
  Detector d(builtin(), Severity::Info);
  // The value it already had: still an escape attempt.
  auto v = d.match(write("kernel.core_pattern", "core", "core", true));
  ASSERT_EQ(rules_of(v), (std::vector<std::string>{"escape.core_pattern", "escape.host_global"}));
  const auto& det = v[0].as<Detection>();
  EXPECT_EQ(det.severity, "critical");
  EXPECT_EQ(det.technique, "T1611");
  EXPECT_EQ(det.trigger, "sysctl_write");
  EXPECT_FALSE(det.blocked);
  EXPECT_EQ(v[0].pid, 42u);
  EXPECT_TRUE(v[0].container.has_value());
  // From the host: not an escape.
  EXPECT_TRUE(d.match(write("kernel.core_pattern", "core", "core", false)).empty());
  // Into a namespace the writer does not own: the same as from a container.
  Event cross = write("kernel.core_pattern", "core", "|/x", false);
  cross.cross_namespace = true;
  EXPECT_EQ(rules_of(d.match(cross))[0], "escape.core_pattern");
}

TEST(Detector, BlockedAttemptMatchesTheSameRule) {
  Detector d(builtin(), Severity::Info);
  auto v = d.match(blocked("kernel.core_pattern", true));
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].as<Detection>().rule, "escape.core_pattern");
  EXPECT_TRUE(v[0].as<Detection>().blocked);
  EXPECT_EQ(v[0].as<Detection>().result, "EROFS");
  EXPECT_EQ(v[0].as<Detection>().trigger, "sysctl_blocked");
}

TEST(Detector, HardeningNeedsAChange) {
  Detector d(builtin(), Severity::Info);
  EXPECT_EQ(rules_of(d.match(write("kernel.kptr_restrict", "1", "0", false))),
            (std::vector<std::string>{"hardening.kernel_pointers"}));
  EXPECT_TRUE(d.match(write("kernel.kptr_restrict", "1", "1", false)).empty());
  Event failed = write("kernel.modules_disabled", "1", "0", false);
  failed.as<SysctlWrite>().result = WriteOutcome::failed_with(EINVAL);
  auto v = d.match(failed);  // refused by the kernel: an attempt all the same
  ASSERT_EQ(rules_of(v), (std::vector<std::string>{"hardening.kernel_loading"}));
  EXPECT_TRUE(v[0].as<Detection>().blocked);
}

TEST(Detector, OrdinaryWritesMatchNothing) {
  Detector d(builtin(), Severity::Info);
  // A container's own netns sysctl is namespaced: not host-global.
  EXPECT_TRUE(d.match(write("net.ipv4.ip_forward", "0", "1", true)).empty());
  EXPECT_TRUE(d.match(write("net.core.somaxconn", "4096", "1024", false)).empty());
  EXPECT_TRUE(d.match(write("kernel.shmmax", "1", "2", true)).empty());  // IPC: namespaced
  // A host-global vm.* from a container: escape.host_global.
  EXPECT_EQ(rules_of(d.match(write("vm.overcommit_memory", "0", "1", true))),
            (std::vector<std::string>{"escape.host_global"}));
  Event read(SysctlRead{.sysctl = "kernel.core_pattern", .value = "core"});
  read.container = ct();
  EXPECT_TRUE(d.match(read).empty());
}

TEST(Detector, MinSeverityFilters) {
  Detector d(builtin(), Severity::Critical);
  EXPECT_EQ(rules_of(d.match(write("kernel.core_pattern", "core", "core", true))),
            (std::vector<std::string>{"escape.core_pattern"}));
  EXPECT_TRUE(d.match(write("vm.overcommit_memory", "0", "1", true)).empty());
}

// rules/cis.conf is a policy (docs/policy.md) the parser accepts, and it
// leaves forwarding alone: a container host must forward.
TEST(RulePacks, CisPolicyLoads) {
  auto p = sysctlscope::policy::Policy::load({SS_SOURCE_DIR "/rules/cis.conf"});
  EXPECT_FALSE(p.empty());
  EXPECT_NE(p.rule_for("kernel.randomize_va_space", true, std::nullopt), nullptr);
  EXPECT_NE(p.rule_for("net.ipv4.tcp_syncookies", true, std::nullopt), nullptr);
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, std::nullopt), nullptr);
}

// "safe": exact names the rule covers, string or list values.
TEST(RulePacks, SafeValuesSchema) {
  auto rule = [](const std::string& safe) {
    return R"({"pack":"x","rules":[{"id":"x.a","severity":"low","description":"d","remediation":"r","sysctls":["kernel.k*"],"safe":)" +
           safe + "}]}";
  };
  EXPECT_EQ(pack_error(rule(R"({"kernel.kptr_restrict":["1","2"],"kernel/kexec_load_disabled":"1"})")),
            "(no error)");
  EXPECT_EQ(pack_error(rule(R"({"kernel.k*":"1"})")),
            "\"safe\" names one sysctl, not a glob: \"kernel.k*\"");
  EXPECT_EQ(pack_error(rule(R"({"vm.swappiness":"1"})")),
            "\"safe\" names \"vm.swappiness\", which the rule's sysctls do not");
  EXPECT_EQ(pack_error(rule(R"({"kernel.kptr_restrict":1})")), "\"safe\" values must be strings");
  EXPECT_EQ(pack_error(rule(R"({"kernel.kptr_restrict":[]})")),
            "\"safe\": no value for \"kernel.kptr_restrict\"");
  EXPECT_EQ(pack_error(rule("[]")), "\"safe\" must map sysctl names to their safe values");
}

// audit(): whitespace-normalised comparison, absent sysctls counted, worst
// first, --min-severity honoured.
TEST(Detector, AuditJudgesValuesNowAgainstSafeOnes) {
  auto p = parse_pack(
      R"({"pack":"t","rules":[
        {"id":"t.low","severity":"low","description":"d","remediation":"r","sysctls":["net.ipv4.tcp_rmem","kernel.gone"],
         "safe":{"net.ipv4.tcp_rmem":"4096 131072 6291456","kernel.gone":"1"}},
        {"id":"t.high","severity":"high","description":"d","remediation":"r","sysctls":["kernel.kptr_restrict"],
         "safe":{"kernel.kptr_restrict":["1","2"]}}]})",
      "t.json");
  ASSERT_TRUE(p) << p.error().hint();
  std::map<std::string, std::string> now = {{"net.ipv4.tcp_rmem", "4096\t131072\t6291456"},
                                            {"kernel.kptr_restrict", "0"}};
  auto read = [&](const std::string& n) -> std::optional<std::string> {
    auto it = now.find(n);
    return it == now.end() ? std::nullopt : std::optional(it->second);
  };
  auto a = Detector({*p}, Severity::Info).audit(read, 7);
  EXPECT_EQ(a.checked, 2u);
  EXPECT_EQ(a.absent, 1u);
  ASSERT_EQ(rules_of(a.detections), (std::vector<std::string>{"t.high"}));
  const auto& d = a.detections[0].as<Detection>();
  EXPECT_EQ(d.trigger, "check");
  EXPECT_EQ(d.value, "0");
  EXPECT_EQ(d.result, "unsafe (safe: 1 or 2)");
  EXPECT_EQ(a.detections[0].time_ns, 7u);
  now["net.ipv4.tcp_rmem"] = "4096 87380 6291456";
  a = Detector({*p}, Severity::Info).audit(read, 7);
  EXPECT_EQ(rules_of(a.detections), (std::vector<std::string>{"t.high", "t.low"}));
  a = Detector({*p}, Severity::High).audit(read, 7);
  EXPECT_EQ(rules_of(a.detections), (std::vector<std::string>{"t.high"}));
}
