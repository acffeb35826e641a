// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every read and write of a /proc/sys file, from the cgroup/sysctl hook on
 * the cgroup v2 root. Observe only: always returns 1 (0 would fail the
 * syscall with EPERM).
 */
#include "common.bpf.h"

/* Error codes of the bpf_sysctl_* helpers (not in vmlinux.h). */
#define SS_E2BIG 7
#define SS_EINVAL 22

static __always_inline __u16 value_len(long ret, __u32 cap, __u32 *flags, __u32 trunc_flag)
{
	if (ret >= 0)
		return ret < cap ? ret : cap - 1;
	if (ret == -SS_E2BIG) {
		*flags |= trunc_flag;
		return cap - 1;
	}
	*flags |= SS_F_VALUE_ERR;
	return 0;
}

SEC("cgroup/sysctl")
int ss_sysctl(struct bpf_sysctl *ctx)
{
	__u32 write = ctx->write;
	__u32 type = write ? SS_EV_SYSCTL_WRITE : SS_EV_SYSCTL_READ;
	struct ss_sysctl_event *e;
	__u32 size;
	long ret;

	if (!type_enabled(type))
		return 1;
	/* `cat` reads again at EOF with file_pos > 0: one logical read, one event. */
	if (!write && ctx->file_pos > 0)
		return 1;
	if (!trace_allowed())
		return 1;

	if (write) {
		size = sizeof(*e);
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	} else {
		size = offsetof(struct ss_sysctl_event, new_value);
		e = bpf_ringbuf_reserve(&events, offsetof(struct ss_sysctl_event, new_value), 0);
	}
	if (!e) {
		count_lost();
		return 1;
	}
	fill_hdr(&e->hdr, type, size);
	e->file_pos = ctx->file_pos;
	e->flags = 0;
	e->new_len = 0;
	e->write_id = 0;

	ret = bpf_sysctl_get_name(ctx, e->name, sizeof(e->name), 0);
	e->name_len = value_len(ret, sizeof(e->name), &e->flags, SS_F_NAME_TRUNC);

	ret = bpf_sysctl_get_current_value(ctx, e->value, sizeof(e->value));
	e->value_len = value_len(ret, sizeof(e->value), &e->flags, SS_F_VALUE_TRUNC);

	if (write) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		ret = bpf_sysctl_get_new_value(ctx, e->new_value, sizeof(e->new_value));
		e->new_len = value_len(ret, sizeof(e->new_value), &e->flags, SS_F_NEW_TRUNC);
		e->write_id = e->hdr.task.ts_boot_ns;
		pending_put(tid, &e->write_id);
	}
	emit(e, size);
	return 1;
}
