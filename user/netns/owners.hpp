// SPDX-License-Identifier: Apache-2.0
// Who owns a network namespace, and every namespace on the host (`netns
// list`, `diff`, `explain`, record's baseline). Containers come from the
// runtimes' state files through ContainerSource, whose one implementation,
// make_runtime_source(), is the scan trace uses too
// (enrich/container_meta.hpp: scan_running_containers).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "enrich/container_meta.hpp"
#include "model/vocab.hpp"

namespace sysctlscope::netns {

// A running container: the one record the enricher's scan returns too.
using ContainerRef = RunningContainer;

class ContainerSource {
 public:
  virtual ~ContainerSource() = default;
  // Running containers (a container whose init exited has pid and netns 0).
  virtual std::vector<ContainerRef> list() = 0;
};

// The runtimes' state (runc's, Docker's, every containerd namespace's, with
// names from Docker's config.v2.json, Podman's containers storage and CRI
// annotations); init pids are checked against their start time.
std::unique_ptr<ContainerSource> make_runtime_source(MetaSources sources = {});

struct NetnsInfo {
  NetnsInode inode = 0;
  std::vector<std::string> names;  // bind mounts (/run/netns/NAME, /var/run/docker/netns/ID)
  std::optional<ContainerRef> owner;
  uint32_t processes = 0;
  pid_t pid = 0;      // lowest pid in it; 0 when none
  bool host = false;  // init_net (host_netns_inode())
};

// Every netns reachable through /proc/*/ns/net or a bind mount in `name_dirs`.
std::vector<NetnsInfo> list_netns(ContainerSource& containers,
                                  const std::vector<std::string>& name_dirs = {
                                      "/run/netns", "/var/run/docker/netns"});

// Opens `path` (/proc/<pid>/ns/net or a bind mount) only if it still is netns
// `inode`: between listing a namespace and opening it, its pid may exit and
// be reused by a process of another namespace.
Expected<Fd> open_netns_checked(const std::string& path, NetnsInode inode);
// A list_netns() entry: through its lowest pid, else its bind mounts, each
// checked as above. The error of the last try when none still holds it.
Expected<Fd> open_listed_netns(const NetnsInfo& ns);

NetnsInode netns_inode_of_pid(pid_t pid);  // 0 when unreadable
// init_net's inode: pid 1's netns, or kthreadd's (pid 2) where pid 1 hides its
// namespaces; kernel threads always run in init_net.
NetnsInode host_netns_inode();

// A netns named on the command line, opened.
struct Target {
  Fd fd;
  NetnsInode inode = 0;
  std::string spec;  // as given
  std::string kind;  // "container", "pid", "inode", "name", "path"
  std::optional<ContainerRef> container;
  std::vector<std::string> names;
  pid_t pid = 0;
};
// TARGET = container id, name or unique id prefix, pid, netns inode, /run/netns name or
// an nsfs path. Throws UsageError when nothing (or more than one container) matches.
Target resolve_target(const std::string& spec, ContainerSource& containers);

}  // namespace sysctlscope::netns
