// SPDX-License-Identifier: Apache-2.0
// Enrichment: fills cgroup path and container identity from what the kernel
// captured (cgroup id, netns inode), so it stays right for exited processes.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enrich/container_meta.hpp"
#include "enrich/container_table.hpp"
#include "enrich/kernel_filter.hpp"
#include "enrich/netns_ownership.hpp"
#include "enrich/v1_cgroups.hpp"
#include "model/decode.hpp"
#include "model/event.hpp"

namespace sysctlscope {

class Enricher {
 public:
  virtual ~Enricher() = default;
  virtual void enrich(Event& e) = 0;
  // A cgroup v2 directory was created or removed (cgroup tracepoints).
  virtual void on_cgroup(const CgroupChange& c) { (void)c; }
};

// cgroup v2 id -> path relative to the cgroup2 root ("/docker/<id>").
// Learnt from cgroup_mkdir records as cgroups are born (race-free for
// short-lived containers) and from one walk at start. An unknown id triggers a
// re-scan (rate limited) in case records were missed. Removed cgroups are
// evicted after a grace period: events still held or in flight must resolve.
class CgroupPaths {
 public:
  static constexpr uint64_t kDefaultGraceNs = 5'000'000'000ull;
  explicit CgroupPaths(std::string root, uint64_t grace_ns = kDefaultGraceNs);
  // "" when unknown even after a re-scan.
  const std::string& path_of(uint64_t id);
  // No re-scan; nullptr when unknown.
  const std::string* find(uint64_t id) const;
  void learn(uint64_t id, std::string path);
  // The cgroup is gone: evict it once `now_ns` + grace has passed.
  void forget_later(uint64_t id, uint64_t now_ns);
  // Evicts what is due; returns the evicted ids.
  std::vector<uint64_t> evict(uint64_t now_ns);
  void rescan();
  // A cgroup_rmdir was seen for it (evicted later).
  bool removed(uint64_t id) const { return doomed_ids_.count(id) != 0; }
  size_t size() const { return paths_.size(); }
  const std::string& root() const { return root_; }
  const std::unordered_map<uint64_t, std::string>& all() const { return paths_; }

 private:
  std::string root_;
  uint64_t grace_ns_;
  std::unordered_map<uint64_t, std::string> paths_;
  std::deque<std::pair<uint64_t, uint64_t>> doomed_;  // (due ns, id), in due order
  std::unordered_set<uint64_t> doomed_ids_;           // the ids in doomed_
  uint64_t last_scan_ns_ = 0;
};

struct EnricherConfig {
  std::string cgroup_root;  // cgroup2 mount; "" = no walk (tests, benchmarks)
  MetaSources meta;
  std::string proc_root = "/proc";
  uint32_t host_netns = 0;  // 0: the netns of /proc/1 (or ours)
  uint64_t grace_ns = CgroupPaths::kDefaultGraceNs;
  // Processes in the cgroup v2 root are looked up in their v1 hierarchies
  // (/proc/<pid>/cgroup): nullopt = when <proc_root>/self/cgroup shows v1
  // hierarchies (hybrid or v1 host).
  std::optional<bool> v1_fallback;
};

// A cgroup path -> container (runtime, id, pod), netns -> owning container,
// actor vs netns owner (cross_namespace). Assembled from its parts: the
// containers met (ContainerTable), the netns owners per generation
// (NetnsOwnership), the v1 fallback (V1Cgroups) and the kernel-side
// --container filter (KernelFilterPlan). Everything is cached per cgroup id,
// container id and netns: a cache hit touches no file.
class ContainerEnricher final : public Enricher {
 public:
  explicit ContainerEnricher(EnricherConfig cfg);
  void enrich(Event& e) override;
  void on_cgroup(const CgroupChange& c) override;

  CgroupPaths& paths() { return paths_; }
  uint32_t host_netns() const { return host_netns_; }
  size_t known_containers() const { return table_.size(); }  // sysctlscope_containers_known
  // The container a cgroup belongs to (resolving it if needed); nullopt for host.
  std::optional<ContainerInfo> container_of(uint64_t cgroup_id);
  // The current owner of `netns` (its latest generation).
  std::optional<ContainerInfo> netns_owner(uint32_t netns) const;
  // Every container running now, from the runtimes' own state files (Docker,
  // containerd, Podman, runc): their netns get owners before any event, so a
  // host process reaching into a container older than the tracer is
  // attributed. Called once at start; unknown netns trigger a rate-limited
  // re-scan later.
  void seed_from_runtimes();
  // The kernel-side form of `--container` values, when it is exact: every
  // value names running containers by full id or by an id prefix of at least
  // 12 characters (a name may be taken by a later container: userspace only),
  // each container's netns is known, and at most `max_each` cgroup subtrees
  // and netns are needed. nullopt (with `why`): filter in userspace only.
  // Afterwards a new cgroup of a covered container (a restart) is reported.
  std::optional<KernelContainerFilter> kernel_filter_for(const std::vector<std::string>& values,
                                                         size_t max_each, std::string* why);

 private:
  // Evicts removed cgroups and retires containers that are due.
  void evict(uint64_t now_ns);
  // Frees a container no cgroup points to (known from a runtime scan or the
  // v1 fallback) once no netns names it as its current owner.
  void retire(const std::string& id);
  // A new namespace got inode `netns` at `t` (or its owner died then).
  void new_generation(uint32_t netns, uint64_t t);
  // Records `k` as the owner of `netns` unless it has one (NetnsOwnership::claim),
  // looking at the pod's other containers first: the pod's netns is its
  // sandbox's, whichever of its containers was seen first.
  KnownContainer* claim_netns(uint32_t netns, KnownContainer* k);
  // Resolves the not-yet-resolved cgroups next to k's (a pod's other
  // containers), once per netns claim: rare, never per event.
  void resolve_siblings(const KnownContainer* k);
  // The runtimes' state (runc/containerd/Docker/Podman) -> running containers
  // and their netns. Returns how many netns were claimed.
  size_t scan_runtimes();
  KnownContainer* v1_actor(const Event& e);

  EnricherConfig cfg_;
  CgroupPaths paths_;
  uint32_t host_netns_ = 0;
  ContainerTable table_;
  NetnsOwnership owners_;
  V1Cgroups v1_;
  KernelFilterPlan kernel_;
  bool v1_fallback_ = false;
  uint64_t last_scan_ns_ = 0;  // monotonic
  // (due ns, id): containers without cgroups whose netns generation ended;
  // kept for the grace period (late events still name them), then retired.
  std::deque<std::pair<uint64_t, std::string>> retiring_;
  uint64_t events_ = 0;
};

}  // namespace sysctlscope
