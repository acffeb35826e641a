// SPDX-License-Identifier: Apache-2.0
// What the kernel could not capture, completed from /proc while the task
// still runs (the model itself never reads the system).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysctlscope {

// /proc/<pid>/cmdline (NUL-separated) while the process still runs, and only
// if /proc/<pid>/task/<tid>/comm still is `comm` (the pid was not reused).
std::optional<std::string> read_proc_cmdline(uint32_t pid, uint32_t tid, std::string_view comm);

// The inode of a namespace file (<proc>/<pid>/ns/net, an nsfs bind mount);
// 0 when unreadable.
uint32_t ns_inode(const std::string& path);
// <proc_root>/<pid>/ns/net's inode; 0 when the process is gone.
uint32_t netns_of(const std::string& proc_root, int pid);

// One line of /proc/<pid>/cgroup: "<hierarchy id>:<controllers>:<path>";
// hierarchy 0 is cgroup v2, any other a v1 hierarchy.
struct ProcCgroup {
  bool v2 = false;
  std::string path;
};
// <proc_root>/<task>/cgroup (task: a pid or "self"); empty when unreadable.
std::vector<ProcCgroup> proc_cgroups(const std::string& proc_root, const std::string& task);
// The v2 line's path ("" when unknown).
std::string cgroup2_of(const std::string& proc_root, int pid);

}  // namespace sysctlscope
