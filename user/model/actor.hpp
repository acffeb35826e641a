// SPDX-License-Identifier: Apache-2.0
// Events made in userspace that follow the event causing them (sysctl_drift,
// detection) carry its actor and place.
#pragma once

#include "model/event.hpp"

namespace sysctlscope {

// Copies time, process, cgroup, netns, containers and cross_namespace.
inline void copy_actor(const Event& from, Event& to) {
  to.time_ns = from.time_ns;
  to.boot_ns = from.boot_ns;
  to.pid = from.pid, to.tid = from.tid, to.ppid = from.ppid, to.uid = from.uid;
  to.comm = from.comm;
  to.cgroup_id = from.cgroup_id, to.cgroup_path = from.cgroup_path;
  to.netns = from.netns;
  to.container = from.container;
  to.netns_container = from.netns_container;
  to.cross_namespace = from.cross_namespace;
}

}  // namespace sysctlscope
