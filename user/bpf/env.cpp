// SPDX-License-Identifier: Apache-2.0
#include "bpf/env.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdlib>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace sysctlscope {

void check_privileges() {
  struct __user_cap_header_struct hdr {};
  struct __user_cap_data_struct data[2]{};
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  // glibc has no capget wrapper and libcap is one more dependency for one call.
  if (syscall(SYS_capget, &hdr, data) != 0) throw EnvironmentError("capget", "self", errno);
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  struct {
    int cap;
    const char* name;
  } const need[] = {
      {CAP_BPF, "CAP_BPF"}, {CAP_PERFMON, "CAP_PERFMON"}, {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}};
  std::string missing;
  for (auto& n : need)
    if (!has(n.cap)) missing += (missing.empty() ? "" : ", ") + std::string(n.name);
  // The kernel lets CAP_SYS_ADMIN stand for CAP_BPF and CAP_PERFMON
  // (bpf_capable(), perfmon_capable()), and container engines before Docker
  // 23 reject the names BPF and PERFMON: SYS_ADMIN alone is enough.
  if (has(CAP_SYS_ADMIN)) missing.clear();
  if (!missing.empty())
    throw EnvironmentError("need " + missing, "", 0,
                           "run as root, e.g. sudo sysctlscope ..., or grant these capabilities");
}

std::string find_cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "36 25 0:30 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw"
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mnt;
    head >> id >> parent >> dev >> root >> mnt;
    if (root != "/") continue;  // a bind mount of a sub-cgroup is not the root
    return mnt;
  }
  return {};
}

std::string find_or_mount_cgroup2() {
  std::string m = find_cgroup2_mount();
  if (!m.empty()) return m;
  std::string dir = "/run/sysctlscope/cgroup2";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    // A container with the host's /run mounted read-only: a private directory.
    char tmpl[] = "/tmp/sysctlscope-cgroup2-XXXXXX";
    if (!::mkdtemp(tmpl)) throw EnvironmentError("create a cgroup2 mount point", dir, ec.value());
    dir = tmpl;
  }
  if (::mount("none", dir.c_str(), "cgroup2", 0, nullptr) != 0)
    throw EnvironmentError("mount cgroup2 at", dir, errno,
                           "the kernel needs cgroup v2 (CONFIG_CGROUPS)");
  spdlog::info("no cgroup2 mounted: mounted a private one at {}", dir);
  return dir;
}

namespace {
ino_t ns_ino(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}
}  // namespace

void adopt_host_namespaces() {
  {
    // "NSpid:\t4321" in the host's PID namespace; "NSpid:\t4321\t7" in a child.
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("NSpid:", 0) == 0 && line.find('\t', 7) != std::string::npos)
        throw EnvironmentError("trace from a child PID namespace", "/proc/self/status", 0,
                               "run the container with --pid=host (Kubernetes: hostPID: true)");
  }
  // The host's namespaces are those of kthreadd (pid 2 in the host's PID
  // namespace): kernel threads live in init_net and the root cgroup
  // namespace, and unlike pid 1 (non-dumpable under some inits) their ns
  // links are readable with CAP_SYS_PTRACE.
  std::string host = "/proc/2";
  {
    std::ifstream comm(host + "/comm");
    std::string c;
    if (!std::getline(comm, c) || c != "kthreadd") host = "/proc/1";
  }
  struct Join {
    const char* ns;
    int type;
    const char* why;
    const char* docker;
  };
  for (const Join& j : {Join{"net", CLONE_NEWNET, "host values", "--network=host"},
                        Join{"cgroup", CLONE_NEWCGROUP, "host cgroup paths", "--cgroupns=host"}}) {
    const std::string target = host + "/ns/" + j.ns;
    const ino_t want = ns_ino(target.c_str());
    if (!want)
      throw EnvironmentError("read the host's namespaces", target, errno,
                             "in a container, add the capability SYS_PTRACE");
    if (ns_ino((std::string("/proc/self/ns/") + j.ns).c_str()) == want) continue;
    Fd fd(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::setns(fd.get(), j.type) != 0)
      throw EnvironmentError(std::string("join the host ") + j.ns + " namespace", target, errno,
                             std::string("run the container with ") + j.docker);
    spdlog::info("not in the host {} namespace: joined it for {}", j.ns, j.why);
  }
}

void ensure_tracefs() {
  struct stat st {};
  if (::stat("/sys/kernel/tracing/events", &st) == 0 ||
      ::stat("/sys/kernel/debug/tracing/events", &st) == 0)
    return;
  if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    throw EnvironmentError("mount tracefs at", "/sys/kernel/tracing", errno,
                           "syscall tracepoints need tracefs (CONFIG_FTRACE)");
  spdlog::info("tracefs was not mounted: mounted it at /sys/kernel/tracing");
}

namespace {

struct CapInfo {
  Cap cap;
  const char* name;
};
constexpr CapInfo kCaps[] = {
    {Cap::TaskBtf, "task_btf"},
    {Cap::TaskPtRegs, "task_pt_regs"},
    {Cap::TaskStorage, "task_storage"},
    {Cap::Atomics, "atomics"},
    {Cap::SysctlTaskBtf, "sysctl_task_btf"},
    {Cap::SysctlTask, "sysctl_task"},
    {Cap::SysctlPidHelpers, "sysctl_pid_helpers"},
    {Cap::SysctlAncestor, "sysctl_ancestor"},
    {Cap::TpAncestor, "tp_ancestor"},
    {Cap::Fentry, "fentry"},
};

#if defined(__x86_64__)
constexpr const char* kSetnsWrapper = "__x64_sys_setns";
#elif defined(__aarch64__)
constexpr const char* kSetnsWrapper = "__arm64_sys_setns";
#else
constexpr const char* kSetnsWrapper = "";
#endif

bool helper_ok(bpf_prog_type type, bpf_func_id id) {
  return libbpf_probe_bpf_helper(type, id, nullptr) == 1;
}

// Loads a socket filter doing one 64-bit compare-and-swap on the stack: the
// instruction exists from 5.12, and no helper probe can tell.
bool atomics_ok() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},             // r0 = 0
      {BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -8, 0},    // *(u64 *)(r10 - 8) = r0
      {BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0},    // r1 = r10
      {BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -8},            // r1 += -8
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 1},             // r2 = 1
      {BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_1, BPF_REG_2, 0, BPF_CMPXCHG},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},             // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  Fd fd(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns,
                      sizeof(insns) / sizeof(insns[0]), nullptr));
  return fd.valid();
}

// Loads and attaches an empty fexit program on `func`: kernels built without
// trampolines (or without ftrace direct calls) load it but refuse to attach.
bool fexit_attaches(const struct btf* vmlinux, const char* func) {
  if (!vmlinux) return false;
  int id = btf__find_by_name_kind(vmlinux, func, BTF_KIND_FUNC);
  if (id <= 0) return false;
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT,
              .attach_btf_id = static_cast<__u32>(id));
  Fd fd(bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", insns, 2, &opts));
  if (!fd.valid()) return false;
  return Fd(bpf_raw_tracepoint_open(nullptr, fd.get())).valid();
}

class KernelProbe final : public FeatureProbe {
 public:
  explicit KernelProbe(std::string btf_file) : btf_file_(std::move(btf_file)) {}
  ~KernelProbe() override { btf__free(vmlinux_); }
  // The kernel's own, or --btf for CO-RE; everything that needs BTF in the
  // kernel itself (tp_btf, fexit, the BTF task helpers) probes the kernel.
  bool btf() const override {
    return !btf_file_.empty() || ::access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  }
  bool cgroup_sysctl() const override {
    return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SYSCTL, nullptr) == 1;
  }
  bool ringbuf() const override {
    return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
  }
  bool tp_btf() const override {
    // tp_btf needs BTF and BPF_PROG_TYPE_TRACING (5.5+). libbpf 1.1's
    // libbpf_probe_bpf_prog_type() answers 0 for TRACING even where it works
    // (it needs an attach target), so look for the btf_trace_<tp> typedefs
    // the kernel emits for BTF-typed tracepoints instead.
    const struct btf* b = vmlinux();
    return b && btf__find_by_name_kind(b, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF) > 0;
  }
  bool has(Cap c) const override {
    switch (c) {
      case Cap::TaskBtf:
        return helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf);
      case Cap::TaskPtRegs:
        return helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs);
      case Cap::TaskStorage:
        return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, nullptr) == 1 &&
               helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get);
      case Cap::Atomics:
        return atomics_ok();
      case Cap::SysctlTaskBtf:
        return helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_get_current_task_btf);
      case Cap::SysctlTask:
        return helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_get_current_task) &&
               helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_probe_read_kernel) &&
               helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_probe_read_kernel_str);
      case Cap::SysctlPidHelpers:
        return helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_get_current_pid_tgid) &&
               helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_get_current_comm);
      case Cap::SysctlAncestor:
        return helper_ok(BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_FUNC_get_current_ancestor_cgroup_id);
      case Cap::TpAncestor:
        return helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_ancestor_cgroup_id);
      case Cap::Fentry:
        // The three functions the fexit programs attach to (bpf/*.bpf.c).
        return fexit_attaches(vmlinux(), "do_filp_open") &&
               btf__find_by_name_kind(vmlinux(), "ksys_unshare", BTF_KIND_FUNC) > 0 &&
               btf__find_by_name_kind(vmlinux(), kSetnsWrapper, BTF_KIND_FUNC) > 0;
    }
    return false;
  }
  bool syscall_tracepoint(const std::string& name) const override {
    for (const char* base :
         {"/sys/kernel/tracing/events/syscalls/", "/sys/kernel/debug/tracing/events/syscalls/"}) {
      if (::access((base + name).c_str(), F_OK) == 0) return true;
    }
    return false;
  }
  bool tracepoint(const std::string& category, const std::string& name) const override {
    for (const char* base : {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"}) {
      if (::access((base + category + "/" + name).c_str(), F_OK) == 0) return true;
    }
    return false;
  }
  void release() const override {
    btf__free(vmlinux_);
    vmlinux_ = nullptr;
    vmlinux_tried_ = false;
  }

 private:
  // The kernel's BTF, parsed once (~5.5 MiB) for every question that needs it.
  const struct btf* vmlinux() const {
    if (!vmlinux_tried_ && ::access("/sys/kernel/btf/vmlinux", R_OK) == 0)
      vmlinux_ = btf__load_vmlinux_btf();
    vmlinux_tried_ = true;
    return vmlinux_;
  }
  std::string btf_file_;
  mutable struct btf* vmlinux_ = nullptr;
  mutable bool vmlinux_tried_ = false;
};

// Reports the features listed in SYSCTLSCOPE_PRETEND_MISSING as absent.
class MaskedProbe final : public FeatureProbe {
 public:
  MaskedProbe(std::unique_ptr<FeatureProbe> inner, std::set<std::string> missing)
      : inner_(std::move(inner)), missing_(std::move(missing)) {}
  bool btf() const override { return inner_->btf(); }
  bool cgroup_sysctl() const override { return inner_->cgroup_sysctl(); }
  bool ringbuf() const override { return inner_->ringbuf(); }
  bool tp_btf() const override { return !missing_.count("tp_btf") && inner_->tp_btf(); }
  bool syscall_tracepoint(const std::string& name) const override {
    return !missing_.count("syscalls:" + name) && inner_->syscall_tracepoint(name);
  }
  bool tracepoint(const std::string& category, const std::string& name) const override {
    return !missing_.count(category + ":" + name) && inner_->tracepoint(category, name);
  }
  bool has(Cap c) const override { return !missing_.count(cap_name(c)) && inner_->has(c); }
  void release() const override { inner_->release(); }

 private:
  std::unique_ptr<FeatureProbe> inner_;
  std::set<std::string> missing_;
};

}  // namespace

std::unique_ptr<FeatureProbe> make_masked_probe(std::unique_ptr<FeatureProbe> inner,
                                                const std::string& spec) {
  std::set<std::string> missing;
  std::stringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    if (item.empty()) continue;
    auto colon = item.find(':');
    bool is_cap = false;
    for (const auto& c : kCaps) is_cap |= item == c.name;
    bool ok =
        item == "tp_btf" || is_cap || (colon != std::string::npos && colon > 0 && colon + 1 < item.size() &&
                             item.find(':', colon + 1) == std::string::npos);
    if (!ok)
      throw UsageError("SYSCTLSCOPE_PRETEND_MISSING: unknown feature '" + item +
                       "' (expected tp_btf, a capability such as task_storage, syscalls:<tracepoint> "
                       "or <category>:<tracepoint>)");
    missing.insert(item);
  }
  if (missing.empty()) return inner;
  for (const auto& m : missing)
    spdlog::warn("SYSCTLSCOPE_PRETEND_MISSING: treating {} as missing", m);
  return std::make_unique<MaskedProbe>(std::move(inner), std::move(missing));
}

const char* cap_name(Cap c) {
  for (const auto& i : kCaps)
    if (i.cap == c) return i.name;
  return "?";
}

std::unique_ptr<FeatureProbe> make_kernel_probe(const std::string& btf_file) {
  const char* spec = std::getenv("SYSCTLSCOPE_PRETEND_MISSING");
  std::unique_ptr<FeatureProbe> p = std::make_unique<KernelProbe>(btf_file);
  return spec ? make_masked_probe(std::move(p), spec) : std::move(p);
}

void require_core_features(const FeatureProbe& p) {
  if (!p.btf())
    throw EnvironmentError("kernel without BTF", "/sys/kernel/btf/vmlinux", ENOENT,
                           "sysctlscope needs CONFIG_DEBUG_INFO_BTF=y for CO-RE, or the "
                           "kernel's BTF in a file: --btf FILE");
  if (!p.cgroup_sysctl())
    throw EnvironmentError("kernel without cgroup/sysctl BPF programs", "", 0,
                           "needs Linux >= 5.10 with CONFIG_CGROUP_BPF=y (docs/kernels.md)");
  if (!p.ringbuf())
    throw EnvironmentError("kernel without BPF ring buffers", "", 0,
                           "needs Linux >= 5.10 (docs/kernels.md)");
}

}  // namespace sysctlscope
