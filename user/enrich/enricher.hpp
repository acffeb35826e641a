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

// What the kernel can check for --container (see trace_allowed()).
struct KernelContainerFilter {
  std::vector<std::pair<uint64_t, uint32_t>> cgroups;  // subtree roots: (cgroup id, level)
  std::vector<uint32_t> netns;                         // the containers' netns (not the host's)
  std::vector<std::string> ids;                        // containers covered
};

// cgroup path -> container (runtime, id, pod), netns -> owning container,
// actor vs netns owner (cross_namespace). Everything is cached per cgroup id,
// container id and netns: a cache hit touches no file.
class ContainerEnricher final : public Enricher {
 public:
  explicit ContainerEnricher(EnricherConfig cfg);
  void enrich(Event& e) override;
  void on_cgroup(const CgroupChange& c) override;

  CgroupPaths& paths() { return paths_; }
  uint32_t host_netns() const { return host_netns_; }
  size_t known_containers() const { return by_id_.size(); }  // sysctlscope_containers_known
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
  struct Known {
    std::shared_ptr<ContainerInfo> info;
    bool meta_done = false;  // metadata files read (or none to read)
    bool sandbox = false;    // a pod's sandbox: owns the pod's netns
    int cgroups = 0;         // entries of by_cgroup_ pointing here
    int live = 0;            // of those, cgroups not yet removed
    int tries = 0;
    uint64_t last_try_ns = 0;  // Unix time of the last look at the files
  };
  // The owner of one netns inode, per generation: an inode is reused once its
  // namespace is freed, so a netns_create (or the owner's death) starts a new
  // generation at `since_ns`; events older than that still see `before`.
  struct NetnsSlot {
    Known* owner = nullptr;
    uint64_t since_ns = 0;
    Known* before = nullptr;
    bool scanned = false;  // runtimes' state scanned for this generation's owner
    Known* at(uint64_t t) const { return t >= since_ns ? owner : before; }
  };
  // `event_ns`: when the event happened (files are looked at again only for
  // events newer than the last look).
  Known* resolve(uint64_t cgroup_id, const std::string** path, uint64_t event_ns);
  Known* resolve_path(const std::string& path);
  // `path` names a container already known (by its shape's id, or its last
  // component for plain runc / ctr): no file is looked at.
  bool may_name_known(const std::string& path) const;
  void load_meta(Known& k);
  void drop_cgroup(uint64_t id);
  // Evicts removed cgroups and retires containers that are due.
  void evict(uint64_t now_ns);
  // Frees a container no cgroup points to (known from a runtime scan or the
  // v1 fallback) once no netns names it as its current owner.
  void retire(const std::string& id);
  void retry_pending_meta(uint64_t event_ns);
  void warn_if_uncovered(const Known& k, const std::string& path);
  // Records `k` as the owner of `netns` unless it has one; a pod's sandbox
  // replaces an owner that is not one (the pod's netns is the sandbox's,
  // whichever of its containers was seen first).
  Known* claim_netns(uint32_t netns, Known* k);
  // A new namespace got inode `netns` at `t` (or its owner died then).
  void new_generation(uint32_t netns, uint64_t t);
  // The runtimes' state (runc/containerd/Docker/Podman) -> running containers
  // and their netns. Returns how many netns were claimed.
  size_t scan_runtimes();
  Known* known_for(const ContainerInfo& info);
  void warn_problems(const Known& k, const std::vector<std::string>& problems);
  // Resolves the not-yet-resolved cgroups next to k's (a pod's other
  // containers), once per netns claim: rare, never per event.
  void resolve_siblings(const Known* k);
  Known* v1_actor(const Event& e);

  EnricherConfig cfg_;
  CgroupPaths paths_;
  uint32_t host_netns_ = 0;
  // nullptr value: resolved, not a container.
  std::unordered_map<uint64_t, Known*> by_cgroup_;
  std::unordered_map<std::string, std::unique_ptr<Known>> by_id_;
  std::unordered_map<uint32_t, NetnsSlot> netns_;
  uint64_t last_scan_ns_ = 0;         // monotonic
  std::vector<Known*> pending_meta_;  // containers whose files were not there yet
  // (due ns, id): containers without cgroups whose netns generation ended;
  // kept for the grace period (late events still name them), then retired.
  std::deque<std::pair<uint64_t, std::string>> retiring_;
  // Set by kernel_filter_for: containers filtered in the kernel, and the
  // cgroup paths whose subtrees the kernel lets through.
  std::vector<std::string> kernel_ids_, kernel_paths_;
  bool v1_fallback_ = false;
  // v1 fallback, per process: container id ("" = none). Bounded (cleared when
  // full); a reused pid may see the previous process's answer until then.
  std::unordered_map<uint32_t, std::string> v1_by_pid_;
  uint64_t events_ = 0;
};

}  // namespace sysctlscope
