// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * New network namespaces (with a birth snapshot of their per-netns sysctl
 * storage) and setns() into another netns. No fentry/kprobes: the creation is
 * seen at sched_process_fork (clone/clone3 with CLONE_NEWNET: the child's
 * nsproxy is set, it has not run yet) and at unshare() exit (the caller's
 * nsproxy now points at the new netns, the syscall has not returned yet). In
 * both places nobody has had a chance to change a value: race-free.
 */
#include "common.bpf.h"

#define SS_CLONE_NEWNET 0x40000000

/*
 * Each task's network namespace as last seen: the namespace a task leaves by
 * unshare() or setns() is read at the exit of those calls, so no syscall
 * *enter* hook is needed (any enabled sys_enter_* tracepoint adds the
 * entry-side tracepoint path to every syscall of every task). Task storage
 * is freed with its task: no exit hook. Kept current by the fork hook
 * (children) and the unshare/setns exits; tasks that predate the tracer are
 * seeded from /proc by userspace (Tracer::seed_known_netns, BPF_NOEXIST so it
 * never overwrites what these programs stored).
 *
 * Without task storage for tracing programs (before 5.11/5.13) userspace
 * turns this map into a hash keyed by tid (bpf_map__set_type), and
 * ss_netns_exit deletes a thread's entry when it exits (before its tid can
 * be reused).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} known_netns SEC(".maps");

/* Stores `now` as the task's known netns and returns the one before (0:
 * unknown). `task` is a BTF pointer (task storage mode only). */
static __always_inline __u32 swap_known(struct task_struct *task, __u32 tid, __u32 now)
{
	__u32 before = 0, *known;

	if (have_task_storage) {
		known = bpf_task_storage_get(&known_netns, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!known)
			return 0;
		before = *known;
		*known = now;
		return before;
	}
	known = bpf_map_lookup_elem(&known_netns, &tid);
	if (known) {
		before = *known;
		*known = now;
		return before;
	}
	bpf_map_update_elem(&known_netns, &tid, &now, BPF_ANY);
	return 0;
}

/* trace_allowed(), or a child of the tracer itself: the throwaway netns that
 * calibrates the snapshot decoder must get through --pid/--cgroup filters. */
static __always_inline bool netns_allowed(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return trace_allowed(SS_IN_TP) ||
	       (self_tgid && BPF_CORE_READ(task, real_parent, tgid) == self_tgid);
}

static __always_inline void snap_part(struct ss_netns_create_event *e, int part, __u32 off,
				      __u32 max, const void *src, __u32 size)
{
	if (!src)
		return;
	if (size > max) {
		size = max;
		e->truncated |= 1u << part;
	}
	if (bpf_probe_read_kernel(e->snap + off, size, src) == 0)
		e->part_len[part] = size;
}

/* The address of a shared structure (8 bytes), then its head: userspace
 * tells a per-netns table from the host's by the address. */
static __always_inline void snap_addr_part(struct ss_netns_create_event *e, int part, __u32 off,
					   const void *src, __u32 size)
{
	__u64 addr = (__u64)src;

	if (!src)
		return;
	if (size > SS_SNAP_HASH_MAX - 8) {
		size = SS_SNAP_HASH_MAX - 8;
		e->truncated |= 1u << part;
	}
	__builtin_memcpy(e->snap + off, &addr, 8);
	if (bpf_probe_read_kernel(e->snap + off + 8, size, src) == 0)
		e->part_len[part] = 8 + size;
}

/*
 * conf.lo.* and neigh.lo.*: the loopback device is registered by
 * loopback_net_init during setup_net, so its in_device/inet6_dev (and their
 * devconf and neigh parms, copied from conf.default and the neigh table's
 * defaults) exist before the creating syscall returns.
 */
static __always_inline void snap_lo(struct ss_netns_create_event *e, struct net *net)
{
	struct in_device *in4 = BPF_CORE_READ(net, loopback_dev, ip_ptr);

	if (in4) {
		snap_part(e, SS_SNAP_DEVCONF4_LO, SS_SNAP_DC4_LO_OFF, SS_SNAP_DC4_MAX, &in4->cnf,
			  bpf_core_type_size(struct ipv4_devconf));
		snap_part(e, SS_SNAP_NEIGH4_LO, SS_SNAP_NEIGH4_LO_OFF, SS_SNAP_NEIGH_MAX,
			  BPF_CORE_READ(in4, arp_parms), bpf_core_type_size(struct neigh_parms));
	}
	if (bpf_core_field_exists(struct net_device, ip6_ptr)) {
		struct inet6_dev *in6 = BPF_CORE_READ(net, loopback_dev, ip6_ptr);

		if (in6) {
			snap_part(e, SS_SNAP_DEVCONF6_LO, SS_SNAP_DC6_LO_OFF, SS_SNAP_DC6_MAX,
				  &in6->cnf, bpf_core_type_size(struct ipv6_devconf));
			snap_part(e, SS_SNAP_NEIGH6_LO, SS_SNAP_NEIGH6_LO_OFF, SS_SNAP_NEIGH_MAX,
				  BPF_CORE_READ(in6, nd_parms),
				  bpf_core_type_size(struct neigh_parms));
		}
	}
}

/* ipfrag_* (struct fqdir, allocated by ipv4_frags_init_net), and the TCP
 * established / UDP hash tables behind tcp_ehash_entries, udp_hash_entries. */
static __always_inline void snap_frag_hash(struct ss_netns_create_event *e, struct net *net)
{
	if (bpf_core_field_exists(net->ipv4.fqdir))
		snap_part(e, SS_SNAP_FQDIR4, SS_SNAP_FQDIR4_OFF, SS_SNAP_FQDIR_MAX,
			  BPF_CORE_READ(net, ipv4.fqdir), bpf_core_type_size(struct fqdir));
	if (bpf_core_field_exists(net->ipv6) && bpf_core_field_exists(net->ipv6.fqdir))
		snap_part(e, SS_SNAP_FQDIR6, SS_SNAP_FQDIR6_OFF, SS_SNAP_FQDIR_MAX,
			  BPF_CORE_READ(net, ipv6.fqdir), bpf_core_type_size(struct fqdir));
	if (bpf_core_field_exists(net->ipv4.tcp_death_row.hashinfo))
		snap_addr_part(e, SS_SNAP_TCP_HASH, SS_SNAP_TCP_HASH_OFF,
			       BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo),
			       bpf_core_type_size(struct inet_hashinfo));
	if (bpf_core_field_exists(net->ipv4.udp_table))
		snap_addr_part(e, SS_SNAP_UDP_TABLE, SS_SNAP_UDP_TABLE_OFF,
			       BPF_CORE_READ(net, ipv4.udp_table),
			       bpf_core_type_size(struct udp_table));
}

/*
 * net_generic() slots: mptcp, br_netfilter, nf_conntrack, nf_defrag_ipv6 ...
 * keep their per-netns sysctls in a structure at net->gen->ptr[id], where id
 * is a static kernel variable userspace cannot read. Every slot's head is
 * copied (plus what the pointer at nft_ct_frag6_pernet.fqdir's offset points
 * to, where there is one); userspace learns which slot holds which structure
 * by matching the calibration netns's /proc values. A failed read leaves the
 * slot's bit clear: zeros are never taken for values.
 */
/* nf_defrag_ipv6's per-netns state (5.16+). Declared here: where the module
 * is not built in (Debian's kernels), vmlinux.h has no such type, and CO-RE
 * finds it in module BTF by name all the same. */
struct nft_ct_frag6_pernet___ss {
	struct ctl_table_header *nf_frag_frags_hdr;
	struct fqdir *fqdir;
} __attribute__((preserve_access_index));

static __always_inline void snap_gen(struct ss_netns_create_event *e, struct net *net)
{
	struct net_generic *ng = BPF_CORE_READ(net, gen);
	__u64 masks[2] = {};
	__u32 len, i, doff = 8, base;

	if (!ng)
		return;
	len = BPF_CORE_READ(ng, s.len);
	if (len > SS_GEN_SLOTS) {
		len = SS_GEN_SLOTS;
		e->truncated |= 1u << SS_SNAP_GEN;
	}
	if (bpf_core_type_exists(struct nft_ct_frag6_pernet___ss))
		doff = bpf_core_field_offset(struct nft_ct_frag6_pernet___ss, fqdir);
	base = bpf_core_field_offset(struct net_generic, ptr);
	for (i = 0; i < SS_GEN_SLOTS; i++) {
		__u32 at =
		    SS_SNAP_GEN_OFF + SS_GEN_MASKS + (i & (SS_GEN_SLOTS - 1)) * SS_GEN_SLOT_BYTES;
		void *p = NULL, *q = NULL;

		if (i >= len)
			break;
		if (bpf_probe_read_kernel(&p, sizeof(p), (void *)ng + base + i * sizeof(void *)) ||
		    !p)
			continue;
		if (bpf_probe_read_kernel(e->snap + at, SS_GEN_HEAD, p))
			continue;
		masks[0] |= 1ull << i;
		if (bpf_probe_read_kernel(&q, sizeof(q), p + (doff & 63)) || !q)
			continue;
		if (bpf_probe_read_kernel(e->snap + at + SS_GEN_HEAD, SS_GEN_DEREF, q) == 0)
			masks[1] |= 1ull << i;
	}
	__builtin_memcpy(e->snap + SS_SNAP_GEN_OFF, masks, sizeof(masks));
	e->part_len[SS_SNAP_GEN] = SS_GEN_MASKS + len * SS_GEN_SLOT_BYTES;
}

/* Before 5.16 nf_defrag_ipv6 kept its fqdir in struct net itself. */
struct netns_nf_frag___v5 {
	struct fqdir *fqdir;
} __attribute__((preserve_access_index));
struct net___v5 {
	struct netns_nf_frag___v5 nf_frag;
} __attribute__((preserve_access_index));

/* A netns_create record, or (type SS_EV_WRITER_EXIT) the same snapshot of
 * a writer's netns at its exit. */
static __always_inline void emit_net_snapshot(__u32 type, struct net *net, __u32 parent_netns,
					      __u32 via)
{
	struct ss_netns_create_event *e;
	const struct tcp_congestion_ops *cc;
	__u32 i;

	e = ss_reserve(struct ss_netns_create_event);
	if (!e)
		return;
	fill_hdr(&e->hdr, type, sizeof(*e), SS_IN_TP);
	e->netns = BPF_CORE_READ(net, ns.inum);
	e->parent_netns = parent_netns;
	e->via = via;
	e->truncated = 0;
	e->userns = BPF_CORE_READ(net, user_ns, ns.inum);
	e->flags = BPF_CORE_READ(net, user_ns, level) > 0 ? SS_NETNS_F_CHILD_USERNS : 0;
	for (i = 0; i < SS_SNAP_PARTS; i++)
		e->part_len[i] = 0;

	snap_part(e, SS_SNAP_NET, SS_SNAP_NET_OFF, SS_SNAP_NET_MAX, net,
		  bpf_core_type_size(struct net));
	snap_part(e, SS_SNAP_DEVCONF4_ALL, SS_SNAP_DC4_ALL_OFF, SS_SNAP_DC4_MAX,
		  BPF_CORE_READ(net, ipv4.devconf_all), bpf_core_type_size(struct ipv4_devconf));
	snap_part(e, SS_SNAP_DEVCONF4_DFLT, SS_SNAP_DC4_DFLT_OFF, SS_SNAP_DC4_MAX,
		  BPF_CORE_READ(net, ipv4.devconf_dflt), bpf_core_type_size(struct ipv4_devconf));
	if (bpf_core_field_exists(net->ipv6)) {
		snap_part(e, SS_SNAP_DEVCONF6_ALL, SS_SNAP_DC6_ALL_OFF, SS_SNAP_DC6_MAX,
			  BPF_CORE_READ(net, ipv6.devconf_all),
			  bpf_core_type_size(struct ipv6_devconf));
		snap_part(e, SS_SNAP_DEVCONF6_DFLT, SS_SNAP_DC6_DFLT_OFF, SS_SNAP_DC6_MAX,
			  BPF_CORE_READ(net, ipv6.devconf_dflt),
			  bpf_core_type_size(struct ipv6_devconf));
	}
	snap_lo(e, net);
	snap_frag_hash(e, net);
	snap_gen(e, net);
	if (bpf_core_field_exists(((struct net___v5 *)net)->nf_frag))
		snap_part(e, SS_SNAP_FQDIR6NF, SS_SNAP_FQDIR6NF_OFF, SS_SNAP_FQDIR_MAX,
			  BPF_CORE_READ((struct net___v5 *)net, nf_frag.fqdir),
			  bpf_core_type_size(struct fqdir));
	cc = BPF_CORE_READ(net, ipv4.tcp_congestion_control);
	if (cc) {
		long n =
		    bpf_probe_read_kernel_str(e->snap + SS_SNAP_CC_OFF, SS_SNAP_CC_MAX, &cc->name);
		if (n > 0)
			e->part_len[SS_SNAP_CC_NAME] = n - 1;
	}
	emit(e, sizeof(*e));
}

static __always_inline void emit_netns_create(struct net *net, __u32 parent_netns, __u32 via)
{
	emit_net_snapshot(SS_EV_NETNS_CREATE, net, parent_netns, via);
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child,
				   bool know_syscall)
{
	struct net *pn, *cn;
	__u32 via = SS_VIA_CLONE;

	if (!type_enabled(SS_EV_NETNS_CREATE))
		return 0;
	cn = BPF_CORE_READ(child, nsproxy, net_ns);
	pn = BPF_CORE_READ(parent, nsproxy, net_ns);
	if (cn == pn || !cn) /* the common path: no new netns */
		return 0;
	if (!netns_allowed())
		return 0;
	if (know_syscall) {
		int compat;
		long long nr = user_syscall_nr(cur_user_regs(), &compat);

		if (ss_is_clone3_nr(SS_ABI_HOST, nr, compat))
			via = SS_VIA_CLONE3;
	}
	emit_netns_create(cn, BPF_CORE_READ(pn, ns.inum), via);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ss_netns_fork, struct task_struct *parent, struct task_struct *child)
{
	if (type_enabled(SS_EV_NETNS_CREATE) || type_enabled(SS_EV_NETNS_ENTER))
		swap_known(child, child->pid, child->nsproxy ? child->nsproxy->net_ns->ns.inum : 0);
	return on_fork(parent, child, true);
}

/* Fallback without tp_btf: same arguments, no clone/clone3 distinction, and
 * children are not remembered in known_netns (the arguments are not BTF
 * pointers): their unshare/setns report the namespace left as unknown. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(ss_netns_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child, false);
}

/* Hash mode of known_netns only: a thread's entry goes with the thread. */
SEC("raw_tp/sched_process_exit")
int ss_netns_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&known_netns, &tid);
	return 0;
}

/* Stores the caller's netns as known and returns the one known before (0:
 * unknown). */
static __always_inline __u32 swap_known_netns(__u32 now)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (have_task_storage)
		return swap_known(bpf_get_current_task_btf(), tid, now);
	return swap_known(NULL, tid, now);
}

/* The syscall's arguments are read back from the saved user registers (as
 * the open exits do), not remembered by an enter hook. */
/*
 * unshare() and setns() are seen at their exit, by a syscall tracepoint or,
 * where the kernel has fexit, on the functions behind them (no syscall
 * tracepoint at all: an enabled one puts every syscall of every task on the
 * slow path). Arguments come from the saved user registers or the function.
 */
static __always_inline int on_unshare(long ret, __u64 flags)
{
	struct net *net;
	__u32 before, now;

	if (ret != 0 || !(flags & SS_CLONE_NEWNET))
		return 0;
	net = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), nsproxy, net_ns);
	if (!net)
		return 0;
	now = BPF_CORE_READ(net, ns.inum);
	before = swap_known_netns(now);
	if (before == now || !type_enabled(SS_EV_NETNS_CREATE) || !netns_allowed())
		return 0;
	emit_netns_create(net, before, SS_VIA_UNSHARE);
	return 0;
}

static __always_inline int on_setns(long ret, __u64 nstype)
{
	struct ss_netns_enter_event *e;
	__u32 before, now;

	/* 0 = any type (an nsfs fd or a pidfd), else it must include net. */
	if (ret != 0 || (nstype && !(nstype & SS_CLONE_NEWNET)))
		return 0;
	now = task_netns((struct task_struct *)bpf_get_current_task());
	before = swap_known_netns(now);
	/* Unknown before (a task the tracer could not seed) counts as a move
	 * only when the call named the net type explicitly. */
	if (before == now || (!before && !nstype))
		return 0;
	if (!type_enabled(SS_EV_NETNS_ENTER) || !trace_allowed(SS_IN_TP))
		return 0;
	e = ss_reserve(struct ss_netns_enter_event);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, SS_EV_NETNS_ENTER, sizeof(*e), SS_IN_TP);
	e->from_netns = before;
	e->target_netns = now;
	emit(e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unshare")
int ss_exit_unshare(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret != 0)
		return 0;
	return on_unshare(0, PT_REGS_PARM1_CORE_SYSCALL(cur_user_regs()));
}

SEC("tracepoint/syscalls/sys_exit_setns")
int ss_exit_setns(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret != 0)
		return 0;
	return on_setns(0, PT_REGS_PARM2_CORE_SYSCALL(cur_user_regs()));
}

/* kernel/fork.c: the body of unshare(2). */
SEC("fexit/ksys_unshare")
int BPF_PROG(ss_fexit_unshare, unsigned long flags, int ret)
{
	return on_unshare(ret, flags);
}

/* setns(2) has no body function of its own: its syscall wrapper. */
SEC(SS_FEXIT_SYSCALL(setns))
int BPF_PROG(ss_fexit_setns, const struct pt_regs *regs, long ret)
{
	if (ret != 0)
		return 0;
	return on_setns(0, PT_REGS_PARM2_CORE_SYSCALL(regs));
}

/*
 * Readback mode: a thread that wrote a net.* sysctl (marked in net_writers
 * by the cgroup/sysctl program) is exiting. sched_process_exit fires in
 * do_exit() before exit_task_namespaces(): the netns is still the writer's
 * and still alive, whatever happens to it microseconds later. Its snapshot
 * lets userspace judge the writes of a one-shot writer in a dying netns.
 * Runs at task exit only: no cost to any syscall.
 */
SEC("raw_tp/sched_process_exit")
int ss_writer_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), want;
	__u32 *marked = bpf_map_lookup_elem(&net_writers, &tid);
	struct net *net;

	if (!marked)
		return 0;
	want = *marked;
	bpf_map_delete_elem(&net_writers, &tid);
	net = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), nsproxy, net_ns);
	/* Moved to another netns since the write (setns): not the one written. */
	if (!net || BPF_CORE_READ(net, ns.inum) != want)
		return 0;
	emit_net_snapshot(SS_EV_WRITER_EXIT, net, 0, 0);
	return 0;
}
