// SPDX-License-Identifier: Apache-2.0
// Container metadata from the files runtimes leave on the host (no runtime
// API). What each runtime's own files say is its class's (enrich/runtime.hpp,
// one file per runtime); here are the formats several share (runc's
// state.json -> bundle -> config.json annotations) and the lookups that ask
// every runtime. Every reader degrades to fewer fields on a missing or
// malformed file; none throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/event.hpp"

namespace sysctlscope {

struct MetaSources {
  // runc state roots: plain runc, containerd's CRI namespace, Docker (moby).
  std::vector<std::string> runc_roots = {
      "/run/runc", "/run/containerd/runc/k8s.io", "/run/docker/runtime-runc/moby",
      "/run/containerd/runc/moby", "/run/containerd/runc/default"};
  // containerd: one runc root per containerd namespace (<root>/<ns>/<id>),
  // and the task bundles (<root>/<ns>/<id>/config.json) that exist before
  // runc's state does. "moby" is Docker's namespace. "" = none.
  std::string containerd_runc_root = "/run/containerd/runc";
  std::string containerd_task_root = "/run/containerd/io.containerd.runtime.v2.task";
  std::string docker_root = "/var/lib/docker";
  // Podman (and CRI-O) containers storage: overlay-containers/containers.json.
  std::string containers_storage = "/var/lib/containers/storage";
};

// Every runc state root: `runc_roots`, then one per containerd namespace
// (listed now: namespaces come and go), without duplicates.
std::vector<std::string> runc_state_roots(const MetaSources& m);

// What the files of one container say, from every source that knows its id.
struct ContainerFiles {
  bool found = false;    // some source knows the container
  bool sandbox = false;  // a pod's sandbox (see apply_annotations)
  int pid = 0;           // init pid from runc's state (host view); 0 when unknown
  uint64_t init_start = 0;
  std::vector<std::string> problems;  // malformed files, for -v
};
// The runtime leaves files this reads (systemd-nspawn and LXC containers
// are known by their cgroup alone).
bool has_state_files(Runtime r);
// A cgroup path of no known shape is a container some runtime's files
// confirm (plain runc's state dir, `ctr run`'s bundle), named by the path's
// last component.
bool runtime_confirms_cgroup(const MetaSources& m, const std::string& path);
// Fills name, pod, namespace, pod uid and refines the runtime (Runc ->
// Podman or Containerd, Cri -> Containerd/CriO) of `c` (id and runtime set
// from the cgroup path or the state root).
ContainerFiles read_container_files(const MetaSources& m, ContainerInfo& c);

// A container running now, found by a scan of the runtimes' state (not of
// cgroups): what `netns list`, `diff`, `record` and trace's start use.
struct RunningContainer {
  ContainerInfo info;
  int pid = 0;         // init pid, checked against its start time
  uint32_t netns = 0;  // the init's netns inode; 0 when the init is gone
  std::string cgroup;  // the init's cgroup v2 path ("" when unknown)
  bool sandbox = false;
};
std::vector<RunningContainer> scan_running_containers(const MetaSources& m,
                                                      const std::string& proc_root = "/proc");

// Field 22 of <proc_root>/<pid>/stat (start time, clock ticks since boot):
// what runc records as init_process_start. A pid alone may be reused.
std::optional<uint64_t> proc_start_time(const std::string& proc_root, int pid);
// `pid` is still the process that started at `start` (0: not recorded, any
// process with that pid counts).
bool same_process(const std::string& proc_root, int pid, uint64_t start);

struct RuncState {
  std::string root;         // the state root it was found under
  std::string id;           // "id" ("" when absent)
  std::string bundle;       // "" when unknown
  int pid = 0;              // init pid (host view), 0 when unknown
  uint64_t init_start = 0;  // init_process_start (clock ticks since boot): rejects a reused pid
  std::vector<std::pair<std::string, std::string>> labels;  // config.labels "k=v" (annotations)
};

// One runc state.json (the only reader of that format: the enricher and
// `netns list` both use it); false if it is missing or does not parse.
bool read_runc_state_file(const std::string& path, RuncState& out);
// <root>/<id>/state.json from the first root that has it; false if none does
// or it does not parse.
bool read_runc_state(const std::vector<std::string>& roots, const std::string& id, RuncState& out);
// <root>/<id> exists (runc creates it before the cgroup, state.json after).
bool runc_state_dir_exists(const std::string& root, const std::string& id);

// Fills pod, namespace, name (and the runtime when the keys tell it: containerd
// vs CRI-O) from an OCI config.json's annotations. false: missing/malformed.
// `sandbox` (if given) is set when the container is a pod's sandbox (the
// "pause" container that holds the pod's namespaces): containerd's
// io.kubernetes.cri.container-type=sandbox, CRI-O's
// io.kubernetes.cri-o.ContainerType=sandbox, dockershim/cri-dockerd's
// io.kubernetes.docker.type=podsandbox.
bool apply_annotations_file(const std::string& config_json, ContainerInfo& c,
                            bool* sandbox = nullptr);
// Same, from key/value pairs (state.json labels).
void apply_annotations(const std::vector<std::pair<std::string, std::string>>& kv, ContainerInfo& c,
                       bool* sandbox = nullptr);

// Docker's name for a container ("/web" -> "web"); "" when unknown.
// `malformed` (if given) is set when its config.v2.json does not parse.
std::string docker_container_name(const std::string& docker_root, const std::string& id,
                                  bool* malformed = nullptr);

}  // namespace sysctlscope
