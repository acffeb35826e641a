// SPDX-License-Identifier: Apache-2.0
// Processes in the cgroup v2 root may still be in a container's v1 cgroups
// (runtimes on v1 or hybrid hosts place them in v1 hierarchies only). The
// kernel gave no v1 id: /proc/<pid>/cgroup is read once per process while it
// lives.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace sysctlscope {

class V1Cgroups {
 public:
  explicit V1Cgroups(std::string proc_root) : proc_root_(std::move(proc_root)) {}
  // The id of the container `pid`'s v1 cgroups name ("" = none), by
  // `container_of` (a v1 cgroup path -> container id, "" for none); nullopt
  // when the process is gone and was never seen.
  std::optional<std::string> container_id(
      uint32_t pid, const std::function<std::string(const std::string&)>& container_of);
  // The container is gone: no process answers with it any more.
  void forget(const std::string& id);

 private:
  std::string proc_root_;
  // pid -> container id ("" = none). Bounded (cleared when full); a reused
  // pid may see the previous process's answer until then.
  std::unordered_map<uint32_t, std::string> by_pid_;
};

}  // namespace sysctlscope
