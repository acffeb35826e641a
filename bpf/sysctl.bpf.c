// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every read and write of a /proc/sys file, from the cgroup/sysctl hook on
 * the cgroup v2 root. Observes everything; returns 1 (allow) except for a
 * write --enforce refuses (0: the syscall fails with EPERM).
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

/* Fills the record in e (a scratch slot or a ring buffer reservation);
 * returns its used size. */
static __always_inline __u32 fill_sysctl(struct bpf_sysctl *ctx, struct ss_sysctl_event *e,
					 __u32 type, __u32 write)
{
	__u32 nl, vl, wl = 0, size;
	long ret;

	fill_hdr(&e->hdr, type, 0, SS_IN_SYSCTL);
	e->file_pos = ctx->file_pos;
	e->flags = 0;
	e->write_id = 0;

	ret = bpf_sysctl_get_name(ctx, e->data, SS_NAME_MAX, 0);
	nl = value_len(ret, SS_NAME_MAX, &e->flags, SS_F_NAME_TRUNC) & (SS_NAME_MAX - 1);
	ret = bpf_sysctl_get_current_value(ctx, e->data + nl, SS_VALUE_MAX);
	vl = value_len(ret, SS_VALUE_MAX, &e->flags, SS_F_VALUE_TRUNC) & (SS_VALUE_MAX - 1);
	if (write) {
		ret = bpf_sysctl_get_new_value(ctx, e->data + nl + vl, SS_VALUE_MAX);
		wl = value_len(ret, SS_VALUE_MAX, &e->flags, SS_F_NEW_TRUNC) & (SS_VALUE_MAX - 1);
		e->write_id = e->hdr.task.ts_boot_ns;
	}
	e->name_len = nl;
	e->value_len = vl;
	e->new_len = wl;
	size = offsetof(struct ss_sysctl_event, data) + nl + vl + wl;
	if (size > sizeof(*e))
		size = sizeof(*e);
	e->hdr.size = size;
	return size;
}

/* --enforce: off unless userspace sets it (enum ss_enforce_mode); while it
 * is 0 the verifier never visits the check below. */
const volatile __u32 enforce_mode = SS_ENFORCE_OFF;

/* Expected values (struct ss_enforce_key/val); one entry unless enforcing. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ss_enforce_key);
	__type(value, struct ss_enforce_val);
} enforce_rules SEC(".maps");

/* Written values are read this far (the rest of a longer one is not seen):
 * room for the longest string sysctls (kernel.modprobe, 256 bytes). */
#define SS_ENF_NEW_MAX 256

_Static_assert(SS_ENF_VALUE_MAX == 64, "nz(j >> 6) below: j past the expected value");
_Static_assert(SS_ENF_NEW_MAX <= sizeof(struct ss_enforce_key), "the buffers share stack");

/* 1 if x != 0, else 0, without a branch: the barrier keeps clang from
 * turning it back into a compare (which BPF can only do by jumping). */
static __always_inline __u64 nz(__u64 x)
{
	__u64 neg = 0 - x;

	barrier_var(neg);
	return (x | neg) >> 63;
}

/* 1 for the blanks of userspace's normalize_value() (space, tab, newline). */
static __always_inline __u64 blank_bit(__u64 c)
{
	return (0x100000600ULL >> (c & 63)) & 1 & (1 - nz(c >> 6));
}

/* True: the new value of this write differs from the expected one of an
 * enforced rule. Userspace stores the expected value normalised (blank runs
 * one space, no leading or trailing blanks); the written value is
 * normalised the same way on the fly and compared with it byte by byte, so
 * the verdict is userspace's for every value of up to SS_ENF_NEW_MAX - 1
 * bytes. A longer one is refused only when the part read already differs:
 * the rest could be blanks (docs/policy.md).
 *
 * The loop has no branch but its exit: every step computes with 0/1 values
 * instead of choosing (a branch per byte made the verifier walk a path per
 * blank pattern: over a million instructions), so it verifies as one path
 * on every kernel from 5.10. A global function: verified once, on its own;
 * while enforce_mode is off its body is dead code, never verified. */
__noinline int ss_enforce_violation(struct bpf_sysctl *ctx)
{
	/* The name is needed only for the lookups: the value reuses its stack. */
	union {
		struct ss_enforce_key key;
		char nv[SS_ENF_NEW_MAX];
	} u = {};
	struct ss_enforce_val *want;
	struct task_struct *t;
	__u64 i, j, n, len, bad, seen, prev_blank;
	bool cut = false;
	long ret;

	if (enforce_mode == SS_ENFORCE_OFF)
		return false;
	if (bpf_sysctl_get_name(ctx, u.key.name, sizeof(u.key.name), 0) < 0)
		return false;
	/* The entry of the namespace that holds the sysctl for this writer:
	 * its netns (net.*), its IPC or UTS namespace (a container's write
	 * there changes only its own), then 0 (global sysctls). Inodes of all
	 * namespace types come from one allocator, so they never collide. */
	t = cur_task(SS_IN_SYSCTL);
	want = NULL;
	if (t) {
		u.key.netns = task_netns(t);
		want = bpf_map_lookup_elem(&enforce_rules, &u.key);
		if (!want) {
			u.key.netns = BPF_CORE_READ(t, nsproxy, ipc_ns, ns.inum);
			want = bpf_map_lookup_elem(&enforce_rules, &u.key);
		}
		if (!want) {
			u.key.netns = BPF_CORE_READ(t, nsproxy, uts_ns, ns.inum);
			want = bpf_map_lookup_elem(&enforce_rules, &u.key);
		}
	}
	if (!want) {
		u.key.netns = 0;
		want = bpf_map_lookup_elem(&enforce_rules, &u.key);
	}
	if (!want)
		return false;
	len = want->len;
	if (len > SS_ENF_VALUE_MAX)
		return false; /* userspace never stores one */
	ret = bpf_sysctl_get_new_value(ctx, u.nv, sizeof(u.nv));
	if (ret == -SS_E2BIG) {
		cut = true; /* the first SS_ENF_NEW_MAX - 1 bytes, NUL-terminated */
		n = SS_ENF_NEW_MAX - 1;
	} else if (ret == -SS_EINVAL) {
		n = 0; /* an empty write */
	} else if (ret < 0) {
		return false;
	} else {
		n = ret;
	}
	/* j: bytes of the expected value matched; seen: a word was written;
	 * bad: a byte differed (or the written value ran past 64 bytes). */
	j = bad = seen = prev_blank = 0;
	for (i = 0; i < SS_ENF_NEW_MAX; i++) {
		__u64 c, word, sep;

		if (i >= n)
			break;
		c = (__u8)u.nv[i];
		word = 1 - blank_bit(c);
		/* The first byte of a word after a blank run: one space first. */
		sep = word & seen & prev_blank;
		bad |= sep & (nz((__u8)want->value[j & 63] ^ ' ') | nz(j >> 6));
		j += sep;
		bad |= word & (nz((__u8)want->value[j & 63] ^ c) | nz(j >> 6));
		j += word;
		seen |= word;
		prev_blank = 1 - word;
	}
	/* Cut: only what was read can decide (j past len: already longer). */
	if (cut)
		return (bad | ((len - j) >> 63)) != 0;
	return (bad | nz(j ^ len)) != 0;
}

/* SS_F_DENIED / SS_F_WOULD_DENY for this write, 0 to let it be. The
 * tracer's own writes are never refused. */
static __always_inline __u32 enforce_verdict(struct bpf_sysctl *ctx)
{
	if (enforce_mode == SS_ENFORCE_OFF || !ctx->write)
		return 0;
	if (self_tgid && (__u32)(cur_pid_tgid(SS_IN_SYSCTL) >> 32) == self_tgid)
		return 0;
	if (!ss_enforce_violation(ctx))
		return 0;
	return enforce_mode == SS_ENFORCE_DRY_RUN ? SS_F_WOULD_DENY : SS_F_DENIED;
}

/* Only the write-syscall exits consume it (--write-results syscall); added
 * once the record is out, so a record the ring buffer dropped leaves none.
 * Readback mode marks net.* writers for their exit instead. */
static __always_inline void note_pending(struct ss_sysctl_event *e)
{
	__u64 id = e->write_id; /* on the stack: 5.10 takes no ring memory as a map value */

	if (id && e->hdr.task.tid && type_enabled(SS_EV_WRITE_RESULT))
		pending_put(e->hdr.task.tid, &id);
	note_net_writer(e);
}

/* Common checks; false: not an event. */
static __always_inline bool want_sysctl(struct bpf_sysctl *ctx, __u32 type)
{
	if (!type_enabled(type))
		return false;
	/* `cat` reads again at EOF with file_pos > 0: one logical read, one event. */
	if (!ctx->write && ctx->file_pos > 0)
		return false;
	return trace_allowed(SS_IN_SYSCTL);
}

SEC("cgroup/sysctl")
int ss_sysctl(struct bpf_sysctl *ctx)
{
	__u32 write = ctx->write;
	__u32 type = write ? SS_EV_SYSCTL_WRITE : SS_EV_SYSCTL_READ;
	__u32 verdict = enforce_verdict(ctx);
	int allow = verdict != SS_F_DENIED;
	struct sysctl_slot *slot;
	__u32 size;

	if (!want_sysctl(ctx, type))
		return allow;
	slot = claim_slot();
	if (!slot) {
		count_lost();
		return allow;
	}
	size = fill_sysctl(ctx, &slot->ev, type, write);
	slot->ev.flags |= verdict;
	if (bpf_ringbuf_output(&events, &slot->ev, size, wakeup_flag(size)))
		count_lost();
	else
		note_pending(&slot->ev);
	/* Same CPU only (migration is disabled): a plain store releases it. */
	barrier();
	slot->busy = 0;
	return allow;
}

/*
 * Before 5.12 BPF has no compare-and-swap (the verifier rejects the
 * instruction even in dead code), so the slots above cannot be claimed:
 * this variant builds the record in a ring buffer reservation of the
 * maximum size instead. Same records; the ring holds ~10x fewer of them.
 */
SEC("cgroup/sysctl")
int ss_sysctl_reserve(struct bpf_sysctl *ctx)
{
	__u32 write = ctx->write;
	__u32 type = write ? SS_EV_SYSCTL_WRITE : SS_EV_SYSCTL_READ;
	__u32 verdict = enforce_verdict(ctx);
	int allow = verdict != SS_F_DENIED;
	struct ss_sysctl_event *e;

	if (!want_sysctl(ctx, type))
		return allow;
	e = ss_reserve(struct ss_sysctl_event);
	if (!e)
		return allow;
	fill_sysctl(ctx, e, type, write);
	e->flags |= verdict;
	note_pending(e);
	bpf_ringbuf_submit(e, wakeup_flag(sizeof(*e)));
	return allow;
}
