// SPDX-License-Identifier: Apache-2.0
// Sysctl names, lexically: what the kernel captured for a refused open (path
// as passed, the directory it was relative to, the procfs mounts the task
// saw) -> the sysctl it meant, the way the VFS walked it; names as people
// write them (`explain`, policy files) -> dotted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/vocab.hpp"

namespace sysctlscope {

struct ProcMount {
  std::string mountpoint;  // from the task's root: "/proc", "/proc/sys", "/mnt/p"
  std::string root;        // inside procfs: "/" or "/sys..." (runc binds /sys read-only)
};

// "net/ipv4/tcp_keepalive_time" (slash form below procfs' /sys), or nullopt
// when the path does not land in a sysctl. `base` is the absolute directory
// a relative `path` starts from. Handles "." / ".." / "//" and the magic
// links /proc/self/root and /proc/thread-self/root; other symlinks are
// taken literally (see docs/events.md).
std::optional<std::string> resolve_sysctl_path(std::string_view path, std::string_view base,
                                               const std::vector<ProcMount>& mounts);

// ["O_WRONLY","O_CREAT","O_TRUNC"]: access mode first, then the other flags
// in bit order; unknown bits as one "0x..." entry.
std::vector<std::string> decode_open_flags(uint32_t flags);

// NUL-separated arguments -> array of strings (a trailing NUL is not an
// empty argument).
std::vector<std::string> split_cmdline(std::string_view raw);

// Which namespace decides the value a reader of this sysctl sees (and so
// which one a write changes): the task's network, UTS, IPC, user (user.*)
// or pid (kernel.ns_last_pid: User too) namespace, or none (Global).
SysctlScope scope_of(std::string_view dotted);

// "net/ipv4/tcp_keepalive_time", "/proc/sys/net/ipv4/..." or dotted -> dotted.
// A name that mixes both styles is taken as dotted (sysctl(8) allows '/' inside
// a component, e.g. net.ipv4.conf.eth0/100.rp_filter). Empty -> empty.
std::string normalize_sysctl_name(std::string_view name);

// A dotted name whose /proc/sys path has no empty, "." or ".." component
// (so "kernel/../../etc/passwd" cannot escape /proc/sys).
bool valid_sysctl_name(std::string_view dotted);

}  // namespace sysctlscope
