// SPDX-License-Identifier: Apache-2.0
// arm64 uses the generic syscall table: its <asm/unistd.h> sets these and
// includes <asm-generic/unistd.h>, which every Linux host carries.
#include "syscall_abi_uapi.hpp"

#define __ARCH_WANT_RENAMEAT
#define __ARCH_WANT_NEW_STAT
#define __ARCH_WANT_SET_GET_RLIMIT
#define __ARCH_WANT_TIME32_SYSCALLS
#define __ARCH_WANT_SYS_CLONE3
#include <asm-generic/unistd.h>

#if defined(__NR_open) || defined(__NR_creat)
#error "the generic syscall table has no open() or creat(); syscall_abi.h relies on that for arm64"
#endif
const sstest::UapiSyscalls sstest::kUapiArm64 = {true,        -1,           -1,
                                                 __NR_openat, __NR_openat2, __NR_clone3};
