// SPDX-License-Identifier: Apache-2.0
// Docker (moby): runs its containers through containerd's "moby" namespace
// (or, before Docker 23, its own runc root /run/docker/runtime-runc/moby);
// names them in /var/lib/docker/containers/<id>/config.v2.json. As the
// kubelet's runtime (dockershim, cri-dockerd) it marks a pod's sandbox.
#include <nlohmann/json.hpp>

#include "enrich/runtime.hpp"

namespace sysctlscope {

namespace {

std::string config_path(const std::string& docker_root, const std::string& id) {
  return docker_root + "/containers/" + id + "/config.v2.json";
}

class Docker final : public ContainerRuntime {
 public:
  Runtime kind() const override { return Runtime::Docker; }
  std::string_view containerd_namespace() const override { return "moby"; }
  bool owns_runc_state(const std::string& root, const Labels&) const override {
    return root.find("/docker/") != std::string::npos;
  }
  const AnnotationKeys* annotations() const override {
    static constexpr AnnotationKeys keys{.sandbox_key = "io.kubernetes.docker.type",
                                         .sandbox_value = "podsandbox"};
    return &keys;
  }
  void read_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) const override {
    bool bad = false;
    c.name = docker_container_name(files.m.docker_root, c.id, &bad);
    if (bad) f.problems.push_back(config_path(files.m.docker_root, c.id) + ": malformed");
    f.found |= !c.name.empty();
  }
};

}  // namespace

std::string docker_container_name(const std::string& docker_root, const std::string& id,
                                  bool* malformed) {
  if (!safe_container_id(id)) return "";
  std::string name = json_string(load_json(config_path(docker_root, id), malformed), "Name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  return name;
}

const ContainerRuntime& docker_runtime() {
  static const Docker r;
  return r;
}

}  // namespace sysctlscope
