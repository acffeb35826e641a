// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test program: a second cgroup/sysctl program that refuses every write
 * (the syscall fails with EPERM). Attached only to a scratch cgroup. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup/sysctl")
int deny_writes(struct bpf_sysctl *ctx)
{
	return ctx->write ? 0 : 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
