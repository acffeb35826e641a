// SPDX-License-Identifier: Apache-2.0
// Where the kernel's type information comes from: /sys/kernel/btf/vmlinux,
// or a file given with --btf (BTFHub-style BTF for a kernel built without
// CONFIG_DEBUG_INFO_BTF). Set once by main(), before any command runs.
#pragma once

#include <string>

namespace sysctlscope {

// "" = the running kernel's own BTF.
inline std::string& btf_file() {
  static std::string path;
  return path;
}

}  // namespace sysctlscope
