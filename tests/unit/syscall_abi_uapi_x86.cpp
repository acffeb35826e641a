// SPDX-License-Identifier: Apache-2.0
// x86_64 and its ia32 compat ABI, from the x86 uapi headers (linux-libc-dev
// on an x86_64 host; elsewhere absent, and the tests say so).
#include "syscall_abi_uapi.hpp"

#if __has_include(<asm/unistd_64.h>)
#include <asm/unistd_64.h>
const sstest::UapiSyscalls sstest::kUapiX86_64 = {true,        __NR_open,    __NR_creat,
                                                  __NR_openat, __NR_openat2, __NR_clone3};
#else
const sstest::UapiSyscalls sstest::kUapiX86_64 = {false, -1, -1, -1, -1, -1};
#endif
