// SPDX-License-Identifier: Apache-2.0
// containerd: one runc state root per namespace (/run/containerd/runc/<ns>,
// "k8s.io" for its CRI plugin), and the task bundle
// (<task root>/<ns>/<id>/config.json) it writes before runc runs. `ctr run`
// puts a container in cgroup /<ns>/<id>, a shape of its own that only the
// bundle confirms. Its CRI plugin writes io.kubernetes.cri.* annotations.
#include <sys/stat.h>

#include "core/fd.hpp"
#include "enrich/runtime.hpp"

namespace sysctlscope {

namespace {

class Containerd final : public ContainerRuntime {
 public:
  Runtime kind() const override { return Runtime::Containerd; }
  bool confirms_cgroup(const MetaSources& m, const std::string& path,
                       const std::string& name) const override {
    if (m.containerd_task_root.empty()) return false;
    size_t slash = path.rfind('/');
    size_t prev =
        slash != std::string::npos && slash ? path.rfind('/', slash - 1) : std::string::npos;
    if (prev == std::string::npos || prev + 1 >= slash) return false;
    return runc_state_dir_exists(
        m.containerd_task_root + "/" + path.substr(prev + 1, slash - prev - 1), name);
  }
  std::optional<std::pair<std::string, Runtime>> bundle_of(RuntimeFiles& files,
                                                           const std::string& id) const override {
    const std::string& root = files.m.containerd_task_root;
    if (root.empty()) return std::nullopt;
    if (!files.task_namespaces) files.task_namespaces = list_dir(root, true);
    for (const auto& ns : *files.task_namespaces) {
      std::string dir = root + "/" + ns + "/" + id;
      struct stat sb {};
      if (::stat((dir + "/config.json").c_str(), &sb) != 0) continue;
      return std::make_pair(dir, runtime_of_containerd_namespace(ns));
    }
    return std::nullopt;
  }
  const AnnotationKeys* annotations() const override {
    static constexpr AnnotationKeys keys{
        .pod = "io.kubernetes.cri.sandbox-name",
        .k8s_namespace = "io.kubernetes.cri.sandbox-namespace",
        .name = "io.kubernetes.cri.container-name",
        .pod_uid = "io.kubernetes.cri.sandbox-uid",
        .sandbox_key = "io.kubernetes.cri.container-type",
        .sandbox_value = "sandbox",
    };
    return &keys;
  }
};

}  // namespace

const ContainerRuntime& containerd_runtime() {
  static const Containerd r;
  return r;
}

}  // namespace sysctlscope
