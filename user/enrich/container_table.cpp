// SPDX-License-Identifier: Apache-2.0
#include "enrich/container_table.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/clock.hpp"
#include "enrich/container_paths.hpp"
#include "enrich/enricher.hpp"
#include "enrich/proc.hpp"

namespace sysctlscope {

namespace {
// Metadata files may appear after the cgroup (runc writes state.json once the
// container is created): look again for an event that happened after the
// previous look (at most once per batch of records), up to this many times.
constexpr int kMetaTries = 50;
}  // namespace

ContainerTable::ContainerTable(MetaSources meta, std::string proc_root, uint32_t host_netns,
                               CgroupPaths& paths, InitNetns on_init_netns)
    : meta_(std::move(meta)),
      proc_root_(std::move(proc_root)),
      host_netns_(host_netns),
      paths_(paths),
      on_init_netns_(std::move(on_init_netns)) {}

bool ContainerTable::may_name_known(const std::string& path) const {
  if (by_id_.empty()) return false;
  auto m = parse_container_path(path);
  return by_id_.count(m ? m->id : path.substr(path.rfind('/') + 1)) != 0;
}

KnownContainer* ContainerTable::resolve_path(const std::string& path) {
  auto m = parse_container_path(path);
  if (!m) {
    // Plain runc (`runc run ID`) puts the container in cgroup /<ID> (or any
    // cgroupsPath), containerd's `ctr run` in /<namespace>/<ID>: confirm with
    // a runc state directory (runc creates it before the cgroup) or a
    // containerd task bundle (written before runc runs). The files then tell
    // the runtime (load_meta).
    if (runtime_confirms_cgroup(meta_, path))
      m = PathMatch{Runtime::Runc, path.substr(path.rfind('/') + 1), "", ""};
  }
  if (!m) return nullptr;
  auto& slot = by_id_[m->id];
  if (!slot) {
    slot = std::make_unique<KnownContainer>();
    slot->info = std::make_shared<ContainerInfo>();
    slot->info->id = m->id;
    slot->info->runtime = m->runtime;
    slot->info->pod_uid = m->pod_uid;
    if (!has_state_files(m->runtime)) slot->meta_done = true;  // nothing to read
  }
  return slot.get();
}

void ContainerTable::load_meta(KnownContainer& k) {
  ContainerInfo& c = *k.info;
  ++k.tries;
  k.last_try_ns = epoch_ns();
  ContainerFiles f = read_container_files(meta_, c);
  k.sandbox |= f.sandbox;
  warn_problems(k, f.problems);
  // The init's netns, if the pid is still that init (start time as recorded).
  if (same_process(proc_root_, f.pid, f.init_start)) {
    uint32_t ns = netns_of(proc_root_, f.pid);
    if (ns && ns != host_netns_) on_init_netns_(k, ns);
  }
  if (f.found || k.tries >= kMetaTries) k.meta_done = true;
  auto it = std::find(pending_meta_.begin(), pending_meta_.end(), &k);
  if (k.meta_done && it != pending_meta_.end()) pending_meta_.erase(it);
  if (!k.meta_done && it == pending_meta_.end()) pending_meta_.push_back(&k);
}

void ContainerTable::refresh(KnownContainer& k, uint64_t event_ns) {
  if (!k.meta_done && event_ns > k.last_try_ns) load_meta(k);
}

void ContainerTable::retry_pending(uint64_t event_ns) {
  auto pending = pending_meta_;  // load_meta edits the list
  for (KnownContainer* k : pending)
    if (event_ns > k->last_try_ns) load_meta(*k);
}

KnownContainer* ContainerTable::resolve(uint64_t cgroup_id, const std::string** path_out,
                                        uint64_t event_ns) {
  KnownContainer* k = nullptr;
  auto it = by_cgroup_.find(cgroup_id);
  if (it != by_cgroup_.end()) {
    k = it->second;
    if (path_out) *path_out = paths_.find(cgroup_id);
  } else {
    const std::string& path = paths_.path_of(cgroup_id);
    if (path_out) *path_out = &path;
    if (path.empty()) return nullptr;  // unknown: not cached, a later record may teach it
    k = resolve_path(path);
    by_cgroup_.emplace(cgroup_id, k);
    if (k) {
      ++k->cgroups;
      if (!paths_.removed(cgroup_id)) ++k->live;
    }
  }
  if (k) refresh(*k, event_ns);
  return k;
}

void ContainerTable::warn_problems(const KnownContainer& k,
                                   const std::vector<std::string>& problems) {
  // A malformed or half-written file never stops us: the container is
  // reported with what is known. Said once per container and file, in -v.
  if (problems.empty() || k.tries > 1) return;
  for (const auto& p : problems) spdlog::debug("container {}: {}", k.info->id, p);
}

KnownContainer* ContainerTable::known_for(const ContainerInfo& info) {
  auto& slot = by_id_[info.id];
  if (!slot) {
    slot = std::make_unique<KnownContainer>();
    slot->info = std::make_shared<ContainerInfo>(info);
    slot->meta_done = true;
  }
  return slot.get();
}

KnownContainer* ContainerTable::find(const std::string& id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

std::vector<uint64_t> ContainerTable::cgroups_of(const KnownContainer* k) const {
  std::vector<uint64_t> out;
  for (const auto& [id, known] : by_cgroup_)
    if (known == k) out.push_back(id);
  return out;
}

KnownContainer* ContainerTable::drop_cgroup(uint64_t id) {
  auto it = by_cgroup_.find(id);
  if (it == by_cgroup_.end()) return nullptr;
  KnownContainer* k = it->second;
  by_cgroup_.erase(it);
  if (!k || --k->cgroups > 0) return nullptr;  // the container has other cgroups still
  return k;
}

void ContainerTable::erase(KnownContainer* k) {
  std::erase(pending_meta_, k);
  by_id_.erase(k->info->id);
}

}  // namespace sysctlscope
