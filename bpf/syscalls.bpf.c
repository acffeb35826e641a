// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Syscall-exit tracepoints for what the cgroup/sysctl hook cannot see:
 *
 * 1. Opens of a sysctl file for writing that the VFS refuses (EROFS from
 *    runc's read-only /proc/sys bind, EACCES, EPERM) before proc_sys_call_handler
 *    runs (fs/namei.c do_open -> mnt_want_write / may_open). sys_exit_*
 *    leaves at once on success or an errno we do not report, then reads the
 *    arguments back from the saved user registers and keeps write-mode opens
 *    only (no sys_enter hook). Only failures pay for the path
 *    work, done here while the task still exists: its cwd/dirfd path and the
 *    procfs mounts it sees. Userspace resolves the path lexically against
 *    them and drops failures that are not sysctl files.
 *
 * 2. The result of the write syscall that carried a sysctl_write: the
 *    cgroup/sysctl program (sysctl.bpf.c) leaves tid -> write_id in
 *    pending_writes; the write-syscall exits report and delete it.
 *
 * These hooks run for every open and write on the machine: on the common
 * path (a successful open, a write while no sysctl write is pending) they
 * compare one value and return, before any map or string work.
 */
#include "common.bpf.h"

#define SS_AT_FDCWD -100
#define SS_O_ACCMODE 03
#define SS_O_TRUNC 01000
#define SS_PROC_SUPER_MAGIC 0x9fa0
#define SS_EPERM 1
#define SS_EACCES 13
#define SS_EROFS 30

/* Paths are built backwards into buf[0, SS_HALF), then copied out. */
#define SS_HALF 512
#define SS_NAME_CAP 255
#define SS_MAX_DEPTH 40
/* Mount-tree steps per blocked open: covers hosts with hundreds of mounts. */
#define SS_MAX_MOUNT_STEPS 1024
#define SS_MAX_MOUNT_DEPTH 16

/* The arguments of the open being reported, read back at its exit. */
struct open_args {
	__u64 filename; /* user pointer */
	__u32 flags;
	__s32 dirfd;
	__u32 call; /* enum ss_open_call */
};

/* Per-CPU workspace: the record is built here (too big for the stack). */
struct blocked_scratch {
	struct ss_blocked_event ev;
	char buf[2 * SS_HALF];
	__u64 cur; /* struct mount * being visited */
	__u64 top; /* the task's root mount */
	__u64 root_mnt; /* struct vfsmount * of the task's root */
	__u64 root_dentry;
	__u32 done;
	/* path walk state (path_step) */
	__s32 w_state; /* 0 running, 1 done, < 0 error */
	__u64 w_vmnt;
	__u64 w_dentry;
	__u32 w_off;
	__u32 w_fs_only;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct blocked_scratch);
} blocked_scratch SEC(".maps");

/* ------------------------------------------------------------ opens ---- */

/*
 * The open's arguments, from the task's saved user registers: the syscall
 * does not change them (only ax gets the return value; arm64 keeps x0 in
 * orig_x0, which PT_REGS_PARM1_CORE_SYSCALL reads). Reading them back at
 * exit means no sys_enter hook and no per-open map update.
 */
static __always_inline bool open_args_at_exit(__u32 call, struct open_args *a)
{
	struct pt_regs *regs = cur_user_regs();
	struct open_how how = {};

	a->call = call;
	a->dirfd = SS_AT_FDCWD;
	switch (call) {
	case SS_CALL_OPEN:
		a->filename = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a->flags = PT_REGS_PARM2_CORE_SYSCALL(regs);
		break;
	case SS_CALL_CREAT:
		/* creat(path, mode) == open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) */
		a->filename = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a->flags = 01 | 0100 | 01000;
		break;
	case SS_CALL_OPENAT:
		a->dirfd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a->filename = PT_REGS_PARM2_CORE_SYSCALL(regs);
		a->flags = PT_REGS_PARM3_CORE_SYSCALL(regs);
		break;
	case SS_CALL_OPENAT2:
		a->dirfd = PT_REGS_PARM1_CORE_SYSCALL(regs);
		a->filename = PT_REGS_PARM2_CORE_SYSCALL(regs);
		if (bpf_probe_read_user(&how, sizeof(how.flags),
					(void *)PT_REGS_PARM3_CORE_SYSCALL(regs)))
			return false;
		a->flags = how.flags;
		break;
	default:
		return false;
	}
	/* Reads cannot be refused for being read-only or unwritable. */
	return (a->flags & SS_O_ACCMODE) != 0 || (a->flags & SS_O_TRUNC);
}

static __always_inline struct mount *real_mount(struct vfsmount *v)
{
	return (struct mount *)((void *)v - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline struct vfsmount *vfs_of(struct mount *m)
{
	return (struct vfsmount *)((void *)m + bpf_core_field_offset(struct mount, mnt));
}

/*
 * Loops over a step that is a global (not inlined) function: the verifier
 * checks a global function once, on its own, so a loop of N calls costs it
 * a few instructions per iteration. Unlike bpf_loop() (5.17) this verifies
 * on every kernel from 5.10, and a direct call is cheaper than bpf_loop's
 * indirect one. A step returns non-zero to stop.
 */

/*
 * One step of a path walk (see build_path): prepends one component, or
 * crosses to the parent mount.
 */
__noinline int ss_path_step(void)
{
	__u32 zero = 0;
	struct blocked_scratch *s = bpf_map_lookup_elem(&blocked_scratch, &zero);
	struct dentry *d, *parent, *mnt_root;
	struct vfsmount *vmnt;
	const unsigned char *name;
	__u32 len, off;

	if (!s)
		return 1;
	d = (struct dentry *)s->w_dentry;
	vmnt = (struct vfsmount *)s->w_vmnt;
	if (!s->w_fs_only && d == (struct dentry *)s->root_dentry &&
	    vmnt == (struct vfsmount *)s->root_mnt)
		goto done;
	parent = BPF_CORE_READ(d, d_parent);
	if (s->w_fs_only) {
		if (d == parent)
			goto done;
	} else {
		mnt_root = BPF_CORE_READ(vmnt, mnt_root);
		if (d == mnt_root || d == parent) {
			struct mount *m = real_mount(vmnt);
			struct mount *pm = BPF_CORE_READ(m, mnt_parent);

			/* Top of the namespace without meeting our root. */
			if (d != mnt_root || pm == m) {
				s->w_state = -1;
				return 1;
			}
			s->w_dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
			s->w_vmnt = (__u64)vfs_of(pm);
			return 0;
		}
	}
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	off = s->w_off;
	if (len > SS_NAME_CAP)
		len = SS_NAME_CAP;
	if (len + 1 > off) {
		s->w_state = -2;
		return 1;
	}
	off -= len;
	bpf_probe_read_kernel(&s->buf[off & (SS_HALF - 1)], len & SS_NAME_CAP, name);
	off -= 1;
	s->buf[off & (SS_HALF - 1)] = '/';
	s->w_off = off;
	s->w_dentry = (__u64)parent;
	return 0;
done:
	s->w_state = 1;
	return 1;
}

/*
 * The path of (vmnt, d) as the task sees it (up to its root), or with
 * SS_FS_ONLY the path inside its filesystem (up to the superblock root),
 * into dst (capacity cap, a power of two). Returns the length, -1 when the
 * directory is not reachable from the root, -2 when too long or too deep.
 */
#define SS_FS_ONLY 1
static __always_inline int build_path(struct blocked_scratch *s, struct vfsmount *vmnt,
				      struct dentry *d, char *dst, __u32 cap, int fs_only)
{
	__u32 off, len;
	int i;

	s->w_vmnt = (__u64)vmnt;
	s->w_dentry = (__u64)d;
	s->w_fs_only = fs_only;
	s->w_off = SS_HALF;
	s->w_state = 0;
	for (i = 0; i < SS_MAX_DEPTH; i++)
		if (ss_path_step())
			break;
	if (s->w_state == 0)
		return -2;
	if (s->w_state < 0)
		return s->w_state;
	off = s->w_off;
	if (off == SS_HALF) {
		off -= 1;
		s->buf[off & (SS_HALF - 1)] = '/';
	}
	if (off > SS_HALF)
		return -2;
	len = SS_HALF - off;
	if (len >= cap)
		return -2;
	/* Hide the ranges from clang so the masks the verifier needs stay. */
	barrier_var(len);
	barrier_var(off);
	len &= cap - 1;
	off &= SS_HALF - 1;
	bpf_probe_read_kernel(dst, len, &s->buf[off]);
	dst[len] = 0;
	return len;
}

/* A procfs mount root at "/" or at/below "/sys" may hold sysctl files. */
static __always_inline bool may_hold_sysctls(struct dentry *root)
{
	char name[4] = {};
	int i;

	for (i = 0; i < 8; i++) {
		struct dentry *parent = BPF_CORE_READ(root, d_parent);

		if (parent == root)
			return i == 0; /* the whole of procfs */
		if (BPF_CORE_READ(parent, d_parent) == parent) {
			/* `root` is a top-level entry: is it "sys"? */
			if (BPF_CORE_READ(root, d_name.len) != 3)
				return false;
			bpf_probe_read_kernel(name, 3, BPF_CORE_READ(root, d_name.name));
			return name[0] == 's' && name[1] == 'y' && name[2] == 's';
		}
		root = parent;
	}
	return false;
}

static __always_inline void visit_mount(struct blocked_scratch *s, struct mount *m)
{
	struct ss_blocked_event *e = &s->ev;
	struct vfsmount *v = vfs_of(m);
	struct dentry *root = BPF_CORE_READ(v, mnt_root);
	__u32 n;

	if (BPF_CORE_READ(v, mnt_sb, s_magic) != SS_PROC_SUPER_MAGIC)
		return;
	if (!may_hold_sysctls(root))
		return;
	n = e->nr_mounts;
	if (n >= SS_PROC_MOUNTS_MAX) {
		e->flags |= SS_BF_MOUNTS_TRUNC;
		return;
	}
	/* Masked at each use, not checked once: older verifiers (6.1) lose the
	 * bound of a value kept across the calls in build_path(). */
	_Static_assert((SS_PROC_MOUNTS_MAX & (SS_PROC_MOUNTS_MAX - 1)) == 0, "mask");
	/* Mounts outside the task's root (chroot) are not reachable: skip. */
	if (build_path(s, v, root, e->mounts[n & (SS_PROC_MOUNTS_MAX - 1)].mountpoint,
		       SS_MNT_PATH_MAX, 0) < 0)
		return;
	barrier_var(n);
	if (build_path(s, v, root, e->mounts[n & (SS_PROC_MOUNTS_MAX - 1)].root, SS_MNT_ROOT_MAX,
		       SS_FS_ONLY) < 0)
		return;
	e->nr_mounts = n + 1;
}

/* One step of the kernel's next_mnt() (fs/namespace.c): pre-order walk of
 * the mount tree below the task's root mount, no stack needed. */
__noinline int ss_mount_step(void)
{
	__u32 zero = 0;
	struct blocked_scratch *s = bpf_map_lookup_elem(&blocked_scratch, &zero);
	struct mount *p, *top;
	struct list_head *next;
	int i;

	if (!s || s->done)
		return 1;
	p = (struct mount *)s->cur;
	top = (struct mount *)s->top;
	visit_mount(s, p);

	next = BPF_CORE_READ(p, mnt_mounts.next);
	if (next == (void *)p + bpf_core_field_offset(struct mount, mnt_mounts)) {
		for (i = 0; i < SS_MAX_MOUNT_DEPTH; i++) {
			struct mount *parent;

			if (p == top) {
				s->done = 1;
				return 1;
			}
			next = BPF_CORE_READ(p, mnt_child.next);
			parent = BPF_CORE_READ(p, mnt_parent);
			if (next != (void *)parent + bpf_core_field_offset(struct mount, mnt_mounts))
				break;
			p = parent;
		}
		if (i == SS_MAX_MOUNT_DEPTH) {
			s->ev.flags |= SS_BF_MOUNTS_TRUNC;
			s->done = 1;
			return 1;
		}
	}
	s->cur = (__u64)((void *)next - bpf_core_field_offset(struct mount, mnt_child));
	return 0;
}

static __always_inline int reportable(long err)
{
	return err == SS_EROFS || err == SS_EACCES || err == SS_EPERM;
}

static __always_inline void read_cmdline(struct ss_blocked_event *e, struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u32 len;

	if (end <= start) {
		e->flags |= SS_BF_CMDLINE_ERR;
		return;
	}
	len = end - start;
	if (len > SS_CMDLINE_MAX - 1) {
		len = SS_CMDLINE_MAX - 1;
		e->flags |= SS_BF_CMDLINE_TRUNC;
	}
	barrier_var(len);
	len &= SS_CMDLINE_MAX - 1;
	if (bpf_probe_read_user(e->cmdline, len, (void *)start)) {
		e->flags |= SS_BF_CMDLINE_ERR;
		return;
	}
	e->cmdline_len = len;
}

static __always_inline int on_open_exit(long ret, __u32 call)
{
	struct blocked_scratch *s;
	struct ss_blocked_event *e;
	struct task_struct *task;
	struct open_args a = {};
	struct fs_struct *fs;
	__u32 zero = 0;
	long n;
	int i;

	/* Every open on the machine passes here: success leaves at once. */
	if (ret >= 0 || !reportable(-ret) || !type_enabled(SS_EV_SYSCTL_BLOCKED))
		return 0;
	if (!open_args_at_exit(call, &a) || !trace_allowed(SS_IN_TP))
		return 0;

	/* ---- rare path: a write-mode open refused ---- */
	s = bpf_map_lookup_elem(&blocked_scratch, &zero);
	if (!s)
		return 0;
	e = &s->ev;
	fill_hdr(&e->hdr, SS_EV_SYSCTL_BLOCKED, sizeof(*e), SS_IN_TP);
	e->err = -ret;
	e->open_flags = a.flags;
	e->call = a.call;
	e->dirfd = a.dirfd;
	e->flags = 0;
	e->nr_mounts = 0;
	e->base_len = 0;
	e->cmdline_len = 0;
	e->base[0] = 0;

	n = bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)a.filename);
	if (n <= 1)
		return 0; /* unreadable or empty: nothing to resolve */
	e->path_len = n - 1;
	if (n == sizeof(e->path))
		e->flags |= SS_BF_PATH_TRUNC;

	task = (struct task_struct *)bpf_get_current_task();
	fs = BPF_CORE_READ(task, fs);
	s->root_mnt = (__u64)BPF_CORE_READ(fs, root.mnt);
	s->root_dentry = (__u64)BPF_CORE_READ(fs, root.dentry);

	if (e->path[0] != '/') {
		struct vfsmount *bm = NULL;
		struct dentry *bd = NULL;

		if (a.dirfd == SS_AT_FDCWD) {
			bm = BPF_CORE_READ(fs, pwd.mnt);
			bd = BPF_CORE_READ(fs, pwd.dentry);
		} else if (a.dirfd >= 0) {
			struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
			struct file **fds = BPF_CORE_READ(fdt, fd);
			struct file *f = NULL;

			if ((__u32)a.dirfd < BPF_CORE_READ(fdt, max_fds))
				bpf_probe_read_kernel(&f, sizeof(f), &fds[a.dirfd]);
			if (f) {
				bm = BPF_CORE_READ(f, f_path.mnt);
				bd = BPF_CORE_READ(f, f_path.dentry);
			}
		}
		n = bm && bd ? build_path(s, bm, bd, e->base, SS_PATH_MAX, 0) : -1;
		if (n >= 0)
			e->base_len = n;
		else
			e->flags |= n == -2 ? SS_BF_BASE_TRUNC : SS_BF_BASE_UNKNOWN;
	}

	read_cmdline(e, task);

	/* The procfs mounts this task can see, from its root mount down. */
	s->top = (__u64)real_mount((struct vfsmount *)s->root_mnt);
	s->cur = s->top;
	s->done = 0;
	for (i = 0; i < SS_MAX_MOUNT_STEPS; i++)
		if (ss_mount_step())
			break;
	if (!s->done)
		e->flags |= SS_BF_MOUNTS_TRUNC;

	if (bpf_ringbuf_output(&events, e, sizeof(*e), wakeup_flag(sizeof(*e))))
		count_lost();
	return 0;
}

/*
 * Where the kernel has fexit: the same, on do_filp_open(), which every open
 * syscall goes through (fs/open.c do_sys_openat2) and nothing else on the
 * syscall path does, so no syscall tracepoint is enabled and unrelated
 * syscalls pay nothing. Which open syscall it was comes from the syscall
 * number; opens from elsewhere (exec, io_uring, the kernel) are skipped,
 * as the tracepoints skip them.
 */
static __always_inline __u32 open_call_of(struct pt_regs *regs)
{
	int compat;
	long long nr = user_syscall_nr(regs, &compat);

	return ss_open_call_of_nr(SS_ABI_HOST, nr, compat);
}

SEC("fexit/do_filp_open")
int BPF_PROG(ss_fexit_filp_open, int dfd, struct filename *pathname, const struct open_flags *op,
	     struct file *ret)
{
	long err = (long)ret;
	__u32 call;

	/* IS_ERR(): success, the common path, leaves here. */
	if (err >= 0 || err < -4095 || !reportable(-err))
		return 0;
	call = open_call_of(cur_user_regs());
	return call ? on_open_exit(err, call) : 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int ss_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret, SS_CALL_OPEN);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int ss_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret, SS_CALL_CREAT);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ss_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret, SS_CALL_OPENAT);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ss_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret, SS_CALL_OPENAT2);
}

/* ----------------------------------------------------- write results ---- */

/*
 * A sysctl write that went through another path leaves a pending entry no
 * write syscall consumes; the next unrelated write() on that thread must not
 * report it. Clearing at sys_enter_write* would be exact but adds a second
 * tracepoint to every write (measured: +100-150 ns on a 270 ns write to
 * /dev/null), so instead the paths that reach a file's
 * ->write_iter without a write syscall clear it at their own exit: sendfile,
 * splice, copy_file_range, io_uring_enter (inline io_uring writes), io_submit
 * (AIO). io_uring's io-wq and SQPOLL threads never make syscalls: their
 * entries are dropped when the thread exits, before its tid can be reused.
 */
static __always_inline int clear_pending(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!*(volatile __u64 *)&pending_count)
		return 0;
	/* Lock-free lookup; the delete (bucket lock) only when there is one. */
	if (bpf_map_lookup_elem(&pending_writes, &tid) &&
	    bpf_map_delete_elem(&pending_writes, &tid) == 0)
		__sync_fetch_and_sub(&pending_count, 1);
	return 0;
}

static __always_inline int on_write_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ss_write_result_event *e;
	__u64 *id, write_id;

	/* The path of every write on the machine: one load, nearly always 0. */
	if (!*(volatile __u64 *)&pending_count)
		return 0;
	id = bpf_map_lookup_elem(&pending_writes, &tid);
	if (!id)
		return 0;
	write_id = *id;
	if (bpf_map_delete_elem(&pending_writes, &tid) == 0)
		__sync_fetch_and_sub(&pending_count, 1);

	e = ss_reserve(struct ss_write_result_event);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, SS_EV_WRITE_RESULT, sizeof(*e), SS_IN_TP);
	e->write_id = write_id;
	e->ret = ctx->ret;
	e->syscall_nr = ctx->id;
	e->_pad = 0;
	emit(e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int ss_clear_sendfile64(void *ctx)
{
	return clear_pending();
}

SEC("tracepoint/syscalls/sys_exit_splice")
int ss_clear_splice(void *ctx)
{
	return clear_pending();
}

SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int ss_clear_copy_file_range(void *ctx)
{
	return clear_pending();
}

SEC("tracepoint/syscalls/sys_exit_io_uring_enter")
int ss_clear_io_uring_enter(void *ctx)
{
	return clear_pending();
}

SEC("tracepoint/syscalls/sys_exit_io_submit")
int ss_clear_io_submit(void *ctx)
{
	return clear_pending();
}

/* Every thread exit, io-wq workers included (raw tracepoint: cheap). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ss_clear_exit, struct task_struct *task)
{
	return clear_pending();
}

SEC("tracepoint/syscalls/sys_exit_write")
int ss_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return on_write_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int ss_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return on_write_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int ss_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return on_write_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwritev")
int ss_exit_pwritev(struct trace_event_raw_sys_exit *ctx)
{
	return on_write_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwritev2")
int ss_exit_pwritev2(struct trace_event_raw_sys_exit *ctx)
{
	return on_write_exit(ctx);
}
