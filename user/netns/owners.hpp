// SPDX-License-Identifier: Apache-2.0
// Who owns a network namespace, and every namespace on the host (`netns
// list`, `diff`, `explain`, record's baseline). Containers come from runc
// state directories (enrich/container_meta.hpp reads state.json) through
// ContainerSource, whose one implementation is make_runc_state_source().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/fd.hpp"

namespace sysctlscope::netns {

struct ContainerRef {
  std::string id;
  std::string runtime;  // "runc", "docker", "containerd"
  std::string name;     // "" when unknown
  pid_t init_pid = 0;
  uint64_t netns = 0;  // inode of the init's netns; 0 when the init is gone
};

class ContainerSource {
 public:
  virtual ~ContainerSource() = default;
  // Running containers (a container whose init exited has netns 0).
  virtual std::vector<ContainerRef> list() = 0;
};

// runc state directories: <root>/<id>/state.json (init_process_pid,
// init_process_start to reject a recycled pid). Default roots: runc's own,
// Docker's and containerd's runc roots.
std::unique_ptr<ContainerSource> make_runc_state_source(std::vector<std::string> roots = {});

struct NetnsInfo {
  uint64_t inode = 0;
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

uint64_t netns_inode_of_pid(pid_t pid);  // 0 when unreadable
// init_net's inode: pid 1's netns, or kthreadd's (pid 2) where pid 1 hides its
// namespaces; kernel threads always run in init_net.
uint64_t host_netns_inode();

// A netns named on the command line, opened.
struct Target {
  Fd fd;
  uint64_t inode = 0;
  std::string spec;  // as given
  std::string kind;  // "container", "pid", "inode", "name", "path"
  std::optional<ContainerRef> container;
  std::vector<std::string> names;
  pid_t pid = 0;
};
// TARGET = container id or unique prefix, pid, netns inode, /run/netns name or
// an nsfs path. Throws UsageError when nothing (or more than one container) matches.
Target resolve_target(const std::string& spec, ContainerSource& containers);

}  // namespace sysctlscope::netns
