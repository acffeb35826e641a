// SPDX-License-Identifier: Apache-2.0
// What each missing kernel ability changes in the load plan and the knobs,
// and that every degradation is named (kernels 5.10 to today).
#include <gtest/gtest.h>

#include <bpf/libbpf.h>

#include <algorithm>
#include <set>

#include "bpf/env.hpp"
#include "bpf/tracer.hpp"
#include "fakes.hpp"
#include "sysctlscope.skel.h"
#include "sysctlscope/event.h"

using sysctlscope::Cap;
using sysctlscope::kernel_caps;
using sysctlscope::plan_programs;

namespace {
bool loads(const sysctlscope::ProgramPlan& p, const std::string& name) {
  return std::find(p.load.begin(), p.load.end(), name) != p.load.end();
}
}  // namespace

TEST(KernelCaps, EverythingPresentIsTheFastPathAndLacksNothing) {
  sstest::FakeProbe p;
  p.missing_caps.clear();
  auto c = kernel_caps(p);
  EXPECT_EQ(c.tp_task_src, SS_TASK_BTF);
  EXPECT_EQ(c.sysctl_task_src, SS_TASK_BTF);
  EXPECT_TRUE(c.task_pt_regs && c.task_storage && c.atomics);
  EXPECT_TRUE(c.lacks.empty());
  auto plan = plan_programs(p, ~0u);
  EXPECT_TRUE(loads(plan, "ss_sysctl"));
  EXPECT_FALSE(loads(plan, "ss_sysctl_reserve"));
  EXPECT_FALSE(loads(plan, "ss_netns_exit")) << "task storage needs no exit hook";
  // fexit: no syscall tracepoint for refused opens or unshare/setns.
  for (auto n : {"ss_fexit_filp_open", "ss_fexit_unshare", "ss_fexit_setns"})
    EXPECT_TRUE(loads(plan, n)) << n;
  for (auto n : {"ss_exit_open", "ss_exit_openat", "ss_exit_openat2", "ss_exit_creat",
                 "ss_exit_unshare", "ss_exit_setns"})
    EXPECT_FALSE(loads(plan, n)) << n;
}

TEST(KernelCaps, WithoutFexitTheSyscallTracepointsAreUsedAndTheCostNamed) {
  sstest::FakeProbe p;
  p.missing_caps = {Cap::Fentry};
  auto c = kernel_caps(p);
  ASSERT_EQ(c.lacks.size(), 1u);
  EXPECT_NE(c.lacks[0].find("slow path"), std::string::npos) << c.lacks[0];
  auto plan = plan_programs(p, ~0u);
  for (auto n : {"ss_exit_openat", "ss_exit_unshare", "ss_exit_setns"})
    EXPECT_TRUE(loads(plan, n)) << n;
  EXPECT_FALSE(loads(plan, "ss_fexit_filp_open"));
}

// Linux 5.10 as Debian 11 ships it (with trampolines).
TEST(KernelCaps, Linux510FallsBackEverywhereAndSaysSo) {
  sstest::FakeProbe p;
  p.missing_caps = {Cap::TaskBtf,          Cap::TaskPtRegs,   Cap::TaskStorage,
                    Cap::Atomics,          Cap::SysctlTaskBtf, Cap::SysctlPidHelpers,
                    Cap::SysctlAncestor, Cap::TpAncestor};
  auto c = kernel_caps(p);
  EXPECT_EQ(c.tp_task_src, SS_TASK_PROBE);
  EXPECT_EQ(c.sysctl_task_src, SS_TASK_PROBE);
  EXPECT_FALSE(c.task_pt_regs || c.task_storage || c.atomics);
  EXPECT_FALSE(c.sysctl_pid_helpers || c.sysctl_ancestor_helper || c.tp_ancestor_helper);
  EXPECT_EQ(c.lacks.size(), 4u);
  auto plan = plan_programs(p, ~0u);
  EXPECT_TRUE(loads(plan, "ss_sysctl_reserve"));
  EXPECT_FALSE(loads(plan, "ss_sysctl"));
  EXPECT_TRUE(loads(plan, "ss_netns_exit")) << "tid-keyed known_netns must be cleaned at exit";
  EXPECT_TRUE(loads(plan, "ss_fexit_filp_open"));
  auto reads = plan_programs(p, SS_TYPE_BIT(SS_EV_SYSCTL_READ));
  EXPECT_FALSE(loads(reads, "ss_netns_exit")) << "no known_netns without netns types";
}

// The BTF helpers take bpf_get_current_task_btf()'s pointer: without it they
// are off even where the kernel has them.
TEST(KernelCaps, BtfTaskHelpersNeedTheBtfTask) {
  sstest::FakeProbe p;
  p.missing_caps = {Cap::TaskBtf, Cap::Fentry};
  auto c = kernel_caps(p);
  EXPECT_FALSE(c.task_pt_regs);
  EXPECT_FALSE(c.task_storage);
  EXPECT_EQ(c.sysctl_task_src, SS_TASK_PROBE);
}

TEST(KernelCaps, CgroupSysctlWithoutTaskAccessNamesTheLostFields) {
  sstest::FakeProbe p;
  p.missing_caps = {Cap::SysctlTaskBtf, Cap::SysctlTask};
  auto c = kernel_caps(p);
  EXPECT_EQ(c.sysctl_task_src, SS_TASK_NONE);
  ASSERT_EQ(c.lacks.size(), 1u);
  EXPECT_NE(c.lacks[0].find("no ppid, netns or mntns"), std::string::npos) << c.lacks[0];
  p.missing_caps.insert(Cap::SysctlPidHelpers);
  c = kernel_caps(p);
  ASSERT_EQ(c.lacks.size(), 1u);
  EXPECT_NE(c.lacks[0].find("no pid, comm, netns"), std::string::npos) << c.lacks[0];
}

TEST(KernelCaps, PretendMissingTakesCapabilityNames) {
  auto p = sysctlscope::make_masked_probe(std::make_unique<sstest::FakeProbe>(),
                                          "task_storage,atomics,sysctl_task");
  EXPECT_FALSE(p->has(Cap::TaskStorage));
  EXPECT_FALSE(p->has(Cap::Atomics));
  EXPECT_FALSE(p->has(Cap::SysctlTask));
  EXPECT_TRUE(p->has(Cap::TaskBtf));
  EXPECT_STREQ(sysctlscope::cap_name(Cap::SysctlAncestor), "sysctl_ancestor");
}

// Every program any plan names exists in the embedded object (a typo would
// otherwise be a program silently never loaded). Opening the skeleton parses
// the ELF only: no root, no kernel.
TEST(KernelCaps, EveryPlannedProgramExistsInTheObject) {
  sysctlscope_bpf* skel = sysctlscope_bpf__open();
  ASSERT_NE(skel, nullptr);
  std::vector<std::set<Cap>> kernels = {
      {},
      {Cap::Fentry},
      {Cap::TaskBtf, Cap::TaskPtRegs, Cap::TaskStorage, Cap::Atomics, Cap::SysctlTaskBtf,
       Cap::SysctlPidHelpers, Cap::SysctlAncestor, Cap::TpAncestor}};
  for (const auto& missing : kernels) {
    for (bool tp_btf : {true, false}) {
      sstest::FakeProbe p;
      p.missing_caps = missing;
      p.with_tp_btf = tp_btf;
      for (uint32_t mask : {~0u, SS_TYPE_BIT(SS_EV_NETNS_ENTER), SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED)})
        for (const auto& name : plan_programs(p, mask).load)
          EXPECT_NE(bpf_object__find_program_by_name(skel->obj, name.c_str()), nullptr) << name;
    }
  }
  sysctlscope_bpf__destroy(skel);
}
