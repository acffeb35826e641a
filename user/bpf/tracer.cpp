// SPDX-License-Identifier: Apache-2.0
#include "bpf/tracer.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/types.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <malloc.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <cstdarg>
#include <cstring>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "model/programs.hpp"
#include "sysctlscope.skel.h"
#include "sysctlscope/event.h"

namespace sysctlscope {

void SkelDeleter::operator()(sysctlscope_bpf* s) const { sysctlscope_bpf__destroy(s); }
void LinkDeleter::operator()(bpf_link* l) const { bpf_link__destroy(l); }
void RingBufferDeleter::operator()(ring_buffer* r) const { ring_buffer__free(r); }

namespace {
// known_netns as a hash (no task storage): threads tracked at once.
constexpr uint32_t kKnownNetnsHashEntries = 65536;

int libbpf_print(enum libbpf_print_level, const char* fmt, va_list ap) {
  if (!spdlog::should_log(spdlog::level::debug)) return 0;
  // Verifier logs arrive as one message of many KB: size the buffer to it.
  va_list again;
  va_copy(again, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  std::string buf(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(buf.data(), buf.size() + 1, fmt, again);
  va_end(again);
  std::string_view s(buf);
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  spdlog::debug("{}", s);  // libbpf prefixes its own messages
  return n;
}

std::string need_name(KernelNeed n) {
  switch (n) {
    case KernelNeed::None: return "nothing";
    case KernelNeed::Fentry: return "fexit";
    case KernelNeed::TpBtf: return "tp_btf";
    case KernelNeed::Atomics: return "BPF compare-and-swap";
    case KernelNeed::TaskStorage: return "task storage";
  }
  return "?";
}

bool is_cgroup_sysctl(bpf_program* p) {
  return bpf_program__type(p) == BPF_PROG_TYPE_CGROUP_SYSCTL;
}
}  // namespace

std::vector<Tracer::ProgRunStats> Tracer::prog_stats() const {
  std::vector<ProgRunStats> out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // not loaded on this kernel
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    out.push_back({bpf_program__name(prog), info.run_cnt, info.run_time_ns});
  }
  return out;
}

void route_libbpf_logs() { libbpf_set_print(libbpf_print); }

KernelCaps kernel_caps(const FeatureProbe& probe) {
  KernelCaps c;
  auto lack = [&](const char* what) { c.lacks.emplace_back(what); };
  bool task_btf = probe.has(Cap::TaskBtf);
  c.tp_task_src = task_btf ? SS_TASK_BTF : SS_TASK_PROBE;
  // The BTF task helpers below take bpf_get_current_task_btf()'s pointer.
  c.task_pt_regs = task_btf && probe.has(Cap::TaskPtRegs);
  c.task_storage = task_btf && probe.has(Cap::TaskStorage);
  c.atomics = probe.has(Cap::Atomics);
  c.fentry = probe.has(Cap::Fentry);
  c.sysctl_pid_helpers = probe.has(Cap::SysctlPidHelpers);
  c.sysctl_ancestor_helper = probe.has(Cap::SysctlAncestor);
  c.tp_ancestor_helper = probe.has(Cap::TpAncestor);
  if (task_btf && probe.has(Cap::SysctlTaskBtf))
    c.sysctl_task_src = SS_TASK_BTF;
  else if (probe.has(Cap::SysctlTask))
    c.sysctl_task_src = SS_TASK_PROBE;
  else
    c.sysctl_task_src = SS_TASK_NONE;

  if (!c.fentry)
    lack(
        "fexit (refused opens and unshare/setns seen by syscall tracepoints, which put every "
        "syscall on the host on the slow path)");
  if (!task_btf) lack("bpf_get_current_task_btf (task fields by probe reads: slower)");
  if (!c.task_pt_regs) lack("bpf_task_pt_regs (syscall arguments read from the kernel stack)");
  if (!c.task_storage)
    lack(
        "task storage (known netns per thread in a hash of 64Ki threads; beyond that the "
        "netns a thread left is unknown)");
  if (!c.atomics)
    lack(
        "BPF compare-and-swap (sysctl records reserved at full size: the ring buffer holds ~10x "
        "fewer)");
  if (c.sysctl_task_src == SS_TASK_NONE) {
    if (c.sysctl_pid_helpers)
      lack("task access in cgroup/sysctl (sysctl events carry no ppid, netns or mntns)");
    else
      lack(
          "task access and pid helpers in cgroup/sysctl (sysctl events carry only cgroup and "
          "uid: no pid, comm, netns; --pid and --container filter them in userspace only)");
  }
  return c;
}

ProgramPlan plan_programs(const FeatureProbe& probe, uint32_t type_mask,
                          std::span<const ProgramUse> groups) {
  ProgramPlan plan;
  plan.caps = kernel_caps(probe);
  auto want = [&](uint32_t t) { return (type_mask & SS_TYPE_BIT(t)) != 0; };
  auto has = [&](KernelNeed n) {
    switch (n) {
      case KernelNeed::None: return true;
      case KernelNeed::Fentry: return plan.caps.fentry;
      case KernelNeed::TpBtf: return probe.tp_btf();
      case KernelNeed::Atomics: return plan.caps.atomics;
      case KernelNeed::TaskStorage: return plan.caps.task_storage;
    }
    return false;
  };
  // "<category>:<name>"; syscalls go through syscall_tracepoint(), which
  // SYSCTLSCOPE_PRETEND_MISSING's "syscalls:" entries mask.
  auto tracepoint = [&](std::string_view tp) {
    auto colon = tp.find(':');
    std::string cat(tp.substr(0, colon)), name(tp.substr(colon + 1));
    return cat == "syscalls" ? probe.syscall_tracepoint(name) : probe.tracepoint(cat, name);
  };
  for (const ProgramUse& use : groups) {
    const ProgramGroup& g = *use.group;
    if (!(type_mask & use.records) || (type_mask & g.with) != g.with || (type_mask & g.unless)) {
      if (!g.off.empty()) plan.skip.emplace_back(g.off);
      continue;
    }
    const ProgramChoice* choice = nullptr;
    for (const ProgramChoice& c : g.choices) {
      bool ok = has(c.needs);
      for (std::string_view tp : c.tracepoints) ok = ok && tracepoint(tp);
      if (ok) {
        choice = &c;
        break;
      }
    }
    if (!choice) {
      if (!g.none.empty()) plan.skip.emplace_back(g.none);
      continue;
    }
    if (!choice->note.empty()) plan.skip.emplace_back(choice->note);
    for (const BpfProgram& p : choice->programs) {
      std::string name(p.name);
      if (!p.tracepoint.empty() && !tracepoint(p.tracepoint)) {
        plan.skip.push_back(name + ": no " + std::string(p.tracepoint) + " tracepoint");
      } else if (!has(p.needs)) {
        plan.skip.push_back(name + ": no " + need_name(p.needs) + " (" + std::string(p.without) +
                            ")");
      } else if (std::find(plan.load.begin(), plan.load.end(), name) == plan.load.end()) {
        plan.load.push_back(std::move(name));
      }
    }
  }
  // What the loaded programs mean for the rest of the tracer.
  auto loads = [&](std::string_view n) {
    return std::find(plan.load.begin(), plan.load.end(), n) != plan.load.end();
  };
  plan.joins_writes = loads("ss_exit_write");
  plan.snapshots_netns = want(SS_EV_NETNS_CREATE);
  plan.seeds_known_netns = want(SS_EV_NETNS_CREATE) || want(SS_EV_NETNS_ENTER);
  plan.writer_exits = loads("ss_writer_exit");
  return plan;
}

ProgramPlan plan_programs(const FeatureProbe& probe, uint32_t type_mask) {
  return plan_programs(probe, type_mask, registered_programs());
}

Tracer::Tracer(const TracerConfig& cfg, const FeatureProbe& probe) : cfg_(cfg) {
  plan_ = plan_programs(probe, cfg.type_mask);
  if (!plan_.caps.lacks.empty()) {
    // One line, every time: a degraded field or event is never a silent gap.
    struct utsname u {};
    ::uname(&u);
    std::string all;
    for (const auto& l : plan_.caps.lacks) all += (all.empty() ? "" : "; ") + l;
    spdlog::warn("kernel {} lacks {}", u.release, all);
  }
  // --btf: CO-RE relocates against that file instead of the kernel's BTF.
  LIBBPF_OPTS(bpf_object_open_opts, open_opts,
              .btf_custom_path = cfg.btf_file.empty() ? nullptr : cfg.btf_file.c_str());
  skel_.reset(sysctlscope_bpf__open_opts(&open_opts));
  if (!skel_) throw Error("open BPF skeleton", "sysctlscope_bpf", errno);

  skel_->rodata->type_mask = cfg.type_mask;
  skel_->rodata->targ_tgid = cfg.pid;
  skel_->rodata->targ_cgroup_id = cfg.cgroup_id;
  skel_->rodata->targ_cgroup_level = cfg.cgroup_level;
  constexpr size_t kMaxCt =
      sizeof(skel_->rodata->targ_ct_cgroup) / sizeof(skel_->rodata->targ_ct_cgroup[0]);
  static_assert(TracerConfig::kMaxKernelContainers == kMaxCt);
  if (cfg.container_cgroups.size() > kMaxCt || cfg.container_netns.size() > kMaxCt)
    throw Error("set container filter", "targ_ct_*", E2BIG, "at most 8 cgroups and 8 netns");
  for (size_t i = 0; i < cfg.container_cgroups.size(); ++i) {
    skel_->rodata->targ_ct_cgroup[i] = cfg.container_cgroups[i].first;
    skel_->rodata->targ_ct_level[i] = cfg.container_cgroups[i].second;
  }
  skel_->rodata->targ_ct_ncgroups = static_cast<uint32_t>(cfg.container_cgroups.size());
  for (size_t i = 0; i < cfg.container_netns.size(); ++i)
    skel_->rodata->targ_ct_netns[i] = cfg.container_netns[i];
  skel_->rodata->targ_ct_nnetns = static_cast<uint32_t>(cfg.container_netns.size());
  skel_->rodata->wakeup_bytes = cfg.wakeup_bytes;
  skel_->rodata->self_tgid = static_cast<uint32_t>(getpid());
  struct stat own_net {};
  if (::stat("/proc/self/ns/net", &own_net) == 0)
    skel_->rodata->self_netns = static_cast<uint32_t>(own_net.st_ino);
  const KernelCaps& caps = plan_.caps;
  skel_->rodata->tp_task_src = caps.tp_task_src;
  skel_->rodata->sysctl_task_src = caps.sysctl_task_src;
  skel_->rodata->sysctl_pid_helpers = caps.sysctl_pid_helpers;
  skel_->rodata->sysctl_ancestor_helper = caps.sysctl_ancestor_helper;
  skel_->rodata->tp_ancestor_helper = caps.tp_ancestor_helper;
  skel_->rodata->have_task_pt_regs = caps.task_pt_regs;
  skel_->rodata->have_task_storage = caps.task_storage;
  if (!caps.task_storage) {
    // Same key and value sizes: a tid-keyed hash (bpf/netns.bpf.c).
    if (int err = bpf_map__set_type(skel_->maps.known_netns, BPF_MAP_TYPE_HASH))
      throw Error("make known_netns a hash", "known_netns", -err);
    if (int err = bpf_map__set_max_entries(skel_->maps.known_netns, kKnownNetnsHashEntries))
      throw Error("size known_netns", "known_netns", -err);
  }
  if (int err = bpf_map__set_max_entries(skel_->maps.events, cfg.ringbuf_bytes))
    throw Error("size ring buffer", "events", -err);
  skel_->rodata->enforce_mode = cfg.enforce_mode;
  if (cfg.enforce_mode != SS_ENFORCE_OFF) {
    const size_t n = cfg.enforce.size() + TracerConfig::kEnforceHeadroom;
    if (int err = bpf_map__set_max_entries(skel_->maps.enforce_rules, static_cast<uint32_t>(n)))
      throw Error("size enforce map", "enforce_rules", -err);
  }

  // A name in the plan that the object lacks is a bug, not a program to skip.
  for (const auto& n : plan_.load)
    if (!bpf_object__find_program_by_name(skel_->obj, n.c_str()))
      throw Error("find BPF program", n, ENOENT, "the load plan names a program the object lacks");
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    std::string name = bpf_program__name(prog);
    bool on = false;
    for (auto& n : plan_.load) on |= (n == name);
    bpf_program__set_autoload(prog, on);
  }
  if (int err = sysctlscope_bpf__load(skel_.get()))
    throw Error("load BPF programs", "sysctlscope_bpf", -err, "run with -v for the verifier log");
  // CO-RE relocation parsed the kernel's BTF (~5.5 MiB) and freed it, and
  // the probe's own copy is no longer needed: give that heap back so a
  // long-running tracer stays small.
  probe.release();
  malloc_trim(0);

  rb_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.events), &Tracer::on_record, this, nullptr));
  if (!rb_) throw Error("create ring buffer consumer", "events", errno);
  // Filled before attach: no write slips through between attach and fill.
  for (const auto& e : cfg.enforce)
    if (!add_enforced(e))
      spdlog::warn("--enforce: cannot enforce {} (value too long or map full)", e.name);
}

bool Tracer::add_enforced(const TracerConfig::Enforced& e) {
  if (cfg_.enforce_mode == SS_ENFORCE_OFF) return false;
  ss_enforce_key k{};
  ss_enforce_val v{};
  if (e.name.size() >= sizeof(k.name) || e.value.size() > sizeof(v.value)) return false;
  k.netns = e.netns;
  std::memcpy(k.name, e.name.data(), e.name.size());
  v.len = static_cast<uint32_t>(e.value.size());
  std::memcpy(v.value, e.value.data(), e.value.size());
  return bpf_map_update_elem(bpf_map__fd(skel_->maps.enforce_rules), &k, &v, BPF_ANY) == 0;
}

size_t Tracer::forget_enforced(uint32_t netns) {
  if (cfg_.enforce_mode == SS_ENFORCE_OFF || netns == 0) return 0;
  const int fd = bpf_map__fd(skel_->maps.enforce_rules);
  // Collect first: deleting while walking with get_next_key can restart the
  // walk at the first key.
  std::vector<ss_enforce_key> gone;
  ss_enforce_key k{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (next.netns == netns) gone.push_back(next);
    k = next;
    prev = &k;
  }
  for (const auto& g : gone) bpf_map_delete_elem(fd, &g);
  return gone.size();
}

Tracer::~Tracer() = default;

void Tracer::attach() {
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link* link = nullptr;
    if (is_cgroup_sysctl(prog)) {
      if (!cgroup_fd_.valid()) {
        cgroup_fd_.reset(::open(cfg_.cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!cgroup_fd_.valid()) throw Error("open cgroup", cfg_.cgroup_root, errno);
      }
      link = bpf_program__attach_cgroup(prog, cgroup_fd_.get());
    } else {
      link = bpf_program__attach(prog);
    }
    if (!link)
      throw Error("attach BPF program", bpf_program__name(prog), errno,
                  is_cgroup_sysctl(prog) ? "cgroup " + cfg_.cgroup_root : std::string());
    links_.emplace_back(link);
    spdlog::debug("attached {}", bpf_program__name(prog));
  }
  if (plan_.seeds_known_netns) seed_known_netns();
}

// Tasks that predate the tracer never pass the fork hook: give each its
// current netns so its first unshare()/setns() knows the namespace it left.
// After attach, with BPF_NOEXIST: whatever the programs stored since is newer
// and wins. A thread that exits meanwhile is simply skipped.
void Tracer::seed_known_netns() {
  int map_fd = bpf_map__fd(skel_->maps.known_netns);
  size_t seeded = 0, failed = 0;
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::error_code ec2;
    for (const auto& task : std::filesystem::directory_iterator(proc.path() / "task", ec2)) {
      struct stat st {};
      if (::stat((task.path() / "ns/net").c_str(), &st) != 0)
        continue;  // exited, or a kernel thread
      const int tid = std::atoi(task.path().filename().c_str());
      const uint32_t inode = static_cast<uint32_t>(st.st_ino);
      int err;
      if (!plan_.caps.task_storage) {
        err = bpf_map_update_elem(map_fd, &tid, &inode, BPF_NOEXIST);  // tid-keyed hash
      } else {
        // PIDFD_THREAD (Linux 6.9+) names a thread; older kernels only take
        // thread-group leaders, so their other threads stay unseeded.
        Fd pidfd(static_cast<int>(
            ::syscall(SYS_pidfd_open, tid, tid == std::atoi(pid.c_str()) ? 0 : O_EXCL)));
        if (!pidfd.valid()) {
          ++failed;
          continue;
        }
        const int key = pidfd.get();
        err = bpf_map_update_elem(map_fd, &key, &inode, BPF_NOEXIST);
      }
      if (err == 0)
        ++seeded;
      else if (errno != EEXIST)
        ++failed;
    }
  }
  spdlog::debug("known_netns: seeded {} threads from /proc ({} not seeded)", seeded, failed);
}

// libbpf stops consuming when the callback returns < 0, with the consumer
// position already past this record (ringbuf_process_ring): the batch limit
// ends a poll that way and loses nothing.
constexpr int kBatchFull = -ECANCELED;

int Tracer::on_record(void* ctx, void* data, size_t len) {
  auto* self = static_cast<Tracer*>(ctx);
  if (self->cb_) self->cb_(data, len);
  ++self->batch_;
  return self->batch_limit_ && self->batch_ >= self->batch_limit_ ? kBatchFull : 0;
}

int Tracer::poll(int timeout_ms) {
  batch_ = 0;
  batch_limit_ = timeout_ms > 0 ? kPollBatch : 0;
  int n = ring_buffer__poll(rb_.get(), timeout_ms);
  if (n < 0 && n != -EINTR && n != kBatchFull) throw Error("poll ring buffer", "events", -n);
  if (n != kBatchFull) {
    int m = ring_buffer__consume(rb_.get());
    if (m < 0 && m != -EINTR && m != kBatchFull)
      throw Error("consume ring buffer", "events", -m);
  }
  trim_heap();
  return batch_;
}

// A burst of events (a busy host's churn, a backlog drained 4096 records at
// a time) leaves freed heap in the middle of the arena, which glibc keeps
// resident: the soak saw RSS climb in steps of 3-4 MiB with every burst of
// other jobs' activity and never come back. malloc_trim(0) returns free pages
// anywhere in the heap (madvise); at most once per 10 s, after records came,
// it costs nothing measurable.
void Tracer::trim_heap() {
  constexpr uint64_t kTrimEveryNs = 10'000'000'000ull;
  since_trim_ += static_cast<uint64_t>(batch_);
  if (since_trim_ == 0) return;
  const uint64_t now = mono_ns();
  if (now - last_trim_ns_ < kTrimEveryNs) return;
  last_trim_ns_ = now;
  since_trim_ = 0;
  malloc_trim(0);
}

uint64_t Tracer::lost_total() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.lost_counts), &key, vals.data()) != 0)
    throw Error("read lost-record counters", "lost_counts", errno);
  uint64_t sum = 0;
  for (auto v : vals) sum += v;
  return sum;
}

}  // namespace sysctlscope
