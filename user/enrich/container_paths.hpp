// SPDX-License-Identifier: Apache-2.0
// cgroup v2 path -> container runtime, id and pod uid. Pure string work (no
// filesystem): the layouts of the cgroupfs and systemd drivers of each
// runtime, read from their sources (runc libcontainer/cgroups/systemd,
// kubelet pkg/kubelet/cm/cgroup_manager_linux.go, podman, CRI-O, LXC).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/vocab.hpp"

namespace sysctlscope {

struct PathMatch {
  Runtime runtime = Runtime::Unknown;  // never Runc: plain runc has no path shape
  std::string id;       // container id (nspawn / lxc: the machine / container name)
  std::string pod_uid;  // Kubernetes pod uid ('-' form), "" outside a pod
  std::string qos;      // guaranteed, burstable, besteffort; "" outside kubepods
  bool operator==(const PathMatch&) const = default;
};

// The innermost container the path belongs to, or nullopt (host cgroup,
// conmon's scope, a pod slice itself). Plain runc containers have no
// recognizable path shape: the enricher confirms them with runc's state dir.
std::optional<PathMatch> parse_container_path(std::string_view cgroup_path);

// systemd unit-name unescaping ("foo\x2dbar" -> "foo-bar").
std::string systemd_unescape(std::string_view s);

}  // namespace sysctlscope
