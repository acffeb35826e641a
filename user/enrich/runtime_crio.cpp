// SPDX-License-Identifier: Apache-2.0
// CRI-O: cgroups crio-<id>.scope (its monitor, conmon, in crio-conmon-<id>);
// writes io.kubernetes.pod.* / io.kubernetes.container.name annotations and
// keeps its containers in containers/storage, like Podman.
#include "enrich/runtime.hpp"

namespace sysctlscope {

namespace {

class CriO final : public ContainerRuntime {
 public:
  Runtime kind() const override { return Runtime::CriO; }
  const AnnotationKeys* annotations() const override {
    static constexpr AnnotationKeys keys{
        .pod = "io.kubernetes.pod.name",
        .k8s_namespace = "io.kubernetes.pod.namespace",
        .name = "io.kubernetes.container.name",
        .pod_uid = "io.kubernetes.pod.uid",
        .sandbox_key = "io.kubernetes.cri-o.ContainerType",
        .sandbox_value = "sandbox",
    };
    return &keys;
  }
  void read_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) const override {
    read_storage_name(files, c, f);
  }
};

}  // namespace

const ContainerRuntime& crio_runtime() {
  static const CriO r;
  return r;
}

}  // namespace sysctlscope
