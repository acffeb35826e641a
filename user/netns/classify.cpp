// SPDX-License-Identifier: Apache-2.0
#include "netns/classify.hpp"

#include <algorithm>
#include <array>

namespace sysctlscope::netns {

namespace {
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// runc's validSysctlMap: the IPC keys it accepts by exact name.
constexpr std::array<std::string_view, 8> kRuncIpc = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

struct Safe {
  std::string_view name, since;
  // The first kernel where the sysctl is per netns, where a source names one
  // (the kubelet's pkg/util/kernel constants, which it checks at start and
  // drops the entry below; for tcp_rmem/tcp_wmem the commit that namespaced
  // them, 356d1833, 4.15). "": the kubelet names no minimum.
  std::string_view kernel;
};
// Kubernetes' safe set (pkg/kubelet/sysctl/safe_sysctls.go) and the release
// that added each entry: the first three are the original set of the sysctl
// feature (1.4); tcp_slow_start_after_idle and tcp_notsent_lowat came with
// kubernetes/kubernetes#138389 (v1.37, kernels 4.15 and 4.6).
constexpr std::array<Safe, 14> kK8sSafe = {{
    {"kernel.shm_rmid_forced", "1.4", ""},
    {"net.ipv4.ip_local_port_range", "1.4", ""},
    {"net.ipv4.tcp_syncookies", "1.4", ""},
    {"net.ipv4.ping_group_range", "1.18", ""},
    {"net.ipv4.ip_unprivileged_port_start", "1.22", ""},
    {"net.ipv4.ip_local_reserved_ports", "1.27", "3.16"},
    {"net.ipv4.tcp_keepalive_time", "1.29", "4.5"},
    {"net.ipv4.tcp_fin_timeout", "1.29", "4.6"},
    {"net.ipv4.tcp_keepalive_intvl", "1.29", "4.5"},
    {"net.ipv4.tcp_keepalive_probes", "1.29", "4.5"},
    {"net.ipv4.tcp_rmem", "1.32", "4.15"},
    {"net.ipv4.tcp_wmem", "1.32", "4.15"},
    {"net.ipv4.tcp_slow_start_after_idle", "1.37", "4.15"},
    {"net.ipv4.tcp_notsent_lowat", "1.37", "4.6"},
}};
}  // namespace

RuncRule runc_rule(std::string_view s) {
  if (std::find(kRuncIpc.begin(), kRuncIpc.end(), s) != kRuncIpc.end() ||
      starts_with(s, "fs.mqueue."))
    return {SysctlScope::Ipc, true, "allowed when the container has its own IPC namespace"};
  if (starts_with(s, "net."))
    return {SysctlScope::Net, true,
            "allowed when the container has its own network namespace (not the host's)"};
  if (s == "kernel.domainname")
    return {SysctlScope::Uts, true, "allowed when the container has its own UTS namespace"};
  if (s == "kernel.hostname")
    return {SysctlScope::Uts, false,
            "rejected: runc requires the config's hostname field instead of the sysctl"};
  if (starts_with(s, "user."))
    return {SysctlScope::User, true, "allowed when the container has its own user namespace"};
  return {SysctlScope::Global, false, "rejected: not in a separate kernel namespace"};
}

K8sRule k8s_rule(std::string_view s) {
  K8sRule r;
  if (s == "kernel.sem" || starts_with(s, "kernel.shm") || starts_with(s, "kernel.msg") ||
      starts_with(s, "fs.mqueue."))
    r.ns = SysctlScope::Ipc;
  else if (starts_with(s, "net."))
    r.ns = SysctlScope::Net;
  for (const auto& e : kK8sSafe)
    if (e.name == s) {
      r.safe_since = std::string(e.since);
      if (!e.kernel.empty()) r.safe_kernel = std::string(e.kernel);
    }
  return r;
}

std::vector<K8sSafeEntry> k8s_safe_set() {
  std::vector<K8sSafeEntry> out;
  for (const auto& e : kK8sSafe)
    out.push_back({std::string(e.name), std::string(e.since),
                   e.kernel.empty() ? std::nullopt : std::optional(std::string(e.kernel))});
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // Levenshtein with one row; names are short (< 100 bytes).
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closest_names(std::string_view name, const std::vector<std::string>& all,
                                       size_t n) {
  std::vector<std::pair<size_t, const std::string*>> scored;
  scored.reserve(all.size());
  for (const auto& s : all) scored.emplace_back(edit_distance(name, s), &s);
  std::sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : *x.second < *y.second;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < n; ++i) out.push_back(*scored[i].second);
  return out;
}

}  // namespace sysctlscope::netns
