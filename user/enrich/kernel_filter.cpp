// SPDX-License-Identifier: Apache-2.0
#include "enrich/kernel_filter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/path.hpp"
#include "enrich/container_table.hpp"
#include "enrich/enricher.hpp"
#include "enrich/proc.hpp"

namespace sysctlscope {

std::optional<KernelContainerFilter> KernelFilterPlan::plan(
    const Running& running, const std::vector<std::string>& values, size_t max_each,
    const MetaSources& meta, const std::string& proc_root, uint32_t host_netns,
    const CgroupPaths& paths, std::string* why) {
  auto fail = [&](std::string m) {
    if (why) *why = std::move(m);
    return std::nullopt;
  };
  KernelContainerFilter f;
  std::vector<std::string> roots, state_roots;
  for (const auto& v : values) {
    bool any = false;
    for (auto& [k, cg_paths] : running) {
      const ContainerInfo& c = *k->info;
      const bool by_id = c.id == v || (v.size() >= 12 && c.id.compare(0, v.size(), v) == 0);
      if (!by_id && !c.name.empty() && c.name == v) return fail("'" + v + "' is a container name");
      if (!by_id) continue;
      any = true;
      if (std::find(f.ids.begin(), f.ids.end(), c.id) != f.ids.end()) continue;
      f.ids.push_back(c.id);
      // Its netns, from its init process: a host process reaching into it
      // must pass too. Only runc's state.json records the init (names and
      // annotations are known already). Unknown (no state): the kernel cannot tell.
      if (state_roots.empty()) state_roots = runc_state_roots(meta);
      RuncState st;
      uint32_t ns = 0;
      if (read_runc_state(state_roots, c.id, st) && same_process(proc_root, st.pid, st.init_start))
        ns = netns_of(proc_root, st.pid);
      if (!ns) return fail("the network namespace of " + c.id + " is unknown");
      if (ns != host_netns && std::find(f.netns.begin(), f.netns.end(), ns) == f.netns.end())
        f.netns.push_back(ns);
      roots.insert(roots.end(), cg_paths.begin(), cg_paths.end());
    }
    if (!any) return fail("no running container has the id or id prefix '" + v + "'");
  }
  // Subtree roots only: a cgroup below another one is covered by it.
  std::sort(roots.begin(), roots.end());
  std::vector<std::string> kept;
  for (const auto& p : roots)
    if (kept.empty() || !path_under(p, kept.back())) kept.push_back(p);
  for (const auto& p : kept)
    for (const auto& [id, q] : paths.all())
      if (q == p) f.cgroups.emplace_back(id, static_cast<uint32_t>(path_level(p)));
  if (f.cgroups.size() > max_each || f.netns.size() > max_each)
    return fail("more than " + std::to_string(max_each) + " cgroups or network namespaces");
  ids_ = f.ids;
  paths_ = kept;
  return f;
}

void KernelFilterPlan::warn_if_uncovered(const std::string& id, const std::string& path) const {
  if (std::find(ids_.begin(), ids_.end(), id) == ids_.end()) return;
  for (const auto& p : paths_)
    if (path_under(path, p)) return;
  // A restart (same id, new cgroup and netns): the filter was fixed at load.
  spdlog::warn(
      "container {} has a new cgroup {} (restarted?): the in-kernel --container filter set at "
      "start "
      "does not cover it; restart trace to follow it",
      id, path);
}

}  // namespace sysctlscope
