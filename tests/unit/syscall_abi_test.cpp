// SPDX-License-Identifier: Apache-2.0
// The syscall ABI table the BPF programs decode saved user registers by
// (include/sysctlscope/syscall_abi.h: fexit/do_filp_open's open_call_of and
// the fork hook's clone3 test), checked against each ABI's uapi syscall
// numbers, for both architectures whatever the build host is.
#include <gtest/gtest.h>

#include <set>

#include "syscall_abi_uapi.hpp"
#include "sysctlscope/syscall_abi.h"

namespace {

using sstest::UapiSyscalls;

constexpr long long kMaxNr = 1024;         // above every syscall number of both ABIs
constexpr long long kX32Bit = 0x40000000;  // x32 syscalls: not native x86_64 ones

// Every number decoded as an open, over the whole syscall range.
std::set<long long> decoded_opens(ss_abi abi, int compat) {
  std::set<long long> out;
  for (long long nr = -1; nr < kMaxNr; ++nr)
    if (ss_open_call_of_nr(abi, nr, compat) != 0) out.insert(nr);
  return out;
}

void expect_opens_match(ss_abi abi, const UapiSyscalls& u) {
  std::set<long long> want;
  if (u.open >= 0) {
    EXPECT_EQ(ss_open_call_of_nr(abi, u.open, 0), unsigned{SS_CALL_OPEN});
    want.insert(u.open);
  }
  if (u.creat >= 0) {
    EXPECT_EQ(ss_open_call_of_nr(abi, u.creat, 0), unsigned{SS_CALL_CREAT});
    want.insert(u.creat);
  }
  EXPECT_EQ(ss_open_call_of_nr(abi, u.openat, 0), unsigned{SS_CALL_OPENAT});
  EXPECT_EQ(ss_open_call_of_nr(abi, u.openat2, 0), unsigned{SS_CALL_OPENAT2});
  want.insert(u.openat);
  want.insert(u.openat2);
  // Nothing else is taken for an open (exec and uselib reach do_filp_open too).
  EXPECT_EQ(decoded_opens(abi, 0), want);
}

}  // namespace

TEST(SyscallAbi, X86_64OpensAreTheUapiNumbers) {
  if (!sstest::kUapiX86_64.present) GTEST_SKIP() << "no <asm/unistd_64.h> on this build host";
  expect_opens_match(SS_ABI_X86_64, sstest::kUapiX86_64);
  for (long long nr : {sstest::kUapiX86_64.openat, sstest::kUapiX86_64.open})
    EXPECT_EQ(ss_open_call_of_nr(SS_ABI_X86_64, nr | kX32Bit, 0), 0u) << nr;
}

TEST(SyscallAbi, Arm64OpensAreTheGenericTable) {
  // No open() or creat() on arm64 (syscall_abi_uapi_arm64.cpp fails to build
  // if the generic table ever grew them): only openat and openat2.
  expect_opens_match(SS_ABI_ARM64, sstest::kUapiArm64);
  EXPECT_EQ(decoded_opens(SS_ABI_ARM64, 0).size(), 2u);
  // x86_64's open() number is no open on arm64.
  EXPECT_EQ(ss_open_call_of_nr(SS_ABI_ARM64, SS_NR_X86_64_OPENAT, 0), 0u);
}

TEST(SyscallAbi, Clone3IsTheUapiNumber) {
  for (auto [abi, u] : {std::pair{SS_ABI_ARM64, &sstest::kUapiArm64},
                        std::pair{SS_ABI_X86_64, &sstest::kUapiX86_64}}) {
    if (!u->present) continue;
    for (long long nr = -1; nr < kMaxNr; ++nr)
      EXPECT_EQ(ss_is_clone3_nr(abi, nr, 0) != 0, nr == u->clone3) << "abi " << abi << " nr " << nr;
  }
}

TEST(SyscallAbi, CompatSyscallsAreNeverDecoded) {
  // ia32 openat2 has x86_64's number (437) but its arguments in bx/cx/dx:
  // only the compat flag keeps it from being misread.
  if (sstest::kUapiI386.present) {
    EXPECT_EQ(sstest::kUapiI386.openat2, sstest::kUapiX86_64.openat2);
    EXPECT_NE(ss_open_call_of_nr(SS_ABI_X86_64, sstest::kUapiI386.openat2, 0), 0u);
    EXPECT_EQ(ss_open_call_of_nr(SS_ABI_X86_64, sstest::kUapiI386.openat2, 1), 0u);
    EXPECT_EQ(ss_open_call_of_nr(SS_ABI_X86_64, sstest::kUapiI386.openat, 0), 0u)
        << "ia32 openat (295) is no x86_64 open";
    EXPECT_EQ(ss_is_clone3_nr(SS_ABI_X86_64, sstest::kUapiI386.clone3, 1), 0);
  }
  for (ss_abi abi : {SS_ABI_X86_64, SS_ABI_ARM64}) {
    EXPECT_TRUE(decoded_opens(abi, 1).empty()) << "abi " << abi;
    for (long long nr = -1; nr < kMaxNr; ++nr) EXPECT_EQ(ss_is_clone3_nr(abi, nr, 1), 0);
  }
}

TEST(SyscallAbi, HostAbiIsTheBuildTarget) {
#if defined(__x86_64__)
  EXPECT_EQ(SS_ABI_HOST, SS_ABI_X86_64);
#elif defined(__aarch64__)
  EXPECT_EQ(SS_ABI_HOST, SS_ABI_ARM64);
#endif
}
