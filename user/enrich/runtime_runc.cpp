// SPDX-License-Identifier: Apache-2.0
// Plain runc (`runc run ID`): no cgroup path shape (cgroup /<ID> or any
// cgroupsPath), confirmed by its state directory <root>/<ID> (created before
// the cgroup). Its state root is shared with Podman: a runc container that
// containers/storage names is Podman's.
#include "enrich/runtime.hpp"

namespace sysctlscope {

namespace {

class Runc final : public ContainerRuntime {
 public:
  Runtime kind() const override { return Runtime::Runc; }
  bool confirms_cgroup(const MetaSources& m, const std::string&,
                       const std::string& name) const override {
    for (const auto& root : runc_state_roots(m))
      if (runc_state_dir_exists(root, name)) return true;
    return false;
  }
  void read_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) const override {
    read_storage_name(files, c, f);
    if (!c.name.empty()) c.runtime = Runtime::Podman;
  }
};

}  // namespace

const ContainerRuntime& runc_runtime() {
  static const Runc r;
  return r;
}

}  // namespace sysctlscope
