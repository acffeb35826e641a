// SPDX-License-Identifier: Apache-2.0
#include "bpf/env.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <spdlog/spdlog.h>
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
  const std::string dir = "/run/sysctlscope/cgroup2";
  std::filesystem::create_directories(dir);
  if (::mount("none", dir.c_str(), "cgroup2", 0, nullptr) != 0)
    throw EnvironmentError("mount cgroup2 at", dir, errno,
                           "the kernel needs cgroup v2 (CONFIG_CGROUPS)");
  spdlog::info("no cgroup2 mounted: mounted a private one at {}", dir);
  return dir;
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

class KernelProbe final : public FeatureProbe {
 public:
  bool btf() const override { return ::access("/sys/kernel/btf/vmlinux", R_OK) == 0; }
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
    if (!btf()) return false;
    struct btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux) return false;
    bool ok = btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF) > 0;
    btf__free(vmlinux);
    return ok;
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
    bool ok =
        item == "tp_btf" || (colon != std::string::npos && colon > 0 && colon + 1 < item.size() &&
                             item.find(':', colon + 1) == std::string::npos);
    if (!ok)
      throw UsageError("SYSCTLSCOPE_PRETEND_MISSING: unknown feature '" + item +
                       "' (expected tp_btf, syscalls:<tracepoint> or <category>:<tracepoint>)");
    missing.insert(item);
  }
  if (missing.empty()) return inner;
  for (const auto& m : missing)
    spdlog::warn("SYSCTLSCOPE_PRETEND_MISSING: treating {} as missing", m);
  return std::make_unique<MaskedProbe>(std::move(inner), std::move(missing));
}

std::unique_ptr<FeatureProbe> make_kernel_probe() {
  const char* spec = std::getenv("SYSCTLSCOPE_PRETEND_MISSING");
  std::unique_ptr<FeatureProbe> p = std::make_unique<KernelProbe>();
  return spec ? make_masked_probe(std::move(p), spec) : std::move(p);
}

void require_core_features(const FeatureProbe& p) {
  if (!p.btf())
    throw EnvironmentError("kernel without BTF", "/sys/kernel/btf/vmlinux", ENOENT,
                           "sysctlscope needs CONFIG_DEBUG_INFO_BTF=y for CO-RE");
  if (!p.cgroup_sysctl())
    throw EnvironmentError("kernel without cgroup/sysctl BPF programs", "", 0,
                           "needs Linux >= 5.2 with CONFIG_CGROUP_BPF=y");
  if (!p.ringbuf())
    throw EnvironmentError("kernel without BPF ring buffers", "", 0, "needs Linux >= 5.8");
}

}  // namespace sysctlscope
