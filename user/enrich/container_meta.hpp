// SPDX-License-Identifier: Apache-2.0
// Container metadata from the files runtimes leave on the host (no runtime
// API): runc's state.json -> bundle -> config.json annotations (CRI pod
// metadata), Docker's config.v2.json (the container name). Every reader
// degrades to fewer fields on a missing or malformed file; none throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/event.hpp"

namespace sysctlscope {

struct MetaSources {
  // runc state roots: plain runc, containerd's CRI namespace, Docker (moby).
  std::vector<std::string> runc_roots = {
      "/run/runc", "/run/containerd/runc/k8s.io", "/run/docker/runtime-runc/moby",
      "/run/containerd/runc/moby", "/run/containerd/runc/default"};
  std::string docker_root = "/var/lib/docker";
};

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
std::string docker_container_name(const std::string& docker_root, const std::string& id);

}  // namespace sysctlscope
