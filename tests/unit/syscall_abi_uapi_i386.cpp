// SPDX-License-Identifier: Apache-2.0
// ia32 syscall numbers (the compat ABI of x86_64 kernels).
#include "syscall_abi_uapi.hpp"

#if __has_include(<asm/unistd_32.h>)
#include <asm/unistd_32.h>
const sstest::UapiSyscalls sstest::kUapiI386 = {true,        __NR_open,    __NR_creat,
                                                __NR_openat, __NR_openat2, __NR_clone3};
#else
const sstest::UapiSyscalls sstest::kUapiI386 = {false, -1, -1, -1, -1, -1};
#endif
