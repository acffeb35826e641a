// SPDX-License-Identifier: Apache-2.0
// Detection rules against the real kernel and a real runc container
// (trace --rules, docs/rules.md): an escape attempt through /proc/sys, the
// same attempt refused by the read-only mount, a hardening change on the host.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

// The container writes kernel.core_pattern with the value it already has:
// the host is never changed.
const char* kRewriteCorePattern =
    "v=$(cat /proc/sys/kernel/core_pattern) && printf '%s\\n' \"$v\" > "
    "/proc/sys/kernel/core_pattern";

void expect_escape(const Json& d, const std::string& trigger, bool blocked) {
  EXPECT_EQ(d["rule"], "escape.core_pattern");
  EXPECT_EQ(d["pack"], "escape");
  EXPECT_EQ(d["severity"], "critical");
  EXPECT_EQ(d["technique"], "T1611");
  EXPECT_EQ(d["sysctl"], "kernel.core_pattern");
  EXPECT_EQ(d["trigger"], trigger);
  EXPECT_EQ(d.value("blocked", false), blocked);
  EXPECT_EQ(d["proc"]["comm"], "sh");
}

}  // namespace

TEST(DetectE2E, WritableProcSysCorePatternIsCriticalEscape) {
  const std::string before = read_sysctl("kernel.core_pattern");
  Tracer t({"--rules", "escape,hardening"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer::Options o;
  o.writable_proc_sys = true;
  RuncContainer c(o);
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cgid = cgroup_id_of_pid(init);
  auto r = c.exec({"sh", "-c", kRewriteCorePattern});
  ASSERT_EQ(r.status, 0) << r.err;
  auto mine = [&](const Json& e) { return e["cgroup"]["id"] == cgid; };
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return mine(e) && is_event(e, "detection"); }))
      << t.stderr_text();
  auto evs = select(t.stop(), mine);
  EXPECT_EQ(read_sysctl("kernel.core_pattern"), before);
  // The write, then its detections right after it, worst first.
  auto w = std::find_if(evs.begin(), evs.end(),
                        [](const Json& e) { return is_event(e, "sysctl_write", "kernel.core_pattern"); });
  ASSERT_NE(w, evs.end());
  EXPECT_EQ((*w)["value"], before);
  EXPECT_EQ((*w)["result"], "ok");
  EXPECT_FALSE(w->contains("rule")) << "the write itself is unchanged";
  ASSERT_GE(evs.end() - w, 3);
  expect_escape(*(w + 1), "sysctl_write", false);
  EXPECT_EQ((*(w + 1))["container"]["id"], c.id());
  EXPECT_EQ((*(w + 1))["value"], before);
  EXPECT_EQ((*(w + 2))["rule"], "escape.host_global");
  EXPECT_EQ((*(w + 2))["severity"], "high");
  auto dets = select(evs, [](const Json& e) { return is_event(e, "detection"); });
  EXPECT_EQ(dets.size(), 2u);
}

TEST(DetectE2E, ReadOnlyProcSysBlockedAttemptMatchesTheSameRule) {
  Tracer t({"--rules", "escape", "--min-severity", "critical"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cgid = cgroup_id_of_pid(init);
  auto r = c.exec({"sh", "-c", kRewriteCorePattern});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  auto mine = [&](const Json& e) { return e["cgroup"]["id"] == cgid; };
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return mine(e) && is_event(e, "detection"); }))
      << t.stderr_text();
  auto evs = select(t.stop(), mine);
  auto b = std::find_if(evs.begin(), evs.end(), [](const Json& e) {
    return is_event(e, "sysctl_blocked", "kernel.core_pattern");
  });
  ASSERT_NE(b, evs.end());
  ASSERT_NE(b + 1, evs.end());
  expect_escape(*(b + 1), "sysctl_blocked", true);
  EXPECT_EQ((*(b + 1))["result"], "EROFS");
  // --min-severity critical: escape.host_global (high) is not reported.
  auto dets = select(evs, [](const Json& e) { return is_event(e, "detection"); });
  EXPECT_EQ(dets.size(), 1u);
}

TEST(DetectE2E, HostKptrRestrictChangeIsHardening) {
  SysctlGuard g("kernel.kptr_restrict");
  const std::string other = g.original() == "1" ? "2" : "1";
  Tracer t({"--rules", "escape,hardening", "--sysctl", "kernel.kptr_restrict"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = sh("sysctl -w kernel.kptr_restrict=" + other);
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(t.wait_for([](const Json& e) { return is_event(e, "detection"); }))
      << t.stderr_text();
  auto evs = t.stop();
  auto dets = select(evs, [](const Json& e) { return is_event(e, "detection"); });
  ASSERT_EQ(dets.size(), 1u);
  EXPECT_EQ(dets[0]["rule"], "hardening.kernel_pointers");
  EXPECT_EQ(dets[0]["severity"], "high");
  EXPECT_EQ(dets[0]["technique"], "T1562.001");
  EXPECT_EQ(dets[0]["value"], other);
  EXPECT_EQ(dets[0]["old_value"], g.original());
  EXPECT_EQ(dets[0]["proc"]["comm"], "sysctl");
  EXPECT_TRUE(dets[0]["container"].is_null());
}

namespace {


std::vector<Json> about(const std::vector<Json>& evs, const std::string& sysctl) {
  return select(evs, [&](const Json& e) { return is_event(e, "detection", sysctl); });
}

}  // namespace

// check --rules: the host's values now against the packs' safe values.
TEST(DetectE2E, CheckRulesReportsAHostValueOutsideTheSafeOnes) {
  SysctlGuard g("kernel.kptr_restrict");
  g.set("0");
  auto r = run({binary(), "check", "--rules", "hardening", "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto d = about(json_lines(r.out), "kernel.kptr_restrict");
  ASSERT_EQ(d.size(), 1u) << r.out;
  EXPECT_EQ(d[0]["rule"], "hardening.kernel_pointers");
  EXPECT_EQ(d[0]["severity"], "high");
  EXPECT_EQ(d[0]["trigger"], "check");
  EXPECT_EQ(d[0]["value"], "0");
  EXPECT_EQ(d[0]["result"], "unsafe (safe: 1 or 2)");
  EXPECT_TRUE(d[0]["proc"].is_null());
  EXPECT_TRUE(d[0]["netns"].is_null()) << "a host-global sysctl";
  EXPECT_NE(r.err.find("sysctl(s) checked against rules"), std::string::npos) << r.err;

  g.set("1");
  r = run({binary(), "check", "--rules", "hardening", "-o", "json"});
  EXPECT_TRUE(about(json_lines(r.out), "kernel.kptr_restrict").empty()) << r.out;
}

// A team's pack, judged in a fresh netns (keepalive 7200 at birth): exit 0
// when the value is safe, 1 with the netns read when it is not.
TEST(DetectE2E, CheckRulesWithAUserPackInAPrivateNetns) {
  TempDir dir;
  auto pack = [&](const std::string& safe) {
    const std::string p = dir.path() + "/team-" + safe + ".json";
    std::ofstream(p) << R"({"pack": "team", "rules": [{"id": "team.keepalive",
      "severity": "low", "description": "keepalive tuned", "remediation": "set it back",
      "sysctls": ["net.ipv4.tcp_keepalive_*"],
      "safe": {"net.ipv4.tcp_keepalive_time": ")" + safe + R"("}}]})";
    return p;
  };
  auto r = run({"unshare", "-n", binary(), "check", "--rules", pack("7200"), "-o", "json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = run({"unshare", "-n", binary(), "check", "--rules", pack("60"), "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto evs = json_lines(r.out);
  ASSERT_EQ(evs.size(), 1u) << r.out;
  EXPECT_EQ(evs[0]["rule"], "team.keepalive");
  EXPECT_EQ(evs[0]["value"], "7200");
  EXPECT_TRUE(evs[0]["netns"].is_number());
  EXPECT_NE(evs[0]["netns"].get<uint64_t>(), netns_of(getpid())) << "the private netns";
  // A pack that names a sysctl its rule does not cover is one clear line, exit 2.
  const std::string bad = dir.path() + "/bad.json";
  std::ofstream(bad) << R"({"pack": "bad", "rules": [{"id": "bad.x", "severity": "low",
    "description": "d", "remediation": "r", "sysctls": ["kernel.sysrq"],
    "safe": {"vm.swappiness": "60"}}]})";
  r = run({binary(), "check", "--rules", bad});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("which the rule's sysctls do not"), std::string::npos) << r.err;
}
