// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>
#include <time.h>

#include <algorithm>

#include "enrich/container_paths.hpp"
#include "core/clock.hpp"
#include "enrich/enricher.hpp"

namespace sysctlscope {

namespace {


uint32_t ns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

// Metadata files may appear after the cgroup (runc writes state.json once the
// container is created): look again for an event that happened after the
// previous look (at most once per batch of records), up to this many times.
constexpr int kMetaTries = 50;
constexpr uint64_t kAlways = UINT64_MAX;
// Evict removed cgroups every this many events (and on every cgroup record).
constexpr uint64_t kEvictEvery = 1024;
}  // namespace

ContainerEnricher::ContainerEnricher(EnricherConfig cfg)
    : cfg_(std::move(cfg)), paths_(cfg_.cgroup_root, cfg_.grace_ns), host_netns_(cfg_.host_netns) {
  if (!host_netns_) host_netns_ = ns_inode(cfg_.proc_root + "/1/ns/net");
  if (!host_netns_) host_netns_ = ns_inode(cfg_.proc_root + "/self/ns/net");
}

void ContainerEnricher::on_cgroup(const CgroupChange& c) {
  const uint64_t now = mono_ns();
  if (c.removed) {
    paths_.forget_later(c.id, now);
  } else if (!c.path.empty()) {
    paths_.learn(c.id, c.path);
    // Resolve now, while the runtime's state files surely exist: a
    // short-lived container may be gone before its first event is handled.
    resolve(c.id, nullptr, kAlways);
  }
  for (uint64_t id : paths_.evict(now)) drop_cgroup(id);
}

void ContainerEnricher::drop_cgroup(uint64_t id) {
  auto it = by_cgroup_.find(id);
  if (it == by_cgroup_.end()) return;
  Known* k = it->second;
  by_cgroup_.erase(it);
  if (!k || --k->cgroups > 0) return;  // the container has other cgroups still
  // The container is gone: its netns inode may be reused by a new namespace.
  for (auto n = netns_owner_.begin(); n != netns_owner_.end();)
    n = n->second == k ? netns_owner_.erase(n) : std::next(n);
  std::erase(pending_meta_, k);
  by_id_.erase(k->info->id);
}

ContainerEnricher::Known* ContainerEnricher::resolve_path(const std::string& path) {
  auto m = parse_container_path(path);
  if (!m && !cfg_.meta.runc_roots.empty()) {
    // Plain runc (`runc run ID`) puts the container in cgroup /<ID> (or any
    // cgroupsPath): confirm with its state directory, which runc creates
    // before the cgroup.
    std::string name = path.substr(path.rfind('/') + 1);
    if (runc_state_dir_exists(cfg_.meta.runc_roots.front(), name))
      m = PathMatch{"runc", name, "", ""};
  }
  if (!m) return nullptr;
  auto& slot = by_id_[m->id];
  if (!slot) {
    slot = std::make_unique<Known>();
    slot->info = std::make_shared<ContainerInfo>();
    slot->info->id = m->id;
    slot->info->runtime = m->runtime;
    slot->info->pod_uid = m->pod_uid;
    if (m->runtime == "nspawn" || m->runtime == "lxc") slot->meta_done = true;  // nothing to read
  }
  return slot.get();
}

void ContainerEnricher::load_meta(Known& k) {
  ContainerInfo& c = *k.info;
  ++k.tries;
  k.last_try_ns = epoch_ns();
  RuncState st;
  bool found = read_runc_state(cfg_.meta.runc_roots, c.id, st);
  if (found) {
    if (st.bundle.empty() || !apply_annotations_file(st.bundle + "/config.json", c))
      apply_annotations(st.labels, c);  // runc copies annotations into labels
    if (st.pid > 0) {
      uint32_t ns = ns_inode(cfg_.proc_root + "/" + std::to_string(st.pid) + "/ns/net");
      if (ns && ns != host_netns_) netns_owner_.try_emplace(ns, &k);
    }
  }
  if (c.runtime == "docker" && c.name.empty()) {
    c.name = docker_container_name(cfg_.meta.docker_root, c.id);
    found |= !c.name.empty();
  }
  if (found || k.tries >= kMetaTries) k.meta_done = true;
  auto it = std::find(pending_meta_.begin(), pending_meta_.end(), &k);
  if (k.meta_done && it != pending_meta_.end()) pending_meta_.erase(it);
  if (!k.meta_done && it == pending_meta_.end()) pending_meta_.push_back(&k);
}

// A netns nobody owns yet may be a container's whose state file was not
// written when we first looked (its init pid tells its netns): look again.
void ContainerEnricher::retry_pending_meta(uint64_t event_ns) {
  auto pending = pending_meta_;  // load_meta edits the list
  for (Known* k : pending)
    if (event_ns > k->last_try_ns) load_meta(*k);
}

ContainerEnricher::Known* ContainerEnricher::resolve(uint64_t cgroup_id,
                                                     const std::string** path_out,
                                                     uint64_t event_ns) {
  Known* k = nullptr;
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
    if (k) ++k->cgroups;
  }
  if (k && !k->meta_done && event_ns > k->last_try_ns) load_meta(*k);
  return k;
}

void ContainerEnricher::enrich(Event& e) {
  if (++events_ % kEvictEvery == 0)
    for (uint64_t id : paths_.evict(mono_ns())) drop_cgroup(id);
  const uint64_t event_ns = e.time_ns ? e.time_ns : kAlways;
  Known* actor = nullptr;
  if (e.cgroup_id) {
    const std::string* path = nullptr;
    actor = resolve(e.cgroup_id, &path, event_ns);
    if (path) e.cgroup_path = *path;
  }
  if (actor) e.container = *actor->info;
  if (!e.netns) return;
  const bool host = e.netns == host_netns_;
  Known* owner = nullptr;
  if (!host) {
    // A process of a container acting in a netns other than the host's marks
    // that netns as the container's (the first one seen keeps it).
    auto n = netns_owner_.find(e.netns);
    if (n == netns_owner_.end() && actor) {
      n = netns_owner_.emplace(e.netns, actor).first;
    } else if (n == netns_owner_.end() && !pending_meta_.empty()) {
      retry_pending_meta(event_ns);
      n = netns_owner_.find(e.netns);
    }
    if (n != netns_owner_.end()) owner = n->second;
  }
  if (owner) e.netns_container = *owner->info;
  // Host netns (owner null) or a known owner: the actor is someone else.
  if (host || owner)
    e.cross_namespace = actor != owner && !(actor && owner && actor->info->id == owner->info->id);
}

std::optional<ContainerInfo> ContainerEnricher::container_of(uint64_t cgroup_id) {
  Known* k = resolve(cgroup_id, nullptr, kAlways);
  if (!k) return std::nullopt;
  return *k->info;
}

std::optional<ContainerInfo> ContainerEnricher::netns_owner(uint32_t netns) const {
  auto it = netns_owner_.find(netns);
  if (it == netns_owner_.end() || !it->second) return std::nullopt;
  return *it->second->info;
}

std::unique_ptr<Enricher> make_default_enricher(const std::string& cgroup_root) {
  EnricherConfig cfg;
  cfg.cgroup_root = cgroup_root;
  return std::make_unique<ContainerEnricher>(cfg);
}

}  // namespace sysctlscope
