// SPDX-License-Identifier: Apache-2.0
// SYSCTLSCOPE_PRETEND_MISSING: the masked probe hides exactly what it is told.
#include <gtest/gtest.h>

#include "bpf/env.hpp"
#include "core/error.hpp"
#include "fakes.hpp"

using AllProbe = sstest::FakeProbe;

TEST(ProbeMask, HidesListedFeaturesOnly) {
  auto p = sysctlscope::make_masked_probe(std::make_unique<AllProbe>(),
                                          "tp_btf,syscalls:sys_exit_openat2,cgroup:cgroup_mkdir");
  EXPECT_FALSE(p->tp_btf());
  EXPECT_FALSE(p->syscall_tracepoint("sys_exit_openat2"));
  EXPECT_TRUE(p->syscall_tracepoint("sys_exit_openat"));
  EXPECT_FALSE(p->tracepoint("cgroup", "cgroup_mkdir"));
  EXPECT_TRUE(p->tracepoint("cgroup", "cgroup_rmdir"));
  EXPECT_TRUE(p->btf());
  EXPECT_TRUE(p->cgroup_sysctl());
  EXPECT_TRUE(p->ringbuf());
}

TEST(ProbeMask, EmptySpecIsTheProbeItself) {
  auto inner = std::make_unique<AllProbe>();
  auto* raw = inner.get();
  auto p = sysctlscope::make_masked_probe(std::move(inner), ",");
  EXPECT_EQ(p.get(), raw);
}

TEST(ProbeMask, UnknownEntryIsAUsageErrorNamingIt) {
  for (const char* bad : {"kprobes", "syscalls:", ":x", "a:b:c"}) {
    try {
      sysctlscope::make_masked_probe(std::make_unique<AllProbe>(), bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const sysctlscope::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}
