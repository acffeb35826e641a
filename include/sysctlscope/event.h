/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event ABI shared by the BPF programs and userspace.
 *
 * Plain C, fixed-size fields only: BPF includes it after vmlinux.h, C++
 * includes it after <linux/types.h>. Every record in the ring buffer starts
 * with struct ss_hdr; `type` selects the rest. Bump SS_ABI_VERSION whenever a
 * layout changes: userspace refuses records of another version.
 */
#ifndef SYSCTLSCOPE_EVENT_H
#define SYSCTLSCOPE_EVENT_H

#define SS_ABI_VERSION 3

#define SS_COMM_LEN 16
/* Longest sysctl name we keep, NUL included ("net/ipv6/conf/<ifname>/..."). */
#define SS_NAME_MAX 256
/* Values: 256 bytes hold most; tcp_fastopen_key and kernel.core_pattern
 * are longer in practice, so keep 512. */
#define SS_VALUE_MAX 512
#define SS_PATH_MAX 512

enum ss_event_type {
	SS_EV_SYSCTL_READ = 1,
	SS_EV_SYSCTL_WRITE = 2,
	/* Result of the write() syscall that carried a sysctl_write. */
	SS_EV_WRITE_RESULT = 3,
	/* An open() for writing of a sysctl file that failed in the VFS. */
	SS_EV_SYSCTL_BLOCKED = 4,
	SS_EV_NETNS_CREATE = 5,
	SS_EV_NETNS_ENTER = 6,
	/* cgroup v2 directories created / removed (for id -> path, race-free). */
	SS_EV_CGROUP_MKDIR = 7,
	SS_EV_CGROUP_RMDIR = 8,
	/* A thread that wrote a net.* sysctl is exiting (readback mode): a
	 * snapshot of its netns, laid out as struct ss_netns_create_event
	 * (netns = that namespace, parent_netns and via 0), taken before the
	 * thread drops the namespace. Not an event: it judges held writes. */
	SS_EV_WRITER_EXIT = 9,
	SS_EV_MAX
};

/* Bit per event type, for the `type_mask` filter knob. */
#define SS_TYPE_BIT(t) (1u << (t))

/* Values of the tp_task_src / sysctl_task_src knobs (bpf/common.bpf.h): how
 * a program type reaches the current task on this kernel. */
enum ss_task_src {
	SS_TASK_NONE = 0, /* not at all: only the pid/uid/cgroup helpers it has */
	SS_TASK_PROBE = 1, /* bpf_get_current_task() + probe reads */
	SS_TASK_BTF = 2, /* bpf_get_current_task_btf(): plain loads */
};

/* Flags of struct ss_sysctl_event. */
enum ss_sysctl_flags {
	SS_F_NAME_TRUNC = 1u << 0,
	SS_F_VALUE_TRUNC = 1u << 1, /* value (read) / old value (write) */
	SS_F_NEW_TRUNC = 1u << 2,
	SS_F_VALUE_ERR = 1u << 3, /* the kernel could not format the value */
	SS_F_DENIED = 1u << 4, /* --enforce refused this write (EPERM) */
	SS_F_WOULD_DENY = 1u << 5, /* --enforce --dry-run: would have refused it */
};

/*
 * --enforce (docs/policy.md): the cgroup/sysctl program refuses a write
 * whose new value differs from the expected one of the entry for its sysctl
 * (name as bpf_sysctl_get_name() gives it, NUL-padded) in the writer's netns,
 * or of the entry with netns 0 (any namespace).
 */
enum ss_enforce_mode {
	SS_ENFORCE_OFF = 0,
	SS_ENFORCE_DENY = 1,
	SS_ENFORCE_DRY_RUN = 2,
};
#define SS_ENF_VALUE_MAX 64 /* expected values, blank runs collapsed to one space */
struct ss_enforce_key {
	__u32 netns; /* inode; 0 = any */
	char name[SS_NAME_MAX];
};
struct ss_enforce_val {
	__u32 len;
	char value[SS_ENF_VALUE_MAX];
};

/* Who did it: filled once per event from `current`. */
struct ss_task {
	__u64 ts_boot_ns; /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id; /* cgroup v2 id */
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid; /* real_parent->tgid */
	__u32 uid;
	__u32 netns; /* inode of current->nsproxy->net_ns */
	__u32 mntns; /* inode of current->nsproxy->mnt_ns */
	char comm[SS_COMM_LEN];
};

struct ss_hdr {
	__u16 version; /* SS_ABI_VERSION */
	__u16 type; /* enum ss_event_type */
	__u32 size; /* bytes of the whole record */
	struct ss_task task;
};

/*
 * sysctl_read / sysctl_write from the cgroup/sysctl hook. Variable size:
 * `data` holds the name (name_len bytes), then the value read / old value
 * (value_len), then the new value (new_len), without NULs; hdr.size counts
 * only what is used. A typical read record is ~130 bytes instead of the
 * ~1.3 KiB maximum: 10x more events fit in the ring buffer.
 */
struct ss_sysctl_event { /* at most 1,376 bytes; hdr.size is what is used */
	struct ss_hdr hdr;
	__u64 write_id; /* writes: key to match SS_EV_WRITE_RESULT; 0 on reads */
	__s64 file_pos;
	__u32 flags; /* enum ss_sysctl_flags */
	__u16 name_len; /* name: "net/ipv4/tcp_mem", slash form, no leading slash */
	__u16 value_len;
	__u16 new_len;
	__u16 _pad[3];
	char data[SS_NAME_MAX + 2 * SS_VALUE_MAX];
};

/* What the write syscall that carried a sysctl_write returned. */
struct ss_write_result_event {
	struct ss_hdr hdr;
	__u64 write_id;
	__s64 ret; /* bytes written, or -errno */
	__u32 syscall_nr;
	__u32 _pad;
};

/* Which open syscall a blocked record came from (arch-neutral). */
enum ss_open_call {
	SS_CALL_OPEN = 1,
	SS_CALL_OPENAT = 2,
	SS_CALL_OPENAT2 = 3,
	SS_CALL_CREAT = 4,
};

/* Flags of struct ss_blocked_event. */
enum ss_blocked_flags {
	SS_BF_PATH_TRUNC = 1u << 0, /* `path` cut at SS_PATH_MAX - 1 */
	SS_BF_BASE_TRUNC = 1u << 1, /* `base` too long or too deep */
	SS_BF_BASE_UNKNOWN = 1u << 2, /* cwd/dirfd outside the task's root, or a bad dirfd */
	SS_BF_MOUNTS_TRUNC = 1u << 3, /* more procfs mounts (or mounts) than we walk */
	SS_BF_CMDLINE_TRUNC = 1u << 4,
	SS_BF_CMDLINE_ERR = 1u << 5, /* the argument pages could not be read */
};

#define SS_MNT_PATH_MAX 128
#define SS_MNT_ROOT_MAX 64
#define SS_PROC_MOUNTS_MAX 8
#define SS_CMDLINE_MAX 256

/* A procfs mount visible to the task whose root is / or below /sys. */
struct ss_proc_mount {
	char mountpoint[SS_MNT_PATH_MAX]; /* from the task's root, e.g. "/proc/sys" */
	char root[SS_MNT_ROOT_MAX]; /* inside procfs, e.g. "/sys" for runc's ro bind */
};

/*
 * An open for writing that failed with EROFS, EACCES or EPERM. The kernel
 * sends what userspace needs to resolve the path lexically as the VFS saw it
 * at that moment (the task may be gone when we read the record): the path as
 * passed, the directory a relative path starts from, and the procfs mounts in
 * the task's view. Userspace drops records that do not land in a sysctl.
 */
struct ss_blocked_event {
	struct ss_hdr hdr;
	__s32 err; /* positive errno */
	__u32 open_flags;
	__u32 call; /* enum ss_open_call */
	__s32 dirfd; /* openat/openat2; AT_FDCWD otherwise */
	__u16 path_len;
	__u16 base_len;
	__u16 cmdline_len;
	__u16 nr_mounts;
	__u32 flags; /* enum ss_blocked_flags */
	__u32 _pad;
	char path[SS_PATH_MAX]; /* as the process passed it */
	/* Directory a relative path starts from (cwd or dirfd), from the task's
	 * root; empty for absolute paths. */
	char base[SS_PATH_MAX];
	char cmdline[SS_CMDLINE_MAX]; /* NUL-separated arguments */
	struct ss_proc_mount mounts[SS_PROC_MOUNTS_MAX];
};

enum ss_netns_via {
	SS_VIA_CLONE = 1,
	SS_VIA_CLONE3 = 2,
	SS_VIA_UNSHARE = 3,
};

/* A netns joined with setns(). */
struct ss_netns_enter_event {
	struct ss_hdr hdr;
	__u32 from_netns;
	__u32 target_netns;
};

/*
 * netns_create: the header, then raw copies of the new namespace's per-netns
 * sysctl storage taken in the kernel before the creating syscall returned
 * (before the child of a clone ran). Each part sits at a fixed offset of
 * `snap` with its length in part_len (0: not captured). Userspace decodes the
 * bytes with the running kernel's BTF (user/netns/snapshot.cpp).
 */
enum ss_snap_part {
	SS_SNAP_NET = 0, /* struct net (holds netns_ipv4, netns_core, ipv6.sysctl, unx, ct) */
	SS_SNAP_DEVCONF4_ALL, /* *net->ipv4.devconf_all (struct ipv4_devconf) */
	SS_SNAP_DEVCONF4_DFLT,
	SS_SNAP_DEVCONF6_ALL, /* *net->ipv6.devconf_all (struct ipv6_devconf) */
	SS_SNAP_DEVCONF6_DFLT,
	SS_SNAP_CC_NAME, /* net->ipv4.tcp_congestion_control->name */
	SS_SNAP_DEVCONF4_LO, /* net->loopback_dev->ip_ptr->cnf (struct ipv4_devconf) */
	SS_SNAP_DEVCONF6_LO, /* net->loopback_dev->ip6_ptr->cnf (struct ipv6_devconf) */
	SS_SNAP_NEIGH4_LO, /* *net->loopback_dev->ip_ptr->arp_parms (struct neigh_parms) */
	SS_SNAP_NEIGH6_LO, /* *net->loopback_dev->ip6_ptr->nd_parms */
	SS_SNAP_FQDIR4, /* head of *net->ipv4.fqdir (struct fqdir: ipfrag_*) */
	SS_SNAP_FQDIR6, /* head of *net->ipv6.fqdir */
	SS_SNAP_TCP_HASH, /* head of *net->ipv4.tcp_death_row.hashinfo + its address */
	SS_SNAP_UDP_TABLE, /* *net->ipv4.udp_table + its address */
	/* net_generic() slots (net->gen->ptr[i]): per-netns data of mptcp,
	 * br_netfilter, nf_defrag_ipv6, ... whose slot ids are kernel variables
	 * in neither BTF nor (without CONFIG_KALLSYMS_ALL) kallsyms. Userspace
	 * finds each structure's slot by calibration. Layout: __u64 mask of
	 * slots whose head was read, __u64 mask of slots whose deref was read,
	 * then SS_GEN_SLOTS slots of SS_GEN_HEAD bytes of the structure followed
	 * by SS_GEN_DEREF bytes of what the pointer at its SS_GEN deref offset
	 * (nft_ct_frag6_pernet.fqdir) points to. */
	SS_SNAP_GEN,
	/* head of *net->nf_frag.fqdir (nf_conntrack_frag6_*, before 5.16;
	 * later behind net_generic(), see SS_SNAP_GEN) */
	SS_SNAP_FQDIR6NF,
	SS_SNAP_PARTS
};
#define SS_SNAP_NET_OFF 0
#define SS_SNAP_NET_MAX 8192
#define SS_SNAP_DC4_MAX 256 /* struct ipv4_devconf: 152 bytes on 6.18 */
#define SS_SNAP_DC6_MAX 512 /* struct ipv6_devconf: 264 bytes on 6.18 */
#define SS_SNAP_NEIGH_MAX 256
#define SS_SNAP_FQDIR_MAX 64
#define SS_SNAP_HASH_MAX 128 /* 8 bytes of address, then the struct */
#define SS_SNAP_DC4_ALL_OFF (SS_SNAP_NET_OFF + SS_SNAP_NET_MAX)
#define SS_SNAP_DC4_DFLT_OFF (SS_SNAP_DC4_ALL_OFF + SS_SNAP_DC4_MAX)
#define SS_SNAP_DC6_ALL_OFF (SS_SNAP_DC4_DFLT_OFF + SS_SNAP_DC4_MAX)
#define SS_SNAP_DC6_DFLT_OFF (SS_SNAP_DC6_ALL_OFF + SS_SNAP_DC6_MAX)
#define SS_SNAP_CC_OFF (SS_SNAP_DC6_DFLT_OFF + SS_SNAP_DC6_MAX)
#define SS_SNAP_CC_MAX 16
#define SS_SNAP_DC4_LO_OFF (SS_SNAP_CC_OFF + SS_SNAP_CC_MAX)
#define SS_SNAP_DC6_LO_OFF (SS_SNAP_DC4_LO_OFF + SS_SNAP_DC4_MAX)
#define SS_SNAP_NEIGH4_LO_OFF (SS_SNAP_DC6_LO_OFF + SS_SNAP_DC6_MAX)
#define SS_SNAP_NEIGH6_LO_OFF (SS_SNAP_NEIGH4_LO_OFF + SS_SNAP_NEIGH_MAX)
#define SS_SNAP_FQDIR4_OFF (SS_SNAP_NEIGH6_LO_OFF + SS_SNAP_NEIGH_MAX)
#define SS_SNAP_FQDIR6_OFF (SS_SNAP_FQDIR4_OFF + SS_SNAP_FQDIR_MAX)
#define SS_SNAP_TCP_HASH_OFF (SS_SNAP_FQDIR6_OFF + SS_SNAP_FQDIR_MAX)
#define SS_SNAP_UDP_TABLE_OFF (SS_SNAP_TCP_HASH_OFF + SS_SNAP_HASH_MAX)
#define SS_GEN_SLOTS 64
#define SS_GEN_HEAD 96
#define SS_GEN_DEREF 32
#define SS_GEN_SLOT_BYTES (SS_GEN_HEAD + SS_GEN_DEREF)
#define SS_GEN_MASKS 16 /* the two __u64 masks before the slots */
#define SS_SNAP_GEN_OFF (SS_SNAP_UDP_TABLE_OFF + SS_SNAP_HASH_MAX)
#define SS_SNAP_GEN_MAX (SS_GEN_MASKS + SS_GEN_SLOTS * SS_GEN_SLOT_BYTES)
#define SS_SNAP_FQDIR6NF_OFF (SS_SNAP_GEN_OFF + SS_SNAP_GEN_MAX)
#define SS_NETNS_SNAP_MAX (SS_SNAP_FQDIR6NF_OFF + SS_SNAP_FQDIR_MAX)

/* Flags of struct ss_netns_create_event. */
enum ss_netns_flags {
	/* Owned by a user namespace other than the initial one (unshare -Urn,
	 * rootless containers): the kernel hides some tables (net.core.xfrm_*,
	 * net.ipv6.route.*) from such a netns. */
	SS_NETNS_F_CHILD_USERNS = 1u << 0,
};

struct ss_netns_create_event { /* 19,832 bytes, reserved whole (births are rare) */
	struct ss_hdr hdr;
	__u32 netns; /* the new namespace */
	__u32 parent_netns; /* the creator's namespace */
	__u32 via; /* enum ss_netns_via */
	__u32 truncated; /* bit per part cut to its maximum */
	__u32 userns; /* inode of the user namespace that owns the new netns */
	__u32 flags; /* enum ss_netns_flags */
	__u32 part_len[SS_SNAP_PARTS];
	__u8 snap[SS_NETNS_SNAP_MAX];
};

/* Flags of struct ss_cgroup_event. */
enum ss_cgroup_flags {
	SS_CGF_PATH_TRUNC = 1u << 0, /* `path` cut at SS_PATH_MAX - 1 */
};

/*
 * cgroup_mkdir / cgroup_rmdir of the cgroup v2 hierarchy (v1 hierarchies are
 * not sent). Userspace learns id -> path when the cgroup is born, before any
 * process can run in it, so short-lived containers resolve after they are gone.
 */
struct ss_cgroup_event {
	struct ss_hdr hdr;
	__u64 id; /* cgroup v2 id (kernfs node id = inode of its directory) */
	__s32 level; /* 0 = root */
	__u16 path_len; /* bytes in path, NUL excluded */
	__u16 flags; /* enum ss_cgroup_flags */
	char path[SS_PATH_MAX]; /* from the cgroup2 root: "/docker/<id>" */
};

#endif /* SYSCTLSCOPE_EVENT_H */
