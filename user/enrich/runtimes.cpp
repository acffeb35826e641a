// SPDX-License-Identifier: Apache-2.0
// The runtimes, one row each (their classes: enrich/runtime_<name>.cpp, or
// PathOnlyRuntime for those with no files of their own). An explicit table,
// not self-registration: the layers are a static library, and the linker
// drops an object file nothing refers to.
#include "enrich/runtime.hpp"

namespace sysctlscope {

const ContainerRuntime& docker_runtime();
const ContainerRuntime& containerd_runtime();
const ContainerRuntime& crio_runtime();
const ContainerRuntime& podman_runtime();
const ContainerRuntime& runc_runtime();

std::span<const ContainerRuntime* const> container_runtimes() {
  // The order decides where two runtimes could claim one thing: Docker's
  // runc root before Podman's label, containerd's annotation keys before
  // CRI-O's.
  static const PathOnlyRuntime cri(Runtime::Cri, true), nspawn(Runtime::Nspawn, false),
      lxc(Runtime::Lxc, false);
  static const ContainerRuntime* const table[] = {
      &docker_runtime(), &containerd_runtime(),
      &crio_runtime(),   &podman_runtime(),
      &runc_runtime(),   &cri,
      &nspawn,           &lxc,
  };
  return table;
}

const ContainerRuntime* container_runtime(Runtime r) {
  for (const ContainerRuntime* rt : container_runtimes())
    if (rt->kind() == r) return rt;
  return nullptr;
}

Runtime runtime_of_containerd_namespace(std::string_view ns) {
  for (const ContainerRuntime* rt : container_runtimes())
    if (!rt->containerd_namespace().empty() && rt->containerd_namespace() == ns) return rt->kind();
  return Runtime::Containerd;
}

}  // namespace sysctlscope
