// SPDX-License-Identifier: Apache-2.0
#include "enrich/container_meta.hpp"

#include "core/fd.hpp"
#include "enrich/container_paths.hpp"
#include "enrich/proc.hpp"
#include "enrich/runtime.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace sysctlscope {

// Parses a small JSON file; discarded value on any error (no exceptions out).
nlohmann::json load_json(const std::string& path, bool* malformed) {
  std::ifstream in(path);
  if (!in) return nlohmann::json();
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() && malformed) *malformed = true;
  return j.is_discarded() ? nlohmann::json() : j;
}

std::string json_string(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool safe_container_id(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos;
}

bool runc_state_dir_exists(const std::string& root, const std::string& id) {
  if (!safe_container_id(id)) return false;
  struct stat st {};
  return ::stat((root + "/" + id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {
bool read_runc_state_file(const std::string& path, RuncState& out, bool* malformed) {
  auto j = load_json(path, malformed);
  if (!j.is_object()) return false;
  out = RuncState{};
  out.id = json_string(j, "id");
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
}  // namespace

bool read_runc_state_file(const std::string& path, RuncState& out) {
  return read_runc_state_file(path, out, nullptr);
}

bool read_runc_state(const std::vector<std::string>& roots, const std::string& id, RuncState& out) {
  if (!safe_container_id(id)) return false;
  for (const auto& root : roots) {
    if (!read_runc_state_file(root + "/" + id + "/state.json", out)) continue;
    out.root = root;
    return true;
  }
  return false;
}

void apply_annotations(const std::vector<std::pair<std::string, std::string>>& kv, ContainerInfo& c,
                       bool* sandbox) {
  const auto runtimes = container_runtimes();
  size_t named = runtimes.size();  // the first runtime whose pod/namespace/name keys appear
  for (const auto& [k, v] : kv) {
    if (k.empty() || v.empty()) continue;
    for (size_t i = 0; i < runtimes.size(); ++i) {
      const AnnotationKeys* keys = runtimes[i]->annotations();
      if (!keys) continue;
      if (sandbox && k == keys->sandbox_key && v == keys->sandbox_value) *sandbox = true;
      if (k == keys->pod)
        c.pod = v;
      else if (k == keys->k8s_namespace)
        c.k8s_namespace = v;
      else if (k == keys->name)
        c.name = v;
      else if (k == keys->pod_uid && c.pod_uid.empty())
        c.pod_uid = v;
      if (k == keys->pod || k == keys->k8s_namespace || k == keys->name) named = std::min(named, i);
    }
  }
  // The kubelet's cgroupfs layout does not name the runtime; the keys do.
  if (named < runtimes.size() && (c.runtime == Runtime::Cri || c.runtime == Runtime::Unknown))
    c.runtime = runtimes[named]->kind();
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

std::vector<std::string> runc_state_roots(const MetaSources& m) {
  std::vector<std::string> roots = m.runc_roots;
  for (const auto& ns : list_dir(m.containerd_runc_root, true))
    roots.push_back(m.containerd_runc_root + "/" + ns);
  std::vector<std::string> out;
  for (auto& r : roots)
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  return out;
}

namespace {
// The runtime a runc state root stands for: containerd keeps one per
// namespace (each runtime that has a namespace of its own owns it), other
// runtimes their own root (Docker) or labels (Podman); plain runc's is the
// rest.
Runtime runtime_of_root(const MetaSources& m, const std::string& root, const Labels& labels) {
  const std::string& cd = m.containerd_runc_root;
  if (!cd.empty() && root.size() > cd.size() + 1 && root.compare(0, cd.size(), cd) == 0 &&
      root[cd.size()] == '/')
    return runtime_of_containerd_namespace(std::string_view(root).substr(cd.size() + 1));
  for (const ContainerRuntime* rt : container_runtimes())
    if (rt->owns_runc_state(root, labels)) return rt->kind();
  return Runtime::Runc;
}

// A runtime from the path shape is specific; Runc (no shape, confirmed by a
// state dir) and Unknown may be refined by where the state lives.
void refine_runtime(ContainerInfo& c, Runtime rt) {
  if (c.runtime == Runtime::Unknown || (c.runtime == Runtime::Runc && rt != Runtime::Runc))
    c.runtime = rt;
}

// containers/storage (Podman, CRI-O): [{"id", "names": [...], ...}]. One
// parse gives every container's first name (id -> name).
std::unordered_map<std::string, std::string> storage_names(const std::string& storage,
                                                           bool* malformed) {
  std::unordered_map<std::string, std::string> out;
  if (storage.empty()) return out;
  auto j = load_json(storage + "/overlay-containers/containers.json", malformed);
  if (!j.is_array()) return out;
  for (const auto& c : j) {
    std::string id = json_string(c, "id");
    if (id.empty()) continue;
    auto n = c.find("names");
    std::string name;
    if (n != c.end() && n->is_array() && !n->empty() && n->front().is_string())
      name = n->front().get<std::string>();
    out.emplace(std::move(id), std::move(name));  // the first entry of an id wins
  }
  return out;
}

// `known`: the container's runc state, already read from `known_root` (a scan
// lists the states it reads), or nullptr to look for it in every root.
ContainerFiles read_files(ContainerInfo& c, RuntimeFiles& files, const RuncState* known,
                          const std::string& known_root) {
  ContainerFiles f;
  if (!safe_container_id(c.id)) return f;
  auto problem = [&](const std::string& path) { f.problems.push_back(path + ": malformed"); };
  RuncState st;
  std::string state_root;
  if (known) {
    st = *known;
    state_root = known_root;
  } else {
    for (const auto& root : files.roots) {
      bool bad = false;
      std::string path = root + "/" + c.id + "/state.json";
      if (read_runc_state_file(path, st, &bad)) {
        state_root = root;
        break;
      }
      if (bad) problem(path);
    }
  }
  std::string bundle;
  if (!state_root.empty()) {
    f.found = true;
    f.pid = st.pid;
    f.init_start = st.init_start;
    bundle = st.bundle;
    refine_runtime(c, runtime_of_root(files.m, state_root, st.labels));
  } else {
    // No runc state yet: a runtime may have written the bundle already.
    for (const ContainerRuntime* rt : container_runtimes()) {
      auto b = rt->bundle_of(files, c.id);
      if (!b) continue;
      f.found = true;
      bundle = b->first;
      refine_runtime(c, b->second);
      break;
    }
  }
  bool annotated = false;
  if (!bundle.empty()) {
    annotated = apply_annotations_file(bundle + "/config.json", c, &f.sandbox);
    // Unreadable (half-written?): runc copied the annotations into its labels.
    if (!annotated) problem(bundle + "/config.json");
  }
  if (!annotated && !state_root.empty()) apply_annotations(st.labels, c, &f.sandbox);
  if (c.name.empty())
    if (const ContainerRuntime* rt = container_runtime(c.runtime)) rt->read_name(files, c, f);
  return f;
}
}  // namespace

void read_storage_name(RuntimeFiles& files, ContainerInfo& c, ContainerFiles& f) {
  const std::string& storage = files.m.containers_storage;
  if (!files.storage) files.storage = storage_names(storage, &files.storage_malformed);
  if (files.storage_malformed)
    f.problems.push_back(storage + "/overlay-containers/containers.json: malformed");
  auto it = files.storage->find(c.id);
  if (it == files.storage->end() || it->second.empty()) return;
  c.name = it->second;
  f.found = true;
}

bool runtime_confirms_cgroup(const MetaSources& m, const std::string& path) {
  const std::string name = path.substr(path.rfind('/') + 1);
  for (const ContainerRuntime* rt : container_runtimes())
    if (rt->confirms_cgroup(m, path, name)) return true;
  return false;
}

bool has_state_files(Runtime r) {
  const ContainerRuntime* rt = container_runtime(r);
  return !rt || rt->has_state_files();
}

ContainerFiles read_container_files(const MetaSources& m, ContainerInfo& c) {
  RuntimeFiles files{m, runc_state_roots(m)};
  return read_files(c, files, nullptr, "");
}

std::optional<uint64_t> proc_start_time(const std::string& proc_root, int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(proc_root + "/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto rp = s.rfind(')');
  if (rp == std::string::npos || rp + 2 > s.size()) return std::nullopt;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  for (int field = 3; rest >> f; ++field)
    if (field == 22) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(f.c_str(), &end, 10);
      if (end == f.c_str() || *end) return std::nullopt;
      return v;
    }
  return std::nullopt;
}

bool same_process(const std::string& proc_root, int pid, uint64_t start) {
  if (pid <= 0) return false;
  if (start == 0) {
    struct stat st {};
    return ::stat((proc_root + "/" + std::to_string(pid)).c_str(), &st) == 0;
  }
  return proc_start_time(proc_root, pid) == start;
}

std::vector<RunningContainer> scan_running_containers(const MetaSources& m,
                                                      const std::string& proc_root) {
  std::vector<RunningContainer> out;
  std::unordered_set<std::string> seen;
  RuntimeFiles files{m, runc_state_roots(m)};
  for (const auto& root : files.roots) {
    for (const auto& dir : list_dir(root, true)) {
      RuncState st;
      if (!safe_container_id(dir) || !read_runc_state_file(root + "/" + dir + "/state.json", st))
        continue;
      RunningContainer r;
      r.info.id = st.id.empty() ? dir : st.id;
      if (!seen.insert(r.info.id).second) continue;
      // The state just read is the one read_container_files would find first
      // (same root order), unless the id it names is another directory's.
      ContainerFiles f = r.info.id == dir ? read_files(r.info, files, &st, root)
                                          : read_files(r.info, files, nullptr, "");
      r.sandbox = f.sandbox;
      // The init's pid counts only if its start time is the one runc
      // recorded: the pid of a stopped container may belong to anyone now.
      if (same_process(proc_root, st.pid, st.init_start)) {
        r.pid = st.pid;
        r.netns = netns_of(proc_root, st.pid);
        r.cgroup = cgroup2_of(proc_root, st.pid);
      }
      // A cgroup path shape is more specific than the state root ("docker"
      // for a Docker-shaped cgroupsPath under plain runc).
      // A cgroup that names another id (plain runc given Docker's
      // cgroupsPath) is what events resolve to: use its identity.
      if (auto pm = parse_container_path(r.cgroup)) {
        if (pm->id != r.info.id) {
          r.info.id = pm->id;
          r.info.runtime = pm->runtime;
        } else if (r.info.runtime == Runtime::Runc || r.info.runtime == Runtime::Unknown) {
          r.info.runtime = pm->runtime;
        }
        if (r.info.pod_uid.empty()) r.info.pod_uid = pm->pod_uid;
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace sysctlscope
