// SPDX-License-Identifier: Apache-2.0
// The kernel-side form of `--container` values, and the warning when a
// container it covers gets a cgroup it does not (a restart).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "enrich/container_meta.hpp"

namespace sysctlscope {

class CgroupPaths;
struct KnownContainer;

// What the kernel can check for --container (see trace_allowed()).
struct KernelContainerFilter {
  std::vector<std::pair<uint64_t, uint32_t>> cgroups;  // subtree roots: (cgroup id, level)
  std::vector<uint32_t> netns;                         // the containers' netns (not the host's)
  std::vector<std::string> ids;                        // containers covered
};

class KernelFilterPlan {
 public:
  // Every container running now -> its cgroup paths.
  using Running = std::unordered_map<KnownContainer*, std::vector<std::string>>;
  // See ContainerEnricher::kernel_filter_for.
  std::optional<KernelContainerFilter> plan(const Running& running,
                                            const std::vector<std::string>& values, size_t max_each,
                                            const MetaSources& meta, const std::string& proc_root,
                                            uint32_t host_netns, const CgroupPaths& paths,
                                            std::string* why);
  bool active() const { return !ids_.empty(); }
  // A new cgroup `path` of container `id`: warns when the filter covers the
  // container but not the cgroup.
  void warn_if_uncovered(const std::string& id, const std::string& path) const;

 private:
  // The containers filtered in the kernel, and the cgroup paths whose
  // subtrees the kernel lets through.
  std::vector<std::string> ids_, paths_;
};

}  // namespace sysctlscope
