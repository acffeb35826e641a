// SPDX-License-Identifier: Apache-2.0
#include "enrich/container_meta.hpp"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace sysctlscope {

namespace {
// Parses a small JSON file; discarded value on any error (no exceptions out).
nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json();
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string str_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// A plain id, not a path: ids come from cgroup names, which we do not trust.
bool safe_id(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos;
}
}  // namespace

bool runc_state_dir_exists(const std::string& root, const std::string& id) {
  if (!safe_id(id)) return false;
  struct stat st {};
  return ::stat((root + "/" + id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool read_runc_state_file(const std::string& path, RuncState& out) {
  auto j = load_json(path);
  if (!j.is_object()) return false;
  out = RuncState{};
  out.id = str_at(j, "id");
  if (auto it = j.find("init_process_pid"); it != j.end() && it->is_number_integer())
    out.pid = it->get<int>();
  if (auto it = j.find("init_process_start"); it != j.end() && it->is_number_unsigned())
    out.init_start = it->get<uint64_t>();
  if (auto cfg = j.find("config"); cfg != j.end() && cfg->is_object()) {
    if (auto labels = cfg->find("labels"); labels != cfg->end() && labels->is_array()) {
      for (const auto& l : *labels) {
        if (!l.is_string()) continue;
        const auto& s = l.get_ref<const std::string&>();
        size_t eq = s.find('=');
        if (eq == std::string::npos) continue;
        if (s.compare(0, eq, "bundle") == 0)
          out.bundle = s.substr(eq + 1);
        else
          out.labels.emplace_back(s.substr(0, eq), s.substr(eq + 1));
      }
    }
  }
  return true;
}

bool read_runc_state(const std::vector<std::string>& roots, const std::string& id, RuncState& out) {
  if (!safe_id(id)) return false;
  for (const auto& root : roots) {
    if (!read_runc_state_file(root + "/" + id + "/state.json", out)) continue;
    out.root = root;
    return true;
  }
  return false;
}

void apply_annotations(const std::vector<std::pair<std::string, std::string>>& kv, ContainerInfo& c,
                       bool* sandbox) {
  bool cri_containerd = false, crio = false;
  for (const auto& [k, v] : kv) {
    if (v.empty()) continue;
    if (sandbox && ((k == "io.kubernetes.cri.container-type" && v == "sandbox") ||
                    (k == "io.kubernetes.cri-o.ContainerType" && v == "sandbox") ||
                    (k == "io.kubernetes.docker.type" && v == "podsandbox")))
      *sandbox = true;
    if (k == "io.kubernetes.cri.sandbox-name")
      c.pod = v, cri_containerd = true;
    else if (k == "io.kubernetes.cri.sandbox-namespace")
      c.k8s_namespace = v, cri_containerd = true;
    else if (k == "io.kubernetes.cri.container-name")
      c.name = v, cri_containerd = true;
    else if (k == "io.kubernetes.cri.sandbox-uid" && c.pod_uid.empty())
      c.pod_uid = v;
    else if (k == "io.kubernetes.pod.name")
      c.pod = v, crio = true;
    else if (k == "io.kubernetes.pod.namespace")
      c.k8s_namespace = v, crio = true;
    else if (k == "io.kubernetes.container.name")
      c.name = v, crio = true;
    else if (k == "io.kubernetes.pod.uid" && c.pod_uid.empty())
      c.pod_uid = v;
  }
  // The kubelet's cgroupfs layout does not name the runtime; the keys do.
  if (c.runtime == "cri" || c.runtime.empty()) {
    if (cri_containerd)
      c.runtime = "containerd";
    else if (crio)
      c.runtime = "cri-o";
  }
}

bool apply_annotations_file(const std::string& config_json, ContainerInfo& c, bool* sandbox) {
  auto j = load_json(config_json);
  if (!j.is_object()) return false;
  auto it = j.find("annotations");
  if (it == j.end() || !it->is_object()) return true;  // valid, just no annotations
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto a = it->begin(); a != it->end(); ++a)
    if (a.value().is_string()) kv.emplace_back(a.key(), a.value().get<std::string>());
  apply_annotations(kv, c, sandbox);
  return true;
}

std::string docker_container_name(const std::string& docker_root, const std::string& id) {
  if (!safe_id(id)) return "";
  std::string name =
      str_at(load_json(docker_root + "/containers/" + id + "/config.v2.json"), "Name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  return name;
}

}  // namespace sysctlscope
