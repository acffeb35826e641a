// SPDX-License-Identifier: Apache-2.0
#include "enrich/container_paths.hpp"

#include <vector>

namespace sysctlscope {

namespace {

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// "prefix<rest>[.scope]" -> rest, when non-empty.
std::optional<std::string_view> after(std::string_view c, std::string_view prefix) {
  if (!starts_with(c, prefix)) return std::nullopt;
  std::string_view rest = c.substr(prefix.size());
  if (ends_with(rest, ".scope")) rest.remove_suffix(6);
  if (rest.empty()) return std::nullopt;
  return rest;
}

struct PodSeg {
  std::string uid;
  std::string qos;  // "" when the parent decides (cgroupfs)
};

// kubelet: cgroupfs "pod<uid>", systemd "kubepods[-<qos>]-pod<uid_with_underscores>.slice"
// (kind nests it as "kubelet-kubepods-..."). systemd cannot keep '-' inside a
// slice name component, so kubelet writes the uid with '_'.
std::optional<PodSeg> pod_segment(std::string_view c) {
  if (ends_with(c, ".slice")) {
    std::string_view base = c.substr(0, c.size() - 6);
    size_t k = base.find("kubepods");
    size_t p = base.rfind("-pod");
    if (k == std::string_view::npos || p == std::string_view::npos || p < k) return std::nullopt;
    std::string uid(base.substr(p + 4));
    if (uid.empty()) return std::nullopt;
    for (char& ch : uid)
      if (ch == '_') ch = '-';
    std::string_view mid = base.substr(k + 8, p - (k + 8));  // "", "-burstable", "-besteffort"
    PodSeg s{std::move(uid), "guaranteed"};
    if (mid == "-burstable")
      s.qos = "burstable";
    else if (mid == "-besteffort")
      s.qos = "besteffort";
    return s;
  }
  if (starts_with(c, "pod") && c.size() > 3 && c.find('.') == std::string_view::npos)
    return PodSeg{std::string(c.substr(3)), ""};
  return std::nullopt;
}

std::string cgroupfs_qos(std::string_view parent) {
  if (parent == "burstable" || parent == "besteffort") return std::string(parent);
  if (parent == "kubepods") return "guaranteed";
  return "";
}

// The cgroup path shapes of the runtimes' cgroupfs and systemd drivers, one
// row each, tried in order on one path component (and its parent); the first
// row that matches decides.
struct CgroupShape {
  std::string_view prefix;  // of the component ("" for the parent-only rules)
  Runtime runtime;          // Unknown: a monitor's cgroup, not a container
  enum Rule : uint8_t {
    kRest,          // the rest after the prefix (".scope" dropped) is the id
    kHex64,         // ... and is 64 hex digits
    kMachineScope,  // systemd-machined: parent machine.slice, a .scope; the name unescaped
    kLxcParent,     // parent "lxc", not a .scope: the component is the name
    kDockerParent,  // parent "docker", the component 64 hex digits
    kPodParent,     // parent a kubelet pod segment, not a .scope/.slice
  } rule = kRest;
};
constexpr CgroupShape kShapes[] = {
    {"docker-", Runtime::Docker, CgroupShape::kHex64},
    {"cri-containerd-", Runtime::Containerd},
    {"crio-conmon-", Runtime::Unknown},  // conmon, the monitor: not the container
    {"crio-", Runtime::CriO},
    {"libpod-conmon-", Runtime::Unknown},
    {"libpod-", Runtime::Podman},
    {"nerdctl-", Runtime::Containerd},
    {"machine-", Runtime::Nspawn, CgroupShape::kMachineScope},
    {"lxc.payload.", Runtime::Lxc},
    {"", Runtime::Lxc, CgroupShape::kLxcParent},  // LXC before 4.0: /lxc/<name>
    {"", Runtime::Docker, CgroupShape::kDockerParent},
    // kubelet cgroupfs: /kubepods/<qos>/pod<uid>/<container id>; the runtime
    // (containerd or CRI-O) is not in the path: annotations refine Cri.
    {"", Runtime::Cri, CgroupShape::kPodParent},
};

// One path component (with its parent) -> runtime and id, if it is a container.
std::optional<PathMatch> classify(std::string_view c, std::string_view parent) {
  for (const auto& s : kShapes) {
    std::string id;
    switch (s.rule) {
      case CgroupShape::kRest:
      case CgroupShape::kHex64:
      case CgroupShape::kMachineScope: {
        if (!starts_with(c, s.prefix)) continue;
        if (s.runtime == Runtime::Unknown) return std::nullopt;
        if (s.rule == CgroupShape::kMachineScope &&
            (parent != "machine.slice" || !ends_with(c, ".scope")))
          continue;
        auto rest = after(c, s.prefix);
        if (!rest || (s.rule == CgroupShape::kHex64 && !is_hex64(*rest))) continue;
        id = s.rule == CgroupShape::kMachineScope ? systemd_unescape(*rest) : std::string(*rest);
        break;
      }
      case CgroupShape::kLxcParent:
        if (parent != "lxc" || ends_with(c, ".scope")) continue;
        id = c;
        break;
      case CgroupShape::kDockerParent:
        if (parent != "docker" || !is_hex64(c)) continue;
        id = c;
        break;
      case CgroupShape::kPodParent:
        if (!pod_segment(parent) || ends_with(c, ".scope") || ends_with(c, ".slice")) continue;
        id = c;
        break;
    }
    return PathMatch{s.runtime, std::move(id), "", ""};
  }
  return std::nullopt;
}

}  // namespace

std::string systemd_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      int a = hex(s[i + 2]), b = hex(s[i + 3]);
      if (a >= 0 && b >= 0) {
        out.push_back(static_cast<char>(a * 16 + b));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::optional<PathMatch> parse_container_path(std::string_view path) {
  std::vector<std::string_view> comps;
  for (size_t i = 0; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) comps.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  // Innermost first: a container inside a container is the inner one.
  for (size_t i = comps.size(); i-- > 0;) {
    std::string_view parent = i ? comps[i - 1] : std::string_view();
    auto m = classify(comps[i], parent);
    if (!m) continue;
    if (auto pod = pod_segment(parent)) {
      m->pod_uid = pod->uid;
      m->qos =
          !pod->qos.empty() ? pod->qos : cgroupfs_qos(i >= 2 ? comps[i - 2] : std::string_view());
    }
    return m;
  }
  return std::nullopt;
}

}  // namespace sysctlscope
