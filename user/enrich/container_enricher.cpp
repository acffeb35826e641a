// SPDX-License-Identifier: Apache-2.0
#include <time.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/clock.hpp"
#include "enrich/enricher.hpp"
#include "enrich/proc.hpp"

namespace sysctlscope {

namespace {

constexpr uint64_t kAlways = ContainerTable::kAlways;
// Evict removed cgroups every this many events (and on every cgroup record).
constexpr uint64_t kEvictEvery = 1024;
// At most one scan of the runtimes' state per this interval (an unknown netns
// seen by a host process triggers one).
constexpr uint64_t kScanEveryNs = 100'000'000;

uint32_t host_netns_of(const EnricherConfig& cfg) {
  uint32_t ns = cfg.host_netns;
  if (!ns) ns = ns_inode(cfg.proc_root + "/1/ns/net");
  if (!ns) ns = ns_inode(cfg.proc_root + "/self/ns/net");
  return ns;
}

// One container, or two containers of one pod (by uid, else by name and
// namespace): the pod's containers share its netns.
bool same_pod(const ContainerInfo& a, const ContainerInfo& b) {
  if (a.id == b.id) return true;
  if (!a.pod_uid.empty() && !b.pod_uid.empty()) return a.pod_uid == b.pod_uid;
  return !a.pod.empty() && a.pod == b.pod && a.k8s_namespace == b.k8s_namespace;
}
}  // namespace

ContainerEnricher::ContainerEnricher(EnricherConfig cfg)
    : cfg_(std::move(cfg)),
      paths_(cfg_.cgroup_root, cfg_.grace_ns),
      host_netns_(host_netns_of(cfg_)),
      table_(cfg_.meta, cfg_.proc_root, host_netns_, paths_,
             [this](KnownContainer& k, uint32_t ns) { claim_netns(ns, &k); }),
      v1_(cfg_.proc_root) {
  if (cfg_.v1_fallback) {
    v1_fallback_ = *cfg_.v1_fallback;
  } else {
    // Any line other than "0::<path>" is a v1 hierarchy (hybrid or v1 host).
    for (const auto& c : proc_cgroups(cfg_.proc_root, "self")) v1_fallback_ |= !c.v2;
  }
}

// The container of a process in the cgroup v2 root, from its v1 cgroups (or
// its parent's, which a short-lived command usually shares).
KnownContainer* ContainerEnricher::v1_actor(const Event& e) {
  auto container_of_path = [&](const std::string& path) {
    KnownContainer* k = table_.resolve_path(path);
    return k ? k->info->id : std::string();
  };
  for (uint32_t pid : {e.pid, e.ppid}) {
    if (!pid) continue;
    auto id = v1_.container_id(pid, container_of_path);
    if (!id) continue;  // exited: try the parent
    if (id->empty()) return nullptr;
    KnownContainer* k = table_.find(*id);
    if (!k) return nullptr;
    table_.refresh(*k, e.time_ns ? e.time_ns : kAlways);
    return k;
  }
  return nullptr;
}

void ContainerEnricher::on_cgroup(const CgroupChange& c) {
  const uint64_t now = mono_ns();
  if (c.removed) {
    // Cheap for a known container (no file read); resolves one seeded at
    // start whose cgroup we never looked at, so that its death is seen.
    // A cgroup never resolved whose path names no known container has no
    // death to report: no state-dir stat() for it.
    KnownContainer* k = nullptr;
    if (table_.resolved(c.id))
      k = table_.resolve(c.id, nullptr, 0);
    else if (const std::string* p = paths_.find(c.id); p && table_.may_name_known(*p))
      k = table_.resolve(c.id, nullptr, 0);
    if (k && k->live > 0 && --k->live == 0) {
      // The container is gone: its netns dies with it (unless someone else
      // holds it) and the inode may be reused. Later events re-resolve.
      const uint64_t t = c.time_ns ? c.time_ns : epoch_ns();
      for (uint32_t ns : owners_.owned_by(k)) new_generation(ns, t);
    }
    paths_.forget_later(c.id, now);
  } else if (!c.path.empty()) {
    paths_.learn(c.id, c.path);
    // Resolve now, while the runtime's state files surely exist: a
    // short-lived container may be gone before its first event is handled.
    KnownContainer* k = table_.resolve(c.id, nullptr, kAlways);
    if (k && kernel_.active()) kernel_.warn_if_uncovered(k->info->id, c.path);
  }
  evict(now);
}

void ContainerEnricher::evict(uint64_t now) {
  for (uint64_t id : paths_.evict(now)) {
    // The container is gone with its last cgroup: its netns inode may be
    // reused by a new namespace.
    if (KnownContainer* k = table_.drop_cgroup(id)) {
      owners_.forget(k, /*current=*/true);
      table_.erase(k);
    }
  }
  while (!retiring_.empty() && retiring_.front().first <= now) {
    retire(retiring_.front().second);
    retiring_.pop_front();
  }
}

void ContainerEnricher::retire(const std::string& id) {
  KnownContainer* k = table_.find(id);
  if (!k) return;
  if (k->cgroups > 0) return;                // freed with its last cgroup (evict)
  if (!owners_.owned_by(k).empty()) return;  // still owns a live generation
  owners_.forget(k, /*current=*/false);
  v1_.forget(id);
  table_.erase(k);
}

void ContainerEnricher::new_generation(uint32_t netns, uint64_t t) {
  // An owner no cgroup points to is freed by no cgroup removal: retire it
  // after the grace period, like a removed cgroup.
  if (KnownContainer* ended = owners_.new_generation(netns, t); ended && ended->cgroups == 0)
    retiring_.emplace_back(mono_ns() + cfg_.grace_ns, ended->info->id);
}

size_t ContainerEnricher::scan_runtimes() {
  last_scan_ns_ = mono_ns();
  size_t claimed = 0;
  for (auto& r : scan_running_containers(cfg_.meta, cfg_.proc_root)) {
    if (!r.netns || r.netns == host_netns_) continue;
    if (owners_.owner(r.netns)) continue;
    KnownContainer* k = table_.known_for(r.info);
    k->sandbox |= r.sandbox;
    owners_.slot(r.netns).owner = k;
    ++claimed;
  }
  return claimed;
}

void ContainerEnricher::seed_from_runtimes() {
  size_t n = scan_runtimes();
  spdlog::debug("{} container network namespaces known from the runtimes' state", n);
}

void ContainerEnricher::enrich(Event& e) {
  if (++events_ % kEvictEvery == 0) evict(mono_ns());
  const uint64_t event_ns = e.time_ns ? e.time_ns : kAlways;
  KnownContainer* actor = nullptr;
  if (e.cgroup_id) {
    const std::string* path = nullptr;
    actor = table_.resolve(e.cgroup_id, &path, event_ns);
    if (path) e.cgroup_path = *path;
  }
  if (!actor && v1_fallback_ && e.cgroup_path == "/") actor = v1_actor(e);
  if (actor) e.container = *actor->info;
  if (!e.netns) return;
  const bool host = e.netns == host_netns_;
  KnownContainer* owner = nullptr;
  if (!host) {
    // A namespace was born with this inode: whoever owned an earlier
    // namespace with the same inode does not own this one.
    if (e.is<NetnsCreate>()) new_generation(e.netns, event_ns == kAlways ? epoch_ns() : event_ns);
    NetnsOwnership::Slot* n = owners_.find(e.netns);
    if (n) owner = n->at(event_ns);
    const bool current = !n || event_ns >= n->since_ns;
    if (!owner && current) {
      // A process of a container acting in a netns other than the host's
      // marks that netns as the container's (the first one seen keeps it).
      if (actor) {
        owner = claim_netns(e.netns, actor);
      } else {
        // A host process in a netns of unknown owner (a reach-in): files that
        // were not there yet, then the runtimes' state (once per generation).
        // Not at the birth itself: no runtime's state can name a netns yet
        // that no container has joined, and the generation's one scan would
        // be spent before the container that comes to own it exists.
        if (table_.has_pending()) table_.retry_pending(event_ns);
        n = owners_.find(e.netns);
        if (!e.is<NetnsCreate>() && (!n || (!n->owner && !n->scanned)) &&
            mono_ns() - last_scan_ns_ >= kScanEveryNs) {
          scan_runtimes();
          owners_.slot(e.netns).scanned = true;
          n = owners_.find(e.netns);
        }
        if (n) owner = n->owner;
      }
    }
  }
  if (owner) e.netns_container = *owner->info;
  // Host netns (owner null) or a known owner: the actor is someone else,
  // unless both are containers of one pod (they share the sandbox's netns).
  if (host || owner)
    e.cross_namespace = actor != owner && !(actor && owner && same_pod(*actor->info, *owner->info));
}

void ContainerEnricher::resolve_siblings(const KnownContainer* k) {
  std::vector<std::string> parents;
  for (uint64_t id : table_.cgroups_of(k))
    if (const std::string* p = paths_.find(id);
        p && p->rfind('/') != std::string::npos && p->rfind('/') > 0)
      parents.push_back(p->substr(0, p->rfind('/') + 1));
  std::vector<uint64_t> ids;
  for (const auto& parent : parents)
    for (const auto& [id, path] : paths_.all())
      if (path.size() > parent.size() && path.compare(0, parent.size(), parent) == 0 &&
          path.find('/', parent.size()) == std::string::npos && !table_.resolved(id))
        ids.push_back(id);
  // Loads their metadata: a sandbox among them claims its netns.
  for (uint64_t id : ids) table_.resolve(id, nullptr, kAlways);
}

KnownContainer* ContainerEnricher::claim_netns(uint32_t netns, KnownContainer* k) {
  // A pod's container claiming an unowned netns: its sandbox (a sibling
  // cgroup) may not have been looked at yet (no event, or it predates the
  // tracer). Rare: once per netns.
  if (!k->sandbox && (!k->info->pod_uid.empty() || !k->info->pod.empty()) && !owners_.owner(netns))
    resolve_siblings(k);
  return owners_.claim(netns, k);
}

std::optional<ContainerInfo> ContainerEnricher::container_of(uint64_t cgroup_id) {
  KnownContainer* k = table_.resolve(cgroup_id, nullptr, kAlways);
  if (!k) return std::nullopt;
  return *k->info;
}

std::optional<ContainerInfo> ContainerEnricher::netns_owner(uint32_t netns) const {
  const KnownContainer* k = owners_.owner(netns);
  if (!k) return std::nullopt;
  return *k->info;
}

std::optional<KernelContainerFilter> ContainerEnricher::kernel_filter_for(
    const std::vector<std::string>& values, size_t max_each, std::string* why) {
  // Every container running now, with its cgroups (resolving them all once).
  KernelFilterPlan::Running running;
  std::vector<uint64_t> ids;
  ids.reserve(paths_.all().size());
  for (const auto& [id, _] : paths_.all()) ids.push_back(id);
  for (uint64_t id : ids)
    if (KnownContainer* k = table_.resolve(id, nullptr, kAlways))
      if (const std::string* p = paths_.find(id)) running[k].push_back(*p);
  return kernel_.plan(running, values, max_each, cfg_.meta, cfg_.proc_root, host_netns_, paths_,
                      why);
}

}  // namespace sysctlscope
