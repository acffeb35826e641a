// SPDX-License-Identifier: Apache-2.0
// Which namespace makes a sysctl per-container, as runc's validator and
// Kubernetes classify it, plus name normalisation and "did you mean".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysctlscope::netns {

enum class NsKind { Net, Ipc, Uts, User, None };
std::string_view to_string(NsKind k);

// runc libcontainer/configs/validate (validator.go, sysctl()): which
// namespace it requires for a key, or that it rejects the key.
struct RuncRule {
  NsKind ns = NsKind::None;  // the namespace runc requires (None: rejected)
  bool allowed = false;      // allowed given that namespace is private
  std::string reason;        // why, in runc's terms
};
RuncRule runc_rule(std::string_view dotted);

// Kubernetes pkg/kubelet/sysctl (namespace.go, safe_sysctls.go).
struct K8sRule {
  NsKind ns = NsKind::None;               // Net, Ipc, or None (not namespaced: rejected)
  std::optional<std::string> safe_since;  // Kubernetes version that put it in the safe set
};
K8sRule k8s_rule(std::string_view dotted);

// "net/ipv4/tcp_keepalive_time", "/proc/sys/net/ipv4/..." or dotted -> dotted.
// A name that mixes both styles is taken as dotted (sysctl(8) allows '/' inside
// a component, e.g. net.ipv4.conf.eth0/100.rp_filter). Empty -> empty.
std::string normalize_sysctl_name(std::string_view name);

// A dotted name whose /proc/sys path has no empty, "." or ".." component
// (so "kernel/../../etc/passwd" cannot escape /proc/sys).
bool valid_sysctl_name(std::string_view dotted);

size_t edit_distance(std::string_view a, std::string_view b);
// The `n` names closest to `name` by edit distance (ties: alphabetical).
std::vector<std::string> closest_names(std::string_view name, const std::vector<std::string>& all,
                                       size_t n = 3);

}  // namespace sysctlscope::netns
