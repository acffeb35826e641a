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
#include "sysctlscope/syscall_abi.h"

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
/* The tracer's netns (the host's): it outlives every writer, so its writes
 * are read back through /proc and need no exit snapshot. */
SS_EXTERN const volatile __u32 self_netns;
/* Wake the consumer once this many bytes are pending (see emit()). */
SS_EXTERN const volatile __u64 wakeup_bytes;

/*
 * What this kernel lets the programs do, probed by userspace before load
 * (user/bpf/env.cpp). A branch on a false knob is dead code: the verifier
 * never visits it, so a helper or map type the kernel lacks there is never
 * checked. The Linux versions are the upstream ones; distributions backport.
 *
 * How a program learns about the current task (enum ss_task_src), per
 * program type: tracepoints always have bpf_get_current_task() and probe
 * reads; bpf_get_current_task_btf() (5.11) gives plain loads instead.
 * cgroup/sysctl programs got task access later than tracing ones (see
 * docs/kernels.md): without it only the helpers below are left.
 */
SS_EXTERN const volatile __u32 tp_task_src;
SS_EXTERN const volatile __u32 sysctl_task_src;
/* cgroup/sysctl may call bpf_get_current_pid_tgid()/comm() (6.1). */
SS_EXTERN const volatile bool sysctl_pid_helpers;
/* bpf_get_current_ancestor_cgroup_id() in tracepoints / cgroup/sysctl. */
SS_EXTERN const volatile bool tp_ancestor_helper;
SS_EXTERN const volatile bool sysctl_ancestor_helper;
/* bpf_task_pt_regs() (5.15); else the user registers are found at the top
 * of the task's kernel stack. */
SS_EXTERN const volatile bool have_task_pt_regs;
/* BPF_MAP_TYPE_TASK_STORAGE usable from tracing programs; else known_netns
 * is a tid-keyed hash cleaned at task exit. */
SS_EXTERN const volatile bool have_task_storage;

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

/* Threads with a net.* sysctl write whose value is read back at their exit
 * (readback mode, SS_EV_WRITER_EXIT): tid -> netns inode at the write. LRU:
 * a writer that lives on for long is evicted rather than filling the map
 * (its write is read back through /proc while it lives). */
SS_EXTERN struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} net_writers SEC(".maps");

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

/* Marks the writer of a net.* sysctl record for ss_writer_exit. */
static __always_inline void note_net_writer(const struct ss_sysctl_event *e)
{
	__u32 tid = e->hdr.task.tid, netns = e->hdr.task.netns;

	if (!type_enabled(SS_EV_WRITER_EXIT) || !e->write_id || !tid || !netns ||
	    netns == self_netns)
		return;
	if (e->name_len < 4 || e->data[0] != 'n' || e->data[1] != 'e' || e->data[2] != 't' ||
	    e->data[3] != '/')
		return;
	bpf_map_update_elem(&net_writers, &tid, &netns, BPF_ANY);
}

static __always_inline __u32 task_netns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* Where a helper is called from: each program type has its own helper set. */
enum ss_where { SS_IN_TP, SS_IN_SYSCTL };

static __always_inline __u32 task_src(enum ss_where w)
{
	return w == SS_IN_SYSCTL ? sysctl_task_src : tp_task_src;
}

/* The current task for probe reads, or NULL where the program type has no
 * way to get it. */
static __always_inline struct task_struct *cur_task(enum ss_where w)
{
	if (task_src(w) == SS_TASK_BTF)
		return bpf_get_current_task_btf();
	if (task_src(w) == SS_TASK_PROBE)
		return (struct task_struct *)bpf_get_current_task();
	return NULL;
}

/* pid_tgid as bpf_get_current_pid_tgid() gives it; 0 when unknowable. */
static __always_inline __u64 cur_pid_tgid(enum ss_where w)
{
	struct task_struct *t;

	if (w == SS_IN_TP || sysctl_pid_helpers)
		return bpf_get_current_pid_tgid();
	t = cur_task(w);
	if (!t)
		return 0;
	return (__u64)BPF_CORE_READ(t, tgid) << 32 | (__u32)BPF_CORE_READ(t, pid);
}

/* Before 6.1 struct cgroup kept ancestor ids, not pointers. */
struct cgroup___ids {
	int level;
	__u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* == bpf_get_current_ancestor_cgroup_id(level), also where the program
 * type lacks it: 0 when the task is not that deep or unknowable. */
static __always_inline __u64 cur_ancestor_cgroup_id(enum ss_where w, __u32 level)
{
	struct task_struct *t;
	struct cgroup *cg;
	__u64 id = 0;

	if (w == SS_IN_TP ? tp_ancestor_helper : sysctl_ancestor_helper)
		return bpf_get_current_ancestor_cgroup_id(level);
	t = cur_task(w);
	if (!t)
		return 0;
	cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	if (!cg || level > (__u32)BPF_CORE_READ(cg, level))
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		struct cgroup *a = NULL;

		bpf_probe_read_kernel(&a, sizeof(a), &cg->ancestors[level]);
		return a ? BPF_CORE_READ(a, kn, id) : 0;
	}
	bpf_probe_read_kernel(&id, sizeof(id), &((struct cgroup___ids *)cg)->ancestor_ids[level]);
	return id;
}

static __always_inline bool container_allowed(enum ss_where w)
{
	struct task_struct *t;
	__u32 ns;
	int i;

	for (i = 0; i < SS_MAX_TARG_CT; i++) {
		if (i >= targ_ct_ncgroups)
			break;
		if (cur_ancestor_cgroup_id(w, targ_ct_level[i]) == targ_ct_cgroup[i])
			return true;
	}
	if (!targ_ct_nnetns)
		return false;
	t = cur_task(w);
	if (!t)
		return false;
	ns = task_netns(t);
	for (i = 0; i < SS_MAX_TARG_CT; i++) {
		if (i >= targ_ct_nnetns)
			break;
		if (ns == targ_ct_netns[i])
			return true;
	}
	return false;
}

/* The one filter every task-triggered program applies before doing any
 * work (the cgroup mkdir/rmdir records feed path resolution and are not
 * filtered). */
static __always_inline bool trace_allowed(enum ss_where w)
{
	__u32 tgid = cur_pid_tgid(w) >> 32;

	/* The tracer's own activity is never an event: it re-reads host sysctls
	 * for netns_create's differs_from_host and write read-backs. */
	if (self_tgid && tgid == self_tgid)
		return false;
	if (targ_tgid && tgid != targ_tgid)
		return false;
	if (targ_cgroup_id && cur_ancestor_cgroup_id(w, targ_cgroup_level) != targ_cgroup_id)
		return false;
	if ((targ_ct_ncgroups || targ_ct_nnetns) && !container_allowed(w))
		return false;
	return true;
}

/*
 * Runs for every record (every sysctl read). With a BTF task pointer every
 * field below is a plain fault-checked load: no bpf_probe_read_kernel() per
 * pointer hop, and no helper call where a load gives the same value
 * (pid/tgid, uid, comm, cgroup id: each helper call costs a call/return pair,
 * expensive under the SRSO mitigation this VM's CPU uses). Older kernels get
 * the same fields by probe reads, or (cgroup/sysctl without task access)
 * from the helpers that program type has; what stays unknown is 0.
 */
static __always_inline void fill_hdr(struct ss_hdr *h, __u32 type, __u32 size, enum ss_where w)
{
	struct task_struct *task;

	h->version = SS_ABI_VERSION;
	h->type = type;
	h->size = size;
	h->task.ts_boot_ns = bpf_ktime_get_boot_ns();
	if (task_src(w) == SS_TASK_BTF) {
		task = bpf_get_current_task_btf();
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
		return;
	}
	h->task.cgroup_id = bpf_get_current_cgroup_id();
	h->task.uid = (__u32)bpf_get_current_uid_gid();
	task = cur_task(w);
	if (task) {
		h->task.pid = BPF_CORE_READ(task, tgid);
		h->task.tid = BPF_CORE_READ(task, pid);
		h->task.ppid = BPF_CORE_READ(task, real_parent, tgid);
		h->task.netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
		h->task.mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
		BPF_CORE_READ_STR_INTO(&h->task.comm, task, comm);
		return;
	}
	/* cgroup/sysctl on a kernel that gives it no task: who is unknown
	 * beyond cgroup and uid, unless the pid/comm helpers are there. */
	h->task.ppid = 0;
	h->task.netns = 0;
	h->task.mntns = 0;
	if (sysctl_pid_helpers) {
		__u64 pt = bpf_get_current_pid_tgid();

		h->task.pid = pt >> 32;
		h->task.tid = (__u32)pt;
		bpf_get_current_comm(h->task.comm, sizeof(h->task.comm));
	} else {
		h->task.pid = 0;
		h->task.tid = 0;
		h->task.comm[0] = 0;
	}
}

/* The user registers of the current task, saved at syscall entry. */
#define SS_THREAD_SIZE 16384 /* x86_64 and arm64 without KASAN */
static __always_inline struct pt_regs *cur_user_regs(void)
{
	struct task_struct *t;

	if (have_task_pt_regs)
		return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	/* Before 5.15: they sit at the top of the task's kernel stack
	 * (task_pt_regs() in arch/x86/include/asm/processor.h, and arm64's). */
	t = (struct task_struct *)bpf_get_current_task();
	return (struct pt_regs *)(BPF_CORE_READ(t, stack) + SS_THREAD_SIZE) - 1;
}

/* The syscall number the task entered with (regs: cur_user_regs()) and
 * whether it is a 32-bit compat syscall (sysctlscope/syscall_abi.h). */
static __always_inline long long user_syscall_nr(struct pt_regs *regs, int *compat)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	*compat = (BPF_CORE_READ(t, thread_info.status) & SS_X86_TS_COMPAT) != 0;
	return (long long)BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	*compat = (BPF_CORE_READ(regs, pstate) & SS_ARM64_PSR_MODE32_BIT) != 0;
	return BPF_CORE_READ(regs, syscallno);
#endif
}

/* fexit on a syscall's wrapper (struct pt_regs * argument). */
#if defined(__TARGET_ARCH_x86)
#define SS_FEXIT_SYSCALL(name) "fexit/__x64_sys_" #name
#elif defined(__TARGET_ARCH_arm64)
#define SS_FEXIT_SYSCALL(name) "fexit/__arm64_sys_" #name
#else
#error "sysctlscope knows the syscall wrappers of x86_64 and arm64 only"
#endif

/* Reserves a record in the ring buffer, counting it as lost when full. */
#define ss_reserve(T)                                                                              \
	({                                                                                         \
		T *__r = bpf_ringbuf_reserve(&events, sizeof(T), 0);                               \
		if (!__r)                                                                          \
			count_lost();                                                              \
		__r;                                                                               \
	})

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
