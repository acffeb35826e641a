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

/* Records are built here and copied out at their real size (~130 bytes for
 * a typical read) rather than reserving the ~1.3 KiB maximum in the ring.
 * cgroup programs run with migration disabled but stay preemptible on
 * PREEMPT/PREEMPT_LAZY kernels: another task on this CPU may run this
 * program while a record is half built, so each run claims a free slot
 * (cmpxchg) instead of sharing one buffer; none free counts as lost. */
#define SS_SCRATCH_SLOTS 4

struct sysctl_slot {
	__u64 busy;
	struct ss_sysctl_event ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SS_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct sysctl_slot);
} sysctl_scratch SEC(".maps");

static __always_inline struct sysctl_slot *try_slot(__u32 i)
{
	struct sysctl_slot *s = bpf_map_lookup_elem(&sysctl_scratch, &i);

	return s && __sync_val_compare_and_swap(&s->busy, 0, 1) == 0 ? s : NULL;
}

static __always_inline struct sysctl_slot *claim_slot(void)
{
	struct sysctl_slot *s;

	/* Written out: the verifier rejects the loop form as infinite. */
	if ((s = try_slot(0)) || (s = try_slot(1)) || (s = try_slot(2)) || (s = try_slot(3)))
		return s;
	return NULL;
}

_Static_assert(SS_SCRATCH_SLOTS == 4, "claim_slot() tries every slot");

SEC("cgroup/sysctl")
int ss_sysctl(struct bpf_sysctl *ctx)
{
	__u32 write = ctx->write;
	__u32 type = write ? SS_EV_SYSCTL_WRITE : SS_EV_SYSCTL_READ;
	struct sysctl_slot *slot;
	struct ss_sysctl_event *e;
	__u32 nl, vl, wl = 0, size;
	long ret;

	if (!type_enabled(type))
		return 1;
	/* `cat` reads again at EOF with file_pos > 0: one logical read, one event. */
	if (!write && ctx->file_pos > 0)
		return 1;
	if (!trace_allowed())
		return 1;
	slot = claim_slot();
	if (!slot) {
		count_lost();
		return 1;
	}
	e = &slot->ev;
	fill_hdr(&e->hdr, type, 0);
	e->file_pos = ctx->file_pos;
	e->flags = 0;
	e->write_id = 0;

	ret = bpf_sysctl_get_name(ctx, e->data, SS_NAME_MAX, 0);
	nl = value_len(ret, SS_NAME_MAX, &e->flags, SS_F_NAME_TRUNC) & (SS_NAME_MAX - 1);
	ret = bpf_sysctl_get_current_value(ctx, e->data + nl, SS_VALUE_MAX);
	vl = value_len(ret, SS_VALUE_MAX, &e->flags, SS_F_VALUE_TRUNC) & (SS_VALUE_MAX - 1);
	if (write) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		ret = bpf_sysctl_get_new_value(ctx, e->data + nl + vl, SS_VALUE_MAX);
		wl = value_len(ret, SS_VALUE_MAX, &e->flags, SS_F_NEW_TRUNC) & (SS_VALUE_MAX - 1);
		e->write_id = e->hdr.task.ts_boot_ns;
		/* Only the write-syscall exits consume it (--write-results syscall). */
		if (type_enabled(SS_EV_WRITE_RESULT))
			pending_put(tid, &e->write_id);
	}
	e->name_len = nl;
	e->value_len = vl;
	e->new_len = wl;
	size = offsetof(struct ss_sysctl_event, data) + nl + vl + wl;
	if (size > sizeof(*e))
		size = sizeof(*e);
	e->hdr.size = size;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flag(size)))
		count_lost();
	/* Same CPU only (migration is disabled): a plain store releases it. */
	barrier();
	slot->busy = 0;
	return 1;
}
