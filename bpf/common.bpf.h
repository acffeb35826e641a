/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by every bpf/NAME.bpf.c: the maps and filter knobs defined once in
 * common.bpf.c (declared extern here, resolved by `bpftool gen object`), and
 * the helpers every program uses to fill and emit a record.
 */
#ifndef SYSCTLSCOPE_COMMON_BPF_H
#define SYSCTLSCOPE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sysctlscope/event.h"

#ifndef SS_COMMON_DEFINE
#define SS_EXTERN extern
#else
#define SS_EXTERN
#endif

/* ---- filter knobs, set by userspace before load (rodata) ---- */
/* Event types to emit: SS_TYPE_BIT(type) set = emit. */
SS_EXTERN const volatile __u32 type_mask;
/* Only this process (tgid); 0 = all. */
SS_EXTERN const volatile __u32 targ_tgid;
/* Only tasks in this cgroup v2 subtree (id at `targ_cgroup_level`); 0 = all. */
SS_EXTERN const volatile __u64 targ_cgroup_id;
SS_EXTERN const volatile __u32 targ_cgroup_level;
/*
 * --container, in the kernel: a task passes when it sits in one of these
 * cgroup v2 subtrees (id at level) or acts in one of these network namespaces
 * (a host process reaching into the container). 0 entries of both = off.
 */
#define SS_MAX_TARG_CT 8
SS_EXTERN const volatile __u32 targ_ct_ncgroups;
SS_EXTERN const volatile __u64 targ_ct_cgroup[SS_MAX_TARG_CT];
SS_EXTERN const volatile __u32 targ_ct_level[SS_MAX_TARG_CT];
SS_EXTERN const volatile __u32 targ_ct_nnetns;
SS_EXTERN const volatile __u32 targ_ct_netns[SS_MAX_TARG_CT];
/* The tracer's own tgid: its start-up calibration netns passes the filters. */
SS_EXTERN const volatile __u32 self_tgid;
/* Wake the consumer once this many bytes are pending (see emit()). */
SS_EXTERN const volatile __u64 wakeup_bytes;

/* ---- maps ---- */
SS_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by userspace before load */
} events SEC(".maps");

/* Records that could not be reserved, per CPU. */
SS_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_counts SEC(".maps");

/* Writes in flight: tid -> write_id, stored by the cgroup/sysctl program,
 * consumed by the write-syscall exits (syscalls.bpf.c). */
SS_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} pending_writes SEC(".maps");
/* An upper bound of the entries in pending_writes. While it is 0 (nearly
 * always) the write exits, which run on every write on the machine, skip the
 * hash lookup. Incremented after an insert, decremented after a delete. */
SS_EXTERN __u64 pending_count;

/* Records one more pending write of this thread (an overwrite is not one more). */
static __always_inline void pending_put(__u32 tid, __u64 *write_id)
{
	if (bpf_map_update_elem(&pending_writes, &tid, write_id, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&pending_count, 1);
	else
		bpf_map_update_elem(&pending_writes, &tid, write_id, BPF_ANY);
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost_counts, &zero);

	if (n)
		*n += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline bool type_enabled(__u32 type)
{
	return type_mask & SS_TYPE_BIT(type);
}

static __always_inline __u32 task_netns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

static __always_inline bool container_allowed(void)
{
	__u32 ns;
	int i;

	for (i = 0; i < SS_MAX_TARG_CT; i++) {
		if (i >= targ_ct_ncgroups)
			break;
		if (bpf_get_current_ancestor_cgroup_id(targ_ct_level[i]) == targ_ct_cgroup[i])
			return true;
	}
	if (!targ_ct_nnetns)
		return false;
	ns = task_netns((struct task_struct *)bpf_get_current_task());
	for (i = 0; i < SS_MAX_TARG_CT; i++) {
		if (i >= targ_ct_nnetns)
			break;
		if (ns == targ_ct_netns[i])
			return true;
	}
	return false;
}

/* The one filter every program applies before doing any work. */
static __always_inline bool trace_allowed(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* The tracer's own activity is never an event: it re-reads host sysctls
	 * for netns_create's differs_from_host and write read-backs. */
	if (self_tgid && tgid == self_tgid)
		return false;
	if (targ_tgid && tgid != targ_tgid)
		return false;
	if (targ_cgroup_id && bpf_get_current_ancestor_cgroup_id(targ_cgroup_level) != targ_cgroup_id)
		return false;
	if ((targ_ct_ncgroups || targ_ct_nnetns) && !container_allowed())
		return false;
	return true;
}

/*
 * Runs for every record (every sysctl read). The task is a BTF pointer, so
 * every field below is a plain fault-checked load: no bpf_probe_read_kernel()
 * per pointer hop, and no helper call where a load gives the same value
 * (pid/tgid, uid, comm, cgroup id: each helper call costs a call/return pair,
 * expensive under the SRSO mitigation this VM's CPU uses). Only the clock is
 * a helper.
 */
static __always_inline void fill_hdr(struct ss_hdr *h, __u32 type, __u32 size)
{
	struct task_struct *task = bpf_get_current_task_btf();

	h->version = SS_ABI_VERSION;
	h->type = type;
	h->size = size;
	h->task.ts_boot_ns = bpf_ktime_get_boot_ns();
	/* == bpf_get_current_cgroup_id(): the cgroup v2 id of the task. */
	h->task.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	h->task.pid = task->tgid;
	h->task.tid = task->pid;
	/* == bpf_get_current_uid_gid(): the subjective cred, init-ns ids. */
	h->task.uid = task->cred->uid.val;
	h->task.ppid = task->real_parent->tgid;
	h->task.netns = task->nsproxy->net_ns->ns.inum;
	h->task.mntns = task->nsproxy->mnt_ns->ns.inum;
	/* NUL-terminated within its 16 bytes; userspace stops at the NUL. */
	__builtin_memcpy(h->task.comm, task->comm, sizeof(h->task.comm));
}

/*
 * Wakeup policy: never wake the consumer per record (measured at 5-6x the
 * cost of a sysctl read); wake it once when the pending data crosses
 * wakeup_bytes. Userspace also drains the ring every poll interval, which
 * bounds the latency of a lone record.
 */
static __always_inline long wakeup_flag(__u32 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if (avail >= wakeup_bytes && avail < wakeup_bytes + size + 8)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void emit(void *rec, __u32 size)
{
	bpf_ringbuf_submit(rec, wakeup_flag(size));
}

#endif /* SYSCTLSCOPE_COMMON_BPF_H */
