// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shapes of syscall-exit hook, for bench/hookcost.sh: what each costs the
 * syscalls it was not put there for. Each returns at once on success, as
 * sysctlscope's open-exit programs do. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

volatile long hits;

/* A syscall nobody calls: the slow path alone (every task pays it once any
 * syscall tracepoint is enabled). */
SEC("tracepoint/syscalls/sys_exit_acct")
int exit_acct(struct trace_event_raw_sys_exit *ctx)
{
	return 0;
}

/* One dispatcher on every syscall exit, filtering on the number. */
SEC("tp_btf/sys_exit")
int BPF_PROG(exit_dispatch, struct pt_regs *regs, long ret)
{
	if (ret >= 0)
		return 0;
#if defined(__TARGET_ARCH_x86)
	long nr = regs->orig_ax; /* the measured case: x86-64 numbers */

	if (nr != 2 && nr != 85 && nr != 257 && nr != 437) /* open creat openat openat2 */
		return 0;
#endif
	hits++;
	return 0;
}

/* One classic tracepoint per syscall: sysctlscope's shape. */
SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0)
		hits++;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0)
		hits++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
