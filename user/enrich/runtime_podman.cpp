// SPDX-License-Identifier: Apache-2.0
// Podman: cgroups libpod-<id>.scope (conmon in libpod-conmon-<id>); runs runc
// with the plain runc root, marking its containers with the label
// io.container.manager=libpod; names them in containers/storage, written at
// `podman create` (names at birth).
#include "enrich/runtime.hpp"

namespace sysctlscope {

namespace {

class Podman final : public ContainerRuntime {
 public:
  Runtime kind() const override { return Runtime::Podman; }
  bool owns_runc_state(const std::string&, const Labels& labels) const override {
    for (const auto& [k, v] : labels)
      if (k == "io.container.manager" && v == "libpod") return true;
    return false;
  }
  void read_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) const override {
    read_storage_name(files, c, f);
  }
};

}  // namespace

const ContainerRuntime& podman_runtime() {
  static const Podman r;
  return r;
}

}  // namespace sysctlscope
