// SPDX-License-Identifier: Apache-2.0
#include "enrich/proc.hpp"

#include <fstream>
#include <iterator>

namespace sysctlscope {

std::optional<std::string> read_proc_cmdline(uint32_t pid, uint32_t tid, std::string_view comm) {
  std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream c(dir + "/task/" + std::to_string(tid) + "/comm");
  std::string now;
  if (!std::getline(c, now) || now != comm) return std::nullopt;
  std::ifstream in(dir + "/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace sysctlscope
