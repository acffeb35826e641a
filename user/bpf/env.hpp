// SPDX-License-Identifier: Apache-2.0
// The host environment the tracer needs: privileges, cgroup2, tracefs, probes.
#pragma once

#include <memory>
#include <string>

namespace sysctlscope {

// Throws EnvironmentError naming the missing capabilities and how to fix it.
void check_privileges();

// The cgroup v2 root to attach to: /sys/fs/cgroup on unified hosts,
// /sys/fs/cgroup/unified on hybrid ones. With none mounted, mounts a private
// one at /run/sysctlscope/cgroup2 (and says so) or throws EnvironmentError.
std::string find_or_mount_cgroup2();
std::string find_cgroup2_mount();  // "" when none is mounted

// Inside a container (docs/deploy.md), the tracer must see what the host
// sees. Throws EnvironmentError when it runs in a child PID namespace (BPF
// reports host pids: --pid=host / hostPID is required). When its network
// namespace is not the host's (no --network=host), the calling thread joins
// it (kthreadd's): "the host's value" of a sysctl is then init_net's, as on the host
// (sockets bound before, like the metrics endpoint's, stay where they are).
// Likewise joins the host cgroup namespace (Kubernetes has no cgroupns=host).
void adopt_host_namespaces();

// Mounts tracefs at /sys/kernel/tracing when no tracefs is reachable
// (classic tracepoints are attached by id through it). Says so when it does.
void ensure_tracefs();

// Kernel abilities that change how the programs work, not whether the tracer
// runs (docs/kernels.md has the table: Linux version -> ability -> cost).
enum class Cap {
  TaskBtf,          // bpf_get_current_task_btf() in tracing programs (5.11)
  TaskPtRegs,       // bpf_task_pt_regs() (5.15)
  TaskStorage,      // task storage maps from tracing programs (5.11-5.13)
  Atomics,          // BPF compare-and-swap (5.12)
  SysctlTaskBtf,    // bpf_get_current_task_btf() in cgroup/sysctl
  SysctlTask,       // bpf_get_current_task() + probe reads in cgroup/sysctl
  SysctlPidHelpers, // bpf_get_current_pid_tgid()/comm() in cgroup/sysctl (6.1)
  SysctlAncestor,   // bpf_get_current_ancestor_cgroup_id() in cgroup/sysctl (6.1)
  TpAncestor,       // bpf_get_current_ancestor_cgroup_id() in tracepoints
  Fentry,           // fexit programs attach (BPF trampolines; 5.5, per architecture)
};
// The name SYSCTLSCOPE_PRETEND_MISSING takes for it ("task_btf", ...).
const char* cap_name(Cap c);

// Kernel features we depend on, behind an interface so the fallback choices
// (which programs to load) are unit-testable with a fake.
class FeatureProbe {
 public:
  virtual ~FeatureProbe() = default;
  virtual bool btf() const = 0;            // /sys/kernel/btf/vmlinux
  virtual bool cgroup_sysctl() const = 0;  // BPF_PROG_TYPE_CGROUP_SYSCTL
  virtual bool ringbuf() const = 0;        // BPF_MAP_TYPE_RINGBUF
  virtual bool tp_btf() const = 0;         // BTF-typed tracepoints
  virtual bool syscall_tracepoint(const std::string& name) const = 0;  // syscalls:<name>
  // <category>:<name> in tracefs; true by default so test probes need not care.
  virtual bool tracepoint(const std::string& category, const std::string& name) const {
    (void)category, (void)name;
    return true;
  }
  // true by default, like tracepoint().
  virtual bool has(Cap c) const {
    (void)c;
    return true;
  }
  // Frees what answering took (the parsed vmlinux BTF, ~5.5 MiB of heap):
  // the loader calls it once the programs are loaded, so a long-running
  // tracer does not keep it. A later question parses again.
  virtual void release() const {}
};

// The running kernel's features, minus those named in the environment
// variable SYSCTLSCOPE_PRETEND_MISSING (see make_masked_probe).
// `btf_file`: --btf ("": the running kernel's BTF).
std::unique_ptr<FeatureProbe> make_kernel_probe(const std::string& btf_file);

// Wraps `inner` so the features listed in `spec` read as missing, to run the
// fallback paths on a kernel that has everything (tests, and users working
// around a broken feature). `spec` is a comma-separated list of `tp_btf`,
// `syscalls:<tracepoint>` (e.g. syscalls:sys_exit_openat2) and
// `<category>:<tracepoint>` and the cap_name() of a Cap (e.g. task_storage).
// Throws UsageError naming an unknown entry.
std::unique_ptr<FeatureProbe> make_masked_probe(std::unique_ptr<FeatureProbe> inner,
                                                const std::string& spec);

// Throws EnvironmentError when a feature the tracer cannot do without is missing.
void require_core_features(const FeatureProbe& p);

}  // namespace sysctlscope
