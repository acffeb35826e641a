// SPDX-License-Identifier: Apache-2.0
#include "enrich/v1_cgroups.hpp"

#include "enrich/proc.hpp"

namespace sysctlscope {

std::optional<std::string> V1Cgroups::container_id(
    uint32_t pid, const std::function<std::string(const std::string&)>& container_of) {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) {
    auto cgroups = proc_cgroups(proc_root_, std::to_string(pid));
    if (cgroups.empty()) return std::nullopt;  // exited
    std::string id;
    for (const auto& c : cgroups) {
      if (c.v2 || c.path.empty() || c.path == "/") continue;
      if (!(id = container_of(c.path)).empty()) break;
    }
    if (by_pid_.size() >= 4096) by_pid_.clear();
    it = by_pid_.emplace(pid, std::move(id)).first;
  }
  return it->second;
}

void V1Cgroups::forget(const std::string& id) {
  std::erase_if(by_pid_, [&](const auto& p) { return p.second == id; });
}

}  // namespace sysctlscope
