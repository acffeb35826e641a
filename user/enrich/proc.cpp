// SPDX-License-Identifier: Apache-2.0
#include "enrich/proc.hpp"

#include <sys/stat.h>

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

uint32_t ns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

uint32_t netns_of(const std::string& proc_root, int pid) {
  return ns_inode(proc_root + "/" + std::to_string(pid) + "/ns/net");
}

std::vector<ProcCgroup> proc_cgroups(const std::string& proc_root, const std::string& task) {
  std::vector<ProcCgroup> out;
  std::ifstream in(proc_root + "/" + task + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    out.push_back(ProcCgroup{line.compare(0, a, "0") == 0, line.substr(b + 1)});
  }
  return out;
}

std::string cgroup2_of(const std::string& proc_root, int pid) {
  for (auto& c : proc_cgroups(proc_root, std::to_string(pid)))
    if (c.v2) return std::move(c.path);
  return "";
}

}  // namespace sysctlscope
