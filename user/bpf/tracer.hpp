// SPDX-License-Identifier: Apache-2.0
// Owns the BPF side: opens the embedded skeleton, sets the filter knobs,
// chooses programs, loads, attaches, and drains the ring buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpf/env.hpp"
#include "core/fd.hpp"
#include "model/programs.hpp"

struct sysctlscope_bpf;
struct bpf_link;
struct ring_buffer;
struct bpf_program;

namespace sysctlscope {

struct TracerConfig {
  uint32_t type_mask = ~0u;  // SS_TYPE_BIT(...) of kernel record types
  uint32_t pid = 0;          // tgid filter
  uint64_t cgroup_id = 0;    // cgroup v2 subtree filter
  uint32_t cgroup_level = 0;
  // --container in the kernel (see trace_allowed()): tasks in these cgroup v2
  // subtrees (id, level) or in these netns. At most kMaxKernelContainers each.
  static constexpr size_t kMaxKernelContainers = 8;
  std::vector<std::pair<uint64_t, uint32_t>> container_cgroups;
  std::vector<uint32_t> container_netns;
  uint32_t ringbuf_bytes = 8u << 20;  // power of two, >= page size
  uint64_t wakeup_bytes = 256u << 10;
  std::string btf_file;     // --btf ("": the running kernel's BTF)
  std::string cgroup_root;  // where the cgroup/sysctl program is attached
  // --enforce (docs/policy.md): enum ss_enforce_mode, and the expected values.
  struct Enforced {
    uint32_t netns = 0;  // inode; 0 = any namespace
    std::string name;    // slash form, as bpf_sysctl_get_name() gives it
    std::string value;   // blank runs collapsed to one space
  };
  uint32_t enforce_mode = 0;
  std::vector<Enforced> enforce;
  // Room for entries added later (add_enforced()).
  static constexpr size_t kEnforceHeadroom = 1024;
};

struct SkelDeleter {
  void operator()(sysctlscope_bpf* s) const;
};
struct LinkDeleter {
  void operator()(bpf_link* l) const;
};
struct RingBufferDeleter {
  void operator()(ring_buffer* r) const;
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// How the programs reach what they need on this kernel (the rodata knobs of
// bpf/common.bpf.h), and what each missing ability costs, in words.
struct KernelCaps {
  uint32_t tp_task_src = 2;      // enum ss_task_src
  uint32_t sysctl_task_src = 2;  // enum ss_task_src
  bool sysctl_pid_helpers = true;
  bool sysctl_ancestor_helper = true;
  bool tp_ancestor_helper = true;
  bool task_pt_regs = true;
  bool task_storage = true;
  bool atomics = true;
  bool fentry = true;
  std::vector<std::string> lacks;  // "what: cost", one per missing ability
};
KernelCaps kernel_caps(const FeatureProbe& probe);

// Which programs to load: each group the registry declares
// (model/programs.hpp) whose records `type_mask` wants, in the first form
// the probed kernel allows (unit-testable with a fake probe).
struct ProgramPlan {
  std::vector<std::string> load;   // program names
  std::vector<std::string> skip;   // with a reason each, for -v
  bool joins_writes = false;       // write-syscall exits loaded: results known
  bool snapshots_netns = false;    // netns_create records carry birth snapshots
  bool seeds_known_netns = false;  // known_netns seeded from /proc after attach
  bool writer_exits = false;       // net.* writers' netns snapshot at their exit
  KernelCaps caps;
};
ProgramPlan plan_programs(const FeatureProbe& probe, uint32_t type_mask);
// The same over other groups than the registry's (tests).
ProgramPlan plan_programs(const FeatureProbe& probe, uint32_t type_mask,
                          std::span<const ProgramUse> groups);

class Tracer {
 public:
  using Callback = std::function<void(const void* data, size_t len)>;

  Tracer(const TracerConfig& cfg, const FeatureProbe& probe);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  void attach();
  // Waits up to timeout_ms for a wakeup, then drains whatever is pending
  // (records are submitted without per-record wakeups). Returns records seen.
  // With timeout_ms > 0 it returns after at most kPollBatch records, so the
  // caller's periodic work runs while producers keep the ring busy: the
  // pipeline queues every event behind a held write until that work releases
  // it, and a drain without end queued 280k events (90 MiB of heap) in a
  // 5 s max-rate stream. The cap bounds that queue: 1024 queued events are
  // ~1.1 MiB (4096 took RSS to 35 MiB at max rate), and the extra polls
  // cost no measurable consumer CPU. poll(0) drains everything (start-up,
  // exit).
  int poll(int timeout_ms);
  static constexpr int kPollBatch = 1024;
  void set_callback(Callback cb) { cb_ = std::move(cb); }
  // Sum over CPUs of records the kernel could not reserve, since load.
  uint64_t lost_total() const;
  const ProgramPlan& plan() const { return plan_; }
  // run_cnt / run_time_ns of every loaded program (bpf_prog_info; they only
  // move while kernel.bpf_stats_enabled is on). Safe from another thread
  // while the tracer lives: one syscall per program fd.
  struct ProgRunStats {
    std::string name;
    uint64_t run_cnt = 0, run_time_ns = 0;
  };
  std::vector<ProgRunStats> prog_stats() const;
  // More --enforce entries (a namespace born after start); false when the
  // map is full or a value is too long (the entry is then not enforced).
  bool add_enforced(const TracerConfig::Enforced& e);
  // Drops the --enforce entries of one netns inode (not the host-wide ones,
  // netns 0): a namespace that reuses the inode starts with none. Returns
  // how many were dropped.
  size_t forget_enforced(uint32_t netns);

 private:
  static int on_record(void* ctx, void* data, size_t len);

  TracerConfig cfg_;
  ProgramPlan plan_;
  std::unique_ptr<sysctlscope_bpf, SkelDeleter> skel_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> rb_;
  std::vector<LinkPtr> links_;  // destroyed before skel_ (declared after)
  void seed_known_netns();

  Fd cgroup_fd_;
  Callback cb_;
  int batch_ = 0, batch_limit_ = 0;  // records this poll; 0: no limit
  void trim_heap();
  uint64_t since_trim_ = 0, last_trim_ns_ = 0;
};

// Routes libbpf's own messages to spdlog at debug level (visible with -v).
void route_libbpf_logs();

}  // namespace sysctlscope
