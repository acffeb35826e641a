// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one definition of the shared maps and filter knobs (see common.bpf.h). */
#define SS_COMMON_DEFINE
#include "common.bpf.h"

const volatile __u32 type_mask = ~0u;
const volatile __u32 targ_tgid = 0;
const volatile __u64 targ_cgroup_id = 0;
const volatile __u32 targ_cgroup_level = 0;
const volatile __u32 targ_ct_ncgroups = 0;
const volatile __u64 targ_ct_cgroup[SS_MAX_TARG_CT] = {};
const volatile __u32 targ_ct_level[SS_MAX_TARG_CT] = {};
const volatile __u32 targ_ct_nnetns = 0;
const volatile __u32 targ_ct_netns[SS_MAX_TARG_CT] = {};
const volatile __u32 self_tgid = 0;
const volatile __u32 self_netns = 0;
const volatile __u64 wakeup_bytes = 256 << 10;
const volatile __u32 tp_task_src = SS_TASK_BTF;
const volatile __u32 sysctl_task_src = SS_TASK_BTF;
const volatile bool sysctl_pid_helpers = true;
const volatile bool tp_ancestor_helper = true;
const volatile bool sysctl_ancestor_helper = true;
const volatile bool have_task_pt_regs = true;
const volatile bool have_task_storage = true;
__u64 pending_count = 0;

char LICENSE[] SEC("license") = "Dual BSD/GPL";
