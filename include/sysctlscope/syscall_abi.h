/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall ABI the BPF programs decode the user registers by, per
 * architecture: which syscall number is which open (fexit/do_filp_open learns
 * the call from the saved registers, not from a tracepoint) and clone3.
 * Plain C with no kernel types, shared by the BPF programs (the architecture
 * is a constant there, so the compiler keeps one switch) and the unit tests,
 * which check every number against the uapi syscall tables (tests/unit/
 * syscall_abi_test.cpp): a wrong number cannot hide until an arm64 host.
 *
 * 32-bit (compat) tasks are never decoded: their numbers differ (ia32 openat
 * is 295, AArch32's 322, and ia32 437 is openat2 like x86_64's) and on x86
 * their arguments sit in other registers (bx, cx, dx), so a compat open
 * would be misread. The kernel's own syscall tracepoints skip compat
 * syscalls on both architectures (ARCH_TRACE_IGNORE_COMPAT_SYSCALLS), so the
 * fexit path skips them too: both paths see the same opens.
 */
#ifndef SYSCTLSCOPE_SYSCALL_ABI_H
#define SYSCTLSCOPE_SYSCALL_ABI_H

#ifndef __bpf__
#include <linux/types.h> /* event.h's fixed-size types; BPF has them from vmlinux.h */
#endif
#include "sysctlscope/event.h" /* enum ss_open_call */

enum ss_abi {
	SS_ABI_X86_64 = 1,
	SS_ABI_ARM64 = 2,
};

#if defined(__TARGET_ARCH_x86) || (!defined(__TARGET_ARCH_arm64) && defined(__x86_64__))
#define SS_ABI_HOST SS_ABI_X86_64
#elif defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
#define SS_ABI_HOST SS_ABI_ARM64
#endif

/* x86_64: arch/x86/entry/syscalls/syscall_64.tbl. arm64: the generic table
 * (include/uapi/asm-generic/unistd.h), which has no open() or creat(). */
#define SS_NR_X86_64_OPEN 2
#define SS_NR_X86_64_CREAT 85
#define SS_NR_X86_64_OPENAT 257
#define SS_NR_X86_64_OPENAT2 437
#define SS_NR_X86_64_CLONE3 435
#define SS_NR_ARM64_OPENAT 56
#define SS_NR_ARM64_OPENAT2 437
#define SS_NR_ARM64_CLONE3 435

/* How a task's user registers say it is in a 32-bit syscall. x86: thread_info
 * status TS_COMPAT (set by every ia32 entry, int $0x80 from a 64-bit task
 * included; the code segment would miss that case). arm64: AArch32 state in
 * pstate (PSR_MODE32_BIT, compat_user_mode()). */
#define SS_X86_TS_COMPAT 0x0002u
#define SS_ARM64_PSR_MODE32_BIT 0x10ull

/* The open syscall (enum ss_open_call) of syscall number nr, or 0 when it is
 * not one or the task is in a compat syscall. */
static inline __attribute__((always_inline)) unsigned int ss_open_call_of_nr(enum ss_abi abi,
									      long long nr,
									      int compat)
{
	if (compat)
		return 0;
	if (abi == SS_ABI_X86_64) {
		switch (nr) {
		case SS_NR_X86_64_OPEN:
			return SS_CALL_OPEN;
		case SS_NR_X86_64_CREAT:
			return SS_CALL_CREAT;
		case SS_NR_X86_64_OPENAT:
			return SS_CALL_OPENAT;
		case SS_NR_X86_64_OPENAT2:
			return SS_CALL_OPENAT2;
		}
	} else if (abi == SS_ABI_ARM64) {
		switch (nr) {
		case SS_NR_ARM64_OPENAT:
			return SS_CALL_OPENAT;
		case SS_NR_ARM64_OPENAT2:
			return SS_CALL_OPENAT2;
		}
	}
	return 0;
}

/* Whether syscall number nr is a native clone3(). */
static inline __attribute__((always_inline)) int ss_is_clone3_nr(enum ss_abi abi, long long nr,
								  int compat)
{
	if (compat)
		return 0;
	return (abi == SS_ABI_X86_64 && nr == SS_NR_X86_64_CLONE3) ||
	       (abi == SS_ABI_ARM64 && nr == SS_NR_ARM64_CLONE3);
}

#endif
