// SPDX-License-Identifier: Apache-2.0
// Which namespace makes a sysctl per-container, as runc's validator and
// Kubernetes classify it, plus "did you mean" (names are normalised by
// model/sysctl_path.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/vocab.hpp"

namespace sysctlscope::netns {


// runc libcontainer/configs/validate (validator.go, sysctl()): which
// namespace it requires for a key, or that it rejects the key.
struct RuncRule {
  SysctlScope ns = SysctlScope::Global;  // the namespace runc requires (Global: rejected)
  bool allowed = false;      // allowed given that namespace is private
  std::string reason;        // why, in runc's terms
};
RuncRule runc_rule(std::string_view dotted);

// Kubernetes pkg/kubelet/sysctl (namespace.go, safe_sysctls.go).
struct K8sRule {
  SysctlScope ns = SysctlScope::Global;  // Net, Ipc, or Global (not namespaced: rejected)
  std::optional<std::string> safe_since;  // Kubernetes version that put it in the safe set
  // The kernel it needs to be safe (per netns), where known: the kubelet
  // drops an entry with a minimum from its safe set on an older kernel.
  std::optional<std::string> safe_kernel;
};
K8sRule k8s_rule(std::string_view dotted);

// The whole safe set, in the kubelet's order (newest release and master).
struct K8sSafeEntry {
  std::string name, since;
  std::optional<std::string> kernel;
};
std::vector<K8sSafeEntry> k8s_safe_set();

size_t edit_distance(std::string_view a, std::string_view b);
// The `n` names closest to `name` by edit distance (ties: alphabetical).
std::vector<std::string> closest_names(std::string_view name, const std::vector<std::string>& all,
                                       size_t n = 3);

}  // namespace sysctlscope::netns
