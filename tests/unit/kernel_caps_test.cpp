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
#include "model/programs.hpp"
#include "sysctlscope.skel.h"
#include "sysctlscope/event.h"

using sysctlscope::Cap;
using sysctlscope::kernel_caps;
using sysctlscope::plan_programs;
using sysctlscope::BpfProgram;
using sysctlscope::KernelNeed;
using sysctlscope::ProgramChoice;
using sysctlscope::ProgramGroup;
using sysctlscope::ProgramUse;

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

// The registry names every program of the object, and only programs of it,
// in every choice (also fallbacks no kernel above picks).
TEST(KernelCaps, TheRegistryNamesEveryProgramOfTheObject) {
  sysctlscope_bpf* skel = sysctlscope_bpf__open();
  ASSERT_NE(skel, nullptr);
  std::set<std::string> named;
  for (const ProgramUse& u : sysctlscope::registered_programs())
    for (const ProgramChoice& c : u.group->choices)
      for (const BpfProgram& p : c.programs) {
        named.emplace(p.name);
        EXPECT_NE(bpf_object__find_program_by_name(skel->obj, std::string(p.name).c_str()), nullptr)
            << p.name;
      }
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) EXPECT_TRUE(named.count(bpf_program__name(prog)))
      << bpf_program__name(prog) << " is in no registry entry: never loaded";
  sysctlscope_bpf__destroy(skel);
}

// Every kernel record has programs in the registry.
TEST(KernelCaps, EveryKernelRecordHasAProgramGroup) {
  uint32_t covered = 0;
  for (const ProgramUse& u : sysctlscope::registered_programs()) covered |= u.records;
  for (uint32_t t = 1; t < SS_EV_MAX; ++t) EXPECT_TRUE(covered & SS_TYPE_BIT(t)) << "record " << t;
}

// A new type's programs are one registry entry: the plan loads its group's
// first choice the kernel allows, each program where its tracepoint and
// ability exist, and says why with -v otherwise.
TEST(KernelCaps, AGroupLoadsTheFirstChoiceTheKernelAllows) {
  static constexpr BpfProgram kFast[] = {{"ss_new_fexit"}};
  static constexpr BpfProgram kSlow[] = {
      {"ss_new_exit", "syscalls:sys_exit_new"},
      {.name = "ss_new_clear", .needs = KernelNeed::TpBtf, .without = "entries stay"}};
  static constexpr ProgramChoice kChoices[] = {
      {.needs = KernelNeed::Fentry, .programs = kFast, .note = "ss_new_exit: fexit instead"},
      {.programs = kSlow}};
  static constexpr ProgramGroup kGroup{.choices = kChoices,
                                       .with = SS_TYPE_BIT(SS_EV_SYSCTL_WRITE),
                                       .off = "ss_new_*: new filtered out"};
  const uint32_t kNew = SS_TYPE_BIT(SS_EV_MAX);  // a record beyond today's
  const ProgramUse uses[] = {{&kGroup, kNew}};
  using V = std::vector<std::string>;

  sstest::FakeProbe p;
  p.missing_caps.clear();
  auto plan = plan_programs(p, kNew | SS_TYPE_BIT(SS_EV_SYSCTL_WRITE), uses);
  EXPECT_EQ(plan.load, V{"ss_new_fexit"});
  EXPECT_EQ(plan.skip, V{"ss_new_exit: fexit instead"});

  plan = plan_programs(p, kNew, uses);  // `with` not wanted
  EXPECT_TRUE(plan.load.empty());
  EXPECT_EQ(plan.skip, V{"ss_new_*: new filtered out"});
  plan = plan_programs(p, SS_TYPE_BIT(SS_EV_SYSCTL_WRITE), uses);
  EXPECT_TRUE(plan.load.empty());

  p.missing_caps = {Cap::Fentry};
  plan = plan_programs(p, ~0u, uses);
  EXPECT_EQ(plan.load, (V{"ss_new_exit", "ss_new_clear"}));
  EXPECT_TRUE(plan.skip.empty());

  p.missing_syscalls = {"sys_exit_new"};
  p.with_tp_btf = false;
  plan = plan_programs(p, ~0u, uses);
  EXPECT_TRUE(plan.load.empty());
  EXPECT_EQ(plan.skip, (V{"ss_new_exit: no syscalls:sys_exit_new tracepoint",
                          "ss_new_clear: no tp_btf (entries stay)"}));
}
