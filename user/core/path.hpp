// SPDX-License-Identifier: Apache-2.0
// Lexical helpers on absolute paths (cgroup paths, mount points).
#pragma once

#include <cstddef>
#include <string_view>

namespace sysctlscope {

// `p` is `root` or lies below it: the prefix must end at a '/' boundary
// ("/sys/fs/cgroup2" is not under "/sys/fs/cgroup"). A trailing '/' on
// `root` is allowed.
inline bool path_under(std::string_view p, std::string_view root) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (p.substr(0, root.size()) != root) return false;
  if (p.size() == root.size() || root == "/") return true;
  return p[root.size()] == '/';
}

// Components of a path ("/a//b/" -> 2): a cgroup's level below its root.
inline size_t path_level(std::string_view p) {
  size_t n = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] == '/' && i + 1 < p.size() && p[i + 1] != '/') ++n;
  return n;
}

}  // namespace sysctlscope
