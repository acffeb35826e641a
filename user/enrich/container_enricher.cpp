// SPDX-License-Identifier: Apache-2.0
#include <time.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/clock.hpp"
#include "core/path.hpp"
#include "enrich/container_paths.hpp"
#include "enrich/enricher.hpp"
#include "enrich/proc.hpp"

namespace sysctlscope {

namespace {

// Metadata files may appear after the cgroup (runc writes state.json once the
// container is created): look again for an event that happened after the
// previous look (at most once per batch of records), up to this many times.
constexpr int kMetaTries = 50;
constexpr uint64_t kAlways = UINT64_MAX;
// Evict removed cgroups every this many events (and on every cgroup record).
constexpr uint64_t kEvictEvery = 1024;
// At most one scan of the runtimes' state per this interval (an unknown netns
// seen by a host process triggers one).
constexpr uint64_t kScanEveryNs = 100'000'000;
}  // namespace

ContainerEnricher::ContainerEnricher(EnricherConfig cfg)
    : cfg_(std::move(cfg)), paths_(cfg_.cgroup_root, cfg_.grace_ns), host_netns_(cfg_.host_netns) {
  if (!host_netns_) host_netns_ = ns_inode(cfg_.proc_root + "/1/ns/net");
  if (!host_netns_) host_netns_ = ns_inode(cfg_.proc_root + "/self/ns/net");
  if (cfg_.v1_fallback) {
    v1_fallback_ = *cfg_.v1_fallback;
  } else {
    // Any line other than "0::<path>" is a v1 hierarchy (hybrid or v1 host).
    for (const auto& c : proc_cgroups(cfg_.proc_root, "self")) v1_fallback_ |= !c.v2;
  }
}

// A process in the cgroup v2 root may still be in a container's v1 cgroups
// (runtimes on v1 hosts place it in v1 hierarchies only). The kernel gave us
// no v1 id, so read /proc/<pid>/cgroup, once per process, while it lives (or
// its parent's, which a short-lived command usually shares).
ContainerEnricher::Known* ContainerEnricher::v1_actor(const Event& e) {
  for (uint32_t pid : {e.pid, e.ppid}) {
    if (!pid) continue;
    auto it = v1_by_pid_.find(pid);
    if (it == v1_by_pid_.end()) {
      auto cgroups = proc_cgroups(cfg_.proc_root, std::to_string(pid));
      if (cgroups.empty()) continue;  // exited: try the parent
      std::string id;
      for (const auto& c : cgroups) {
        if (c.v2 || c.path.empty() || c.path == "/") continue;
        if (Known* k = resolve_path(c.path)) {
          id = k->info->id;
          break;
        }
      }
      if (v1_by_pid_.size() >= 4096) v1_by_pid_.clear();
      it = v1_by_pid_.emplace(pid, std::move(id)).first;
    }
    if (it->second.empty()) return nullptr;
    auto k = by_id_.find(it->second);
    if (k == by_id_.end()) return nullptr;
    const uint64_t event_ns = e.time_ns ? e.time_ns : kAlways;
    if (!k->second->meta_done && event_ns > k->second->last_try_ns) load_meta(*k->second);
    return k->second.get();
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
    Known* k = nullptr;
    if (auto it = by_cgroup_.find(c.id); it != by_cgroup_.end())
      k = it->second;
    else if (const std::string* p = paths_.find(c.id); p && may_name_known(*p))
      k = resolve(c.id, nullptr, 0);
    if (k && k->live > 0 && --k->live == 0) {
      // The container is gone: its netns dies with it (unless someone else
      // holds it) and the inode may be reused. Later events re-resolve.
      const uint64_t t = c.time_ns ? c.time_ns : epoch_ns();
      std::vector<uint32_t> owned;
      for (const auto& [ns, slot] : netns_)
        if (slot.owner == k) owned.push_back(ns);
      for (uint32_t ns : owned) new_generation(ns, t);
    }
    paths_.forget_later(c.id, now);
  } else if (!c.path.empty()) {
    paths_.learn(c.id, c.path);
    // Resolve now, while the runtime's state files surely exist: a
    // short-lived container may be gone before its first event is handled.
    Known* k = resolve(c.id, nullptr, kAlways);
    if (k && !kernel_ids_.empty()) warn_if_uncovered(*k, c.path);
  }
  evict(now);
}

void ContainerEnricher::evict(uint64_t now) {
  for (uint64_t id : paths_.evict(now)) drop_cgroup(id);
  while (!retiring_.empty() && retiring_.front().first <= now) {
    retire(retiring_.front().second);
    retiring_.pop_front();
  }
}

void ContainerEnricher::retire(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  Known* k = it->second.get();
  if (k->cgroups > 0) return;  // freed with its last cgroup (drop_cgroup)
  for (const auto& [ns, slot] : netns_)
    if (slot.owner == k) return;  // still owns a live generation
  for (auto n = netns_.begin(); n != netns_.end();) {
    if (n->second.before == k) n->second.before = nullptr;
    n = n->second.owner || n->second.before ? std::next(n) : netns_.erase(n);
  }
  std::erase(pending_meta_, k);
  std::erase_if(v1_by_pid_, [&](const auto& p) { return p.second == id; });
  by_id_.erase(it);
}

namespace {
// One container, or two containers of one pod (by uid, else by name and
// namespace): the pod's containers share its netns.
bool same_pod(const ContainerInfo& a, const ContainerInfo& b) {
  if (a.id == b.id) return true;
  if (!a.pod_uid.empty() && !b.pod_uid.empty()) return a.pod_uid == b.pod_uid;
  return !a.pod.empty() && a.pod == b.pod && a.k8s_namespace == b.k8s_namespace;
}
}  // namespace

void ContainerEnricher::drop_cgroup(uint64_t id) {
  auto it = by_cgroup_.find(id);
  if (it == by_cgroup_.end()) return;
  Known* k = it->second;
  by_cgroup_.erase(it);
  if (!k || --k->cgroups > 0) return;  // the container has other cgroups still
  // The container is gone: its netns inode may be reused by a new namespace.
  for (auto n = netns_.begin(); n != netns_.end();) {
    if (n->second.before == k) n->second.before = nullptr;
    if (n->second.owner == k) n->second.owner = nullptr;
    n = n->second.owner || n->second.before ? std::next(n) : netns_.erase(n);
  }
  std::erase(pending_meta_, k);
  by_id_.erase(k->info->id);
}

bool ContainerEnricher::may_name_known(const std::string& path) const {
  if (by_id_.empty()) return false;
  auto m = parse_container_path(path);
  return by_id_.count(m ? m->id : path.substr(path.rfind('/') + 1)) != 0;
}

ContainerEnricher::Known* ContainerEnricher::resolve_path(const std::string& path) {
  auto m = parse_container_path(path);
  if (!m) {
    // Plain runc (`runc run ID`) puts the container in cgroup /<ID> (or any
    // cgroupsPath), containerd's `ctr run` in /<namespace>/<ID>: confirm with
    // a runc state directory (runc creates it before the cgroup) or a
    // containerd task bundle (written before runc runs). The files then tell
    // the runtime (load_meta).
    if (runtime_confirms_cgroup(cfg_.meta, path))
      m = PathMatch{Runtime::Runc, path.substr(path.rfind('/') + 1), "", ""};
  }
  if (!m) return nullptr;
  auto& slot = by_id_[m->id];
  if (!slot) {
    slot = std::make_unique<Known>();
    slot->info = std::make_shared<ContainerInfo>();
    slot->info->id = m->id;
    slot->info->runtime = m->runtime;
    slot->info->pod_uid = m->pod_uid;
    if (!has_state_files(m->runtime)) slot->meta_done = true;  // nothing to read
  }
  return slot.get();
}

void ContainerEnricher::load_meta(Known& k) {
  ContainerInfo& c = *k.info;
  ++k.tries;
  k.last_try_ns = epoch_ns();
  ContainerFiles f = read_container_files(cfg_.meta, c);
  k.sandbox |= f.sandbox;
  warn_problems(k, f.problems);
  // The init's netns, if the pid is still that init (start time as recorded).
  if (same_process(cfg_.proc_root, f.pid, f.init_start)) {
    uint32_t ns = netns_of(cfg_.proc_root, f.pid);
    if (ns && ns != host_netns_) claim_netns(ns, &k);
  }
  if (f.found || k.tries >= kMetaTries) k.meta_done = true;
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
    if (k) {
      ++k->cgroups;
      if (!paths_.removed(cgroup_id)) ++k->live;
    }
  }
  if (k && !k->meta_done && event_ns > k->last_try_ns) load_meta(*k);
  return k;
}

void ContainerEnricher::warn_problems(const Known& k, const std::vector<std::string>& problems) {
  // A malformed or half-written file never stops us: the container is
  // reported with what is known. Said once per container and file, in -v.
  if (problems.empty() || k.tries > 1) return;
  for (const auto& p : problems) spdlog::debug("container {}: {}", k.info->id, p);
}

ContainerEnricher::Known* ContainerEnricher::known_for(const ContainerInfo& info) {
  auto& slot = by_id_[info.id];
  if (!slot) {
    slot = std::make_unique<Known>();
    slot->info = std::make_shared<ContainerInfo>(info);
    slot->meta_done = true;
  }
  return slot.get();
}

size_t ContainerEnricher::scan_runtimes() {
  last_scan_ns_ = mono_ns();
  size_t claimed = 0;
  for (auto& r : scan_running_containers(cfg_.meta, cfg_.proc_root)) {
    if (!r.netns || r.netns == host_netns_) continue;
    auto it = netns_.find(r.netns);
    if (it != netns_.end() && it->second.owner) continue;
    Known* k = known_for(r.info);
    k->sandbox |= r.sandbox;
    auto& slot = netns_[r.netns];
    slot.owner = k;
    ++claimed;
  }
  return claimed;
}

void ContainerEnricher::seed_from_runtimes() {
  size_t n = scan_runtimes();
  spdlog::debug("{} container network namespaces known from the runtimes' state", n);
}

void ContainerEnricher::new_generation(uint32_t netns, uint64_t t) {
  auto& slot = netns_[netns];
  // An owner no cgroup points to is freed by no cgroup removal: retire it
  // after the grace period, like a removed cgroup.
  if (slot.owner && slot.owner->cgroups == 0)
    retiring_.emplace_back(mono_ns() + cfg_.grace_ns, slot.owner->info->id);
  // Late events of the generation that just ended keep its owner, none if
  // it had none (not the owner of an even older one).
  slot.before = slot.owner;
  slot.owner = nullptr;
  slot.since_ns = t;
  slot.scanned = false;
}

void ContainerEnricher::enrich(Event& e) {
  if (++events_ % kEvictEvery == 0) evict(mono_ns());
  const uint64_t event_ns = e.time_ns ? e.time_ns : kAlways;
  Known* actor = nullptr;
  if (e.cgroup_id) {
    const std::string* path = nullptr;
    actor = resolve(e.cgroup_id, &path, event_ns);
    if (path) e.cgroup_path = *path;
  }
  if (!actor && v1_fallback_ && e.cgroup_path == "/") actor = v1_actor(e);
  if (actor) e.container = *actor->info;
  if (!e.netns) return;
  const bool host = e.netns == host_netns_;
  Known* owner = nullptr;
  if (!host) {
    // A namespace was born with this inode: whoever owned an earlier
    // namespace with the same inode does not own this one.
    if (e.is<NetnsCreate>()) new_generation(e.netns, event_ns == kAlways ? epoch_ns() : event_ns);
    auto n = netns_.find(e.netns);
    if (n != netns_.end()) owner = n->second.at(event_ns);
    const bool current = n == netns_.end() || event_ns >= n->second.since_ns;
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
        if (!pending_meta_.empty()) retry_pending_meta(event_ns);
        n = netns_.find(e.netns);
        if (!e.is<NetnsCreate>() &&
            (n == netns_.end() || (!n->second.owner && !n->second.scanned)) &&
            mono_ns() - last_scan_ns_ >= kScanEveryNs) {
          scan_runtimes();
          netns_[e.netns].scanned = true;
          n = netns_.find(e.netns);
        }
        if (n != netns_.end()) owner = n->second.owner;
      }
    }
  }
  if (owner) e.netns_container = *owner->info;
  // Host netns (owner null) or a known owner: the actor is someone else,
  // unless both are containers of one pod (they share the sandbox's netns).
  if (host || owner)
    e.cross_namespace = actor != owner && !(actor && owner && same_pod(*actor->info, *owner->info));
}

void ContainerEnricher::resolve_siblings(const Known* k) {
  std::vector<std::string> parents;
  for (const auto& [id, known] : by_cgroup_)
    if (known == k)
      if (const std::string* p = paths_.find(id);
          p && p->rfind('/') != std::string::npos && p->rfind('/') > 0)
        parents.push_back(p->substr(0, p->rfind('/') + 1));
  std::vector<uint64_t> ids;
  for (const auto& parent : parents)
    for (const auto& [id, path] : paths_.all())
      if (path.size() > parent.size() && path.compare(0, parent.size(), parent) == 0 &&
          path.find('/', parent.size()) == std::string::npos && !by_cgroup_.count(id))
        ids.push_back(id);
  // Loads their metadata: a sandbox among them claims its netns.
  for (uint64_t id : ids) resolve(id, nullptr, kAlways);
}

ContainerEnricher::Known* ContainerEnricher::claim_netns(uint32_t netns, Known* k) {
  // A pod's container claiming an unowned netns: its sandbox (a sibling
  // cgroup) may not have been looked at yet (no event, or it predates the
  // tracer). Rare: once per netns.
  auto has_owner = [&] {
    auto it = netns_.find(netns);
    return it != netns_.end() && it->second.owner;
  };
  if (!k->sandbox && (!k->info->pod_uid.empty() || !k->info->pod.empty()) && !has_owner())
    resolve_siblings(k);
  auto& slot = netns_[netns];
  if (!slot.owner || (k->sandbox && !slot.owner->sandbox)) slot.owner = k;
  return slot.owner;
}

std::optional<ContainerInfo> ContainerEnricher::container_of(uint64_t cgroup_id) {
  Known* k = resolve(cgroup_id, nullptr, kAlways);
  if (!k) return std::nullopt;
  return *k->info;
}

std::optional<ContainerInfo> ContainerEnricher::netns_owner(uint32_t netns) const {
  auto it = netns_.find(netns);
  if (it == netns_.end() || !it->second.owner) return std::nullopt;
  return *it->second.owner->info;
}

std::optional<KernelContainerFilter> ContainerEnricher::kernel_filter_for(
    const std::vector<std::string>& values, size_t max_each, std::string* why) {
  auto fail = [&](std::string m) {
    if (why) *why = std::move(m);
    return std::nullopt;
  };
  // Every container running now, with its cgroups (resolving them all once).
  std::unordered_map<Known*, std::vector<std::string>> running;
  std::vector<uint64_t> ids;
  ids.reserve(paths_.all().size());
  for (const auto& [id, _] : paths_.all()) ids.push_back(id);
  for (uint64_t id : ids)
    if (Known* k = resolve(id, nullptr, kAlways))
      if (const std::string* p = paths_.find(id)) running[k].push_back(*p);

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
      if (state_roots.empty()) state_roots = runc_state_roots(cfg_.meta);
      RuncState st;
      uint32_t ns = 0;
      if (read_runc_state(state_roots, c.id, st) &&
          same_process(cfg_.proc_root, st.pid, st.init_start))
        ns = netns_of(cfg_.proc_root, st.pid);
      if (!ns) return fail("the network namespace of " + c.id + " is unknown");
      if (ns != host_netns_ && std::find(f.netns.begin(), f.netns.end(), ns) == f.netns.end())
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
    for (const auto& [id, q] : paths_.all())
      if (q == p) f.cgroups.emplace_back(id, static_cast<uint32_t>(path_level(p)));
  if (f.cgroups.size() > max_each || f.netns.size() > max_each)
    return fail("more than " + std::to_string(max_each) + " cgroups or network namespaces");
  kernel_ids_ = f.ids;
  kernel_paths_ = kept;
  return f;
}

void ContainerEnricher::warn_if_uncovered(const Known& k, const std::string& path) {
  if (std::find(kernel_ids_.begin(), kernel_ids_.end(), k.info->id) == kernel_ids_.end()) return;
  for (const auto& p : kernel_paths_)
    if (path_under(path, p)) return;
  // A restart (same id, new cgroup and netns): the filter was fixed at load.
  spdlog::warn(
      "container {} has a new cgroup {} (restarted?): the in-kernel --container filter set at "
      "start "
      "does not cover it; restart trace to follow it",
      k.info->id, path);
}

}  // namespace sysctlscope
