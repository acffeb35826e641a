// SPDX-License-Identifier: Apache-2.0
// Bad input gets one clear line on stderr and a non-zero exit, before any
// privilege or kernel check (runs without root).
#include <gtest/gtest.h>

#include <algorithm>

#include <linux/types.h>
#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "core/error.hpp"
#include "fakes.hpp"
#include "harness.hpp"
#include "sysctlscope/event.h"

using sstest::binary;
using sstest::run;

namespace {
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("sysctlscope: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(r.out.empty());
}
}  // namespace

TEST(Cli, RejectsBadInputWithOneLine) {
  expect_usage_error({"trace", "--type", "sysctl_reed"}, "unknown event type 'sysctl_reed'");
  expect_usage_error({"trace", "--sysctl", "net.[ipv4"}, "unbalanced '['");
  expect_usage_error({"trace", "--duration", "-3"}, "--duration");
  expect_usage_error({"trace", "--duration", "soon"}, "--duration");
  expect_usage_error({"trace", "--count", "-1"}, "--count");
  expect_usage_error({"trace", "--count", "many"}, "--count");
  expect_usage_error({"trace", "-o", "xml"}, "unknown output format 'xml'");
  expect_usage_error({"trace", "--pid", "0"}, "--pid");
  expect_usage_error({"trace", "--ringbuf-size", "3000"}, "power of two");
  expect_usage_error({"trace", "--ringbuf-size", "8X"}, "unknown size unit");
  expect_usage_error({"trace", "--bogus"}, "--bogus");
  expect_usage_error({"frobnicate"}, "frobnicate");
}

TEST(Cli, VersionAndHelp) {
  auto v = run({binary(), "--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("sysctlscope ", 0), 0u) << v.out;
  auto h = run({binary(), "trace", "--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos);
  EXPECT_NE(h.out.find("--failed"), std::string::npos);
}

namespace {
using sstest::FakeProbe;
}  // namespace

TEST(Probe, MissingCoreFeaturesAreNamed) {
  FakeProbe p;
  EXPECT_NO_THROW(sysctlscope::require_core_features(p));
  p.has_btf = false;
  try {
    sysctlscope::require_core_features(p);
    FAIL() << "no error without BTF";
  } catch (const sysctlscope::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("BTF"), std::string::npos);
  }
  p.has_btf = true;
  p.has_sysctl = false;
  try {
    sysctlscope::require_core_features(p);
    FAIL() << "no error without cgroup/sysctl";
  } catch (const sysctlscope::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("cgroup/sysctl"), std::string::npos);
  }
}

TEST(Probe, PlanSkipsTheSysctlHookWhenItsEventsAreFilteredOut) {
  FakeProbe p;
  auto all = sysctlscope::plan_programs(p, ~0u);
  EXPECT_NE(std::find(all.load.begin(), all.load.end(), "ss_sysctl"), all.load.end());
  auto none = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_NETNS_CREATE));
  EXPECT_EQ(std::find(none.load.begin(), none.load.end(), "ss_sysctl"), none.load.end());
}
