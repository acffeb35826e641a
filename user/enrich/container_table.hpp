// SPDX-License-Identifier: Apache-2.0
// The containers the enricher has met, by id and by cgroup id: which
// container a cgroup path names (its shape, or a runtime's files for a path
// of no shape), and what the runtime's files say of it (looked at again for
// newer events until they appear). A cache hit touches no file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "enrich/container_meta.hpp"
#include "model/event.hpp"

namespace sysctlscope {

class CgroupPaths;

struct KnownContainer {
  std::shared_ptr<ContainerInfo> info;
  bool meta_done = false;  // metadata files read (or none to read)
  bool sandbox = false;    // a pod's sandbox: owns the pod's netns
  int cgroups = 0;         // cgroup ids resolved to it
  int live = 0;            // of those, cgroups not yet removed
  int tries = 0;
  uint64_t last_try_ns = 0;  // Unix time of the last look at the files
};

class ContainerTable {
 public:
  // An event time that is newer than any look at the files.
  static constexpr uint64_t kAlways = UINT64_MAX;
  // The files name the container's init, still that process, in netns `ns`
  // (not the host's).
  using InitNetns = std::function<void(KnownContainer&, uint32_t ns)>;
  ContainerTable(MetaSources meta, std::string proc_root, uint32_t host_netns, CgroupPaths& paths,
                 InitNetns on_init_netns);

  // The container of a cgroup (nullptr: the host's, or unknown yet);
  // `path` (if given) gets the cgroup's path. `event_ns`: when the event
  // happened (files are looked at again only for events newer than the last
  // look).
  KnownContainer* resolve(uint64_t cgroup_id, const std::string** path, uint64_t event_ns);
  // The container a cgroup path names; nullptr for none.
  KnownContainer* resolve_path(const std::string& path);
  // `path` names a container already known (by its shape's id, or its last
  // component for plain runc / ctr): no file is looked at.
  bool may_name_known(const std::string& path) const;
  // The cgroup was resolved (to a container or to none).
  bool resolved(uint64_t cgroup_id) const { return by_cgroup_.count(cgroup_id) != 0; }
  // Loads metadata of a container if its files may have appeared since the
  // last look (before an event at `event_ns`).
  void refresh(KnownContainer& k, uint64_t event_ns);
  // Containers whose files were not there yet: look again (a netns nobody
  // owns may be theirs).
  bool has_pending() const { return !pending_meta_.empty(); }
  void retry_pending(uint64_t event_ns);
  // A container found by a runtime scan (its metadata complete).
  KnownContainer* known_for(const ContainerInfo& info);
  KnownContainer* find(const std::string& id);
  // The cgroups resolved to `k`.
  std::vector<uint64_t> cgroups_of(const KnownContainer* k) const;
  // Forgets cgroup `id`; returns its container when that was its last cgroup
  // (the caller releases what refers to it, then erase()s it).
  KnownContainer* drop_cgroup(uint64_t id);
  void erase(KnownContainer* k);
  size_t size() const { return by_id_.size(); }

 private:
  void load_meta(KnownContainer& k);
  void warn_problems(const KnownContainer& k, const std::vector<std::string>& problems);

  MetaSources meta_;
  std::string proc_root_;
  uint32_t host_netns_;
  CgroupPaths& paths_;
  InitNetns on_init_netns_;
  // nullptr value: resolved, not a container.
  std::unordered_map<uint64_t, KnownContainer*> by_cgroup_;
  std::unordered_map<std::string, std::unique_ptr<KnownContainer>> by_id_;
  std::vector<KnownContainer*> pending_meta_;  // containers whose files were not there yet
};

}  // namespace sysctlscope
