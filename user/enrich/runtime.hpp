// SPDX-License-Identifier: Apache-2.0
// One container runtime: what its files on the host say about its containers
// (no runtime API, no socket: the files outlive short containers and need no
// client library). One class per runtime (enrich/runtime_<name>.cpp), listed
// once in enrich/runtimes.cpp; container_meta.cpp asks each in table order.
// The formats several runtimes share (runc's state.json, OCI config.json
// annotations, containers/storage) are read in container_meta.cpp.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "enrich/container_meta.hpp"
#include "model/vocab.hpp"

namespace sysctlscope {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The Kubernetes annotation keys a runtime writes into a container's OCI
// config.json (runc copies them into its state labels). "" = not written.
struct AnnotationKeys {
  std::string_view pod, k8s_namespace, name, pod_uid;
  // A pod's sandbox (the "pause" container holding the pod's namespaces).
  std::string_view sandbox_key, sandbox_value;
};

// What one lookup or scan reads once for all its containers (each member on
// its first need).
struct RuntimeFiles {
  const MetaSources& m;
  std::vector<std::string> roots;                           // runc_state_roots(m)
  std::optional<std::vector<std::string>> task_namespaces;  // containerd's
  // containers/storage (Podman, CRI-O): id -> first name.
  std::optional<std::unordered_map<std::string, std::string>> storage;
  bool storage_malformed = false;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  virtual Runtime kind() const = 0;
  // It leaves files naming its containers (nspawn and LXC containers are
  // known by their cgroup alone).
  virtual bool has_state_files() const { return true; }
  // The containerd namespace it runs its containers in ("" = none of its
  // own): runc state and task bundles under it are this runtime's.
  virtual std::string_view containerd_namespace() const { return ""; }
  // A runc state found under `root` (not a containerd namespace's root) with
  // these labels belongs to one of its containers.
  virtual bool owns_runc_state(const std::string& root, const Labels& labels) const {
    (void)root, (void)labels;
    return false;
  }
  // A cgroup path of no known shape (`path`, last component `name`) is one of
  // its containers: its files say so (runc's state dir, containerd's bundle).
  virtual bool confirms_cgroup(const MetaSources& m, const std::string& path,
                               const std::string& name) const {
    (void)m, (void)path, (void)name;
    return false;
  }
  // A container with no runc state yet: its bundle directory (holding
  // config.json) if this runtime wrote one, and whose container it is.
  virtual std::optional<std::pair<std::string, Runtime>> bundle_of(RuntimeFiles& files,
                                                                   const std::string& id) const {
    (void)files, (void)id;
    return std::nullopt;
  }
  // Its Kubernetes annotation keys; nullptr when it writes none.
  virtual const AnnotationKeys* annotations() const { return nullptr; }
  // Fills `c.name` (empty on entry) for one of its containers from its own
  // files; may refine `c.runtime`. Malformed files go to `f.problems`.
  virtual void read_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) const {
    (void)files, (void)c, (void)f;
  }
};

// A runtime with no files of its own: known by its cgroup path alone
// (systemd-nspawn's machine-<name>.scope, LXC's lxc.payload.<name>), or
// refined by another runtime's annotations (Cri: the kubelet's cgroupfs
// layout names no runtime).
class PathOnlyRuntime final : public ContainerRuntime {
 public:
  constexpr PathOnlyRuntime(Runtime kind, bool state_files) : kind_(kind), files_(state_files) {}
  Runtime kind() const override { return kind_; }
  bool has_state_files() const override { return files_; }

 private:
  Runtime kind_;
  bool files_;
};

// Every runtime with a class, in the order they are asked (runtimes.cpp).
std::span<const ContainerRuntime* const> container_runtimes();
// The class of `r`; nullptr for Unknown.
const ContainerRuntime* container_runtime(Runtime r);
// The runtime whose containerd namespace `ns` is (Docker's "moby"), else
// Containerd.
Runtime runtime_of_containerd_namespace(std::string_view ns);

// Shared by the runtimes' readers (container_meta.cpp).
// A small JSON file; a discarded value when missing or malformed
// (`malformed`, if given, is set for a file that exists but does not parse).
nlohmann::json load_json(const std::string& path, bool* malformed = nullptr);
// j[key] when it is a string, else "".
std::string json_string(const nlohmann::json& j, const char* key);
// A plain id, not a path: ids come from cgroup names, which we do not trust.
bool safe_container_id(const std::string& id);
// `c.name` from containers/storage (Podman, CRI-O), the first name of `c.id`
// (left "" when unknown); a malformed containers.json goes to `f.problems`.
void read_storage_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f);

}  // namespace sysctlscope
