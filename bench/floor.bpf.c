// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor: the cheapest possible cgroup/sysctl observer. Any observer on
 * this hook pays at least this much per sysctl access. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup/sysctl")
int floor_sysctl(struct bpf_sysctl *ctx)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
