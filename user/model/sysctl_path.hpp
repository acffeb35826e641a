// SPDX-License-Identifier: Apache-2.0
// Turns what the kernel captured for a refused open (path as passed, the
// directory it was relative to, the procfs mounts the task saw) into the
// sysctl it meant, lexically, the way the VFS walked it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace sysctlscope
