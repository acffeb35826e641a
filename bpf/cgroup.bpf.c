// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup v2 directories as they come and go, from the classic cgroup:
 * tracepoints, so userspace maps cgroup id -> path without racing the
 * cgroup's removal (a short-lived container's cgroup is often gone before
 * userspace handles its events).
 *
 * Not filtered by trace_allowed(): these records feed path resolution for
 * every event, whoever created the cgroup (runc, systemd, kubelet), and they
 * are rare.
 */
#include "common.bpf.h"

/*
 * cgrp_dfl_root (cgroup v2) keeps hierarchy_id 0: only v1 roots get an id
 * from cgroup_init_root_id() (kernel/cgroup/cgroup-v1.c). Verified here:
 * mkdir in /sys/fs/cgroup/unified reports root=0, in a v1 hierarchy root=N.
 */
#define SS_CGROUP2_HIERARCHY_ID 0

static __always_inline int emit_cgroup(struct trace_event_raw_cgroup *ctx, __u32 type)
{
	struct ss_cgroup_event *e;
	__u32 loc;
	long n;

	if (!type_enabled(type))
		return 0;
	if (BPF_CORE_READ(ctx, root) != SS_CGROUP2_HIERARCHY_ID)
		return 0;
	e = ss_reserve(struct ss_cgroup_event);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, type, sizeof(*e), SS_IN_TP);
	e->id = BPF_CORE_READ(ctx, id);
	e->level = BPF_CORE_READ(ctx, level);
	e->flags = 0;
	/* __data_loc: offset of the string in the low 16 bits, length above. */
	loc = BPF_CORE_READ(ctx, __data_loc_path);
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), (void *)ctx + (loc & 0xffff));
	if (n < 0) {
		e->path[0] = 0;
		n = 1;
		e->flags |= SS_CGF_PATH_TRUNC;
	}
	e->path_len = n - 1;
	if ((loc >> 16) > sizeof(e->path))
		e->flags |= SS_CGF_PATH_TRUNC;
	emit(e, sizeof(*e));
	return 0;
}

SEC("tp/cgroup/cgroup_mkdir")
int ss_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	return emit_cgroup(ctx, SS_EV_CGROUP_MKDIR);
}

SEC("tp/cgroup/cgroup_rmdir")
int ss_cgroup_rmdir(struct trace_event_raw_cgroup *ctx)
{
	return emit_cgroup(ctx, SS_EV_CGROUP_RMDIR);
}
