// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <linux/types.h>

#include <algorithm>

#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "fakes.hpp"
#include "sysctlscope/event.h"

namespace {
using Probe = sstest::FakeProbe;
bool has(const std::vector<std::string>& v, const char* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST(NetnsPlan, ForkHookFallsBackToRawTracepointWithoutTpBtf) {
  Probe p;
  auto plan = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_NETNS_CREATE));
  EXPECT_TRUE(has(plan.load, "ss_netns_fork"));
  EXPECT_FALSE(has(plan.load, "ss_netns_fork_raw"));
  EXPECT_TRUE(has(plan.load, "ss_exit_unshare"));
  EXPECT_TRUE(plan.snapshots_netns);
  p.with_tp_btf = false;
  plan = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_NETNS_CREATE));
  EXPECT_FALSE(has(plan.load, "ss_netns_fork"));
  EXPECT_TRUE(has(plan.load, "ss_netns_fork_raw"));
}

TEST(NetnsPlan, FilteredOutTypesLoadNothing) {
  Probe p;
  auto plan = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_SYSCTL_READ));
  EXPECT_FALSE(has(plan.load, "ss_netns_fork"));
  EXPECT_FALSE(has(plan.load, "ss_enter_setns"));
  EXPECT_FALSE(plan.snapshots_netns);
}

// An enabled sys_enter_* tracepoint costs every syscall on the host: the plan
// never contains one, whatever is asked for.
TEST(NetnsPlan, NoSyscallEnterHookForAnyTypeMask) {
  Probe p;
  for (uint32_t mask : {~0u, SS_TYPE_BIT(SS_EV_NETNS_CREATE), SS_TYPE_BIT(SS_EV_NETNS_ENTER)}) {
    for (bool tp_btf : {true, false}) {
      p.with_tp_btf = tp_btf;
      auto plan = sysctlscope::plan_programs(p, mask);
      for (const auto& name : plan.load) EXPECT_NE(name.rfind("ss_enter_", 0), 0u) << name;
    }
  }
}

// netns_enter alone still loads the fork hook: it keeps the namespace each
// new task starts in, which setns() reports as from_netns.
TEST(NetnsPlan, NetnsEnterAloneKeepsTheForkHookForKnownNetns) {
  Probe p;
  auto plan = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_NETNS_ENTER));
  EXPECT_TRUE(has(plan.load, "ss_exit_setns"));
  EXPECT_TRUE(has(plan.load, "ss_netns_fork"));
  EXPECT_TRUE(plan.seeds_known_netns);
  EXPECT_FALSE(plan.snapshots_netns);
}

// Either netns type loads both the unshare and the setns exit: each keeps
// known_netns current for the other (a setns() unseen by a netns_create-only
// tracer would make the next unshare() report a stale parent_netns).
TEST(NetnsPlan, EitherNetnsTypeLoadsBothUnshareAndSetnsExits) {
  Probe p;
  for (uint32_t mask : {SS_TYPE_BIT(SS_EV_NETNS_CREATE), SS_TYPE_BIT(SS_EV_NETNS_ENTER)}) {
    for (bool tp_btf : {true, false}) {
      p.with_tp_btf = tp_btf;
      auto plan = sysctlscope::plan_programs(p, mask);
      EXPECT_TRUE(has(plan.load, "ss_exit_unshare")) << mask << " " << tp_btf;
      EXPECT_TRUE(has(plan.load, "ss_exit_setns")) << mask << " " << tp_btf;
    }
  }
  auto plan = sysctlscope::plan_programs(p, SS_TYPE_BIT(SS_EV_SYSCTL_WRITE));
  EXPECT_FALSE(has(plan.load, "ss_exit_unshare"));
  EXPECT_FALSE(has(plan.load, "ss_exit_setns"));
}
