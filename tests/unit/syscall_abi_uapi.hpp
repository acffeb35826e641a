// SPDX-License-Identifier: Apache-2.0
// Syscall numbers as the kernel's uapi headers give them, one translation unit
// per ABI (the headers define the same __NR_ names with different values).
#pragma once

namespace sstest {

struct UapiSyscalls {
  bool present;  // the header exists on this build host
  long open;     // -1: the ABI has no such syscall
  long creat;
  long openat;
  long openat2;
  long clone3;
};

extern const UapiSyscalls kUapiX86_64;  // <asm/unistd_64.h>
extern const UapiSyscalls kUapiI386;    // <asm/unistd_32.h>: x86's 32-bit compat ABI
extern const UapiSyscalls
    kUapiArm64;  // <asm-generic/unistd.h> as arm64's <asm/unistd.h> includes it

}  // namespace sstest
