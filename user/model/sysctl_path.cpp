// SPDX-License-Identifier: Apache-2.0
#include "model/sysctl_path.hpp"

#include <fcntl.h>

#include <algorithm>
#include <sstream>

namespace sysctlscope {

namespace {

using Parts = std::vector<std::string>;

Parts split(std::string_view p) {
  Parts out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Component-wise prefix test: "/proc" is a prefix of "/proc/sys", not of "/procx".
bool has_prefix(const Parts& p, const Parts& pre) {
  if (pre.size() > p.size()) return false;
  for (size_t i = 0; i < pre.size(); ++i)
    if (p[i] != pre[i]) return false;
  return true;
}

}  // namespace

std::optional<std::string> resolve_sysctl_path(std::string_view path, std::string_view base,
                                               const std::vector<ProcMount>& mounts) {
  if (path.empty()) return std::nullopt;
  std::vector<Parts> mps;
  for (const auto& m : mounts) mps.push_back(split(m.mountpoint));

  // Walk the components like the VFS does, minus symlinks: ".." never climbs
  // above the root, and <procfs at />/{self,thread-self}/root jumps back to it.
  Parts cur;
  if (path.front() != '/') cur = split(base);
  for (auto& c : split(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!cur.empty()) cur.pop_back();
      continue;
    }
    cur.push_back(std::move(c));
    if (cur.back() == "root" && cur.size() >= 2 &&
        (cur[cur.size() - 2] == "self" || cur[cur.size() - 2] == "thread-self")) {
      Parts dir(cur.begin(), cur.end() - 2);
      for (size_t i = 0; i < mounts.size(); ++i)
        if (mounts[i].root == "/" && mps[i] == dir) {
          cur.clear();
          break;
        }
    }
  }

  // The deepest procfs mount the path is under decides.
  int best = -1;
  for (size_t i = 0; i < mounts.size(); ++i)
    if (has_prefix(cur, mps[i]) &&
        (best < 0 || mps[i].size() > mps[static_cast<size_t>(best)].size()))
      best = static_cast<int>(i);
  if (best < 0) return std::nullopt;
  Parts fs = split(mounts[static_cast<size_t>(best)].root);
  fs.insert(fs.end(), cur.begin() + static_cast<long>(mps[static_cast<size_t>(best)].size()),
            cur.end());
  if (fs.size() < 2 || fs[0] != "sys") return std::nullopt;
  std::string name;
  for (size_t i = 1; i < fs.size(); ++i) {
    if (i > 1) name.push_back('/');
    name += fs[i];
  }
  return name;
}

std::vector<std::string> decode_open_flags(uint32_t flags) {
  std::vector<std::string> out;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      out.push_back("O_RDONLY");
      break;
    case O_WRONLY:
      out.push_back("O_WRONLY");
      break;
    case O_RDWR:
      out.push_back("O_RDWR");
      break;
    default:
      out.push_back("O_ACCMODE");
      break;
  }
  uint32_t rest = flags & ~static_cast<uint32_t>(O_ACCMODE);
  // Multi-bit flags first so their bits are not also named singly.
  static constexpr struct {
    uint32_t bits;
    const char* name;
  } kFlags[] = {
      {O_SYNC, "O_SYNC"},           {O_TMPFILE, "O_TMPFILE"},   {O_CREAT, "O_CREAT"},
      {O_EXCL, "O_EXCL"},           {O_NOCTTY, "O_NOCTTY"},     {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},       {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},
      {O_ASYNC, "O_ASYNC"},         {O_DIRECT, "O_DIRECT"},     {O_LARGEFILE, "O_LARGEFILE"},
      {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
      {O_CLOEXEC, "O_CLOEXEC"},     {O_PATH, "O_PATH"},
  };
  std::vector<std::pair<uint32_t, const char*>> found;
  for (auto& f : kFlags) {
    if (f.bits && (rest & f.bits) == f.bits) {
      found.emplace_back(f.bits, f.name);
      rest &= ~f.bits;
    }
  }
  // Report in bit order (lowest bit of each flag), as strace does.
  std::sort(found.begin(), found.end(),
            [](auto& a, auto& b) { return (a.first & -a.first) < (b.first & -b.first); });
  for (auto& f : found) out.push_back(f.second);
  if (rest) {
    std::ostringstream hex;
    hex << "0x" << std::hex << rest;
    out.push_back(hex.str());
  }
  return out;
}

std::vector<std::string> split_cmdline(std::string_view raw) {
  std::vector<std::string> out;
  if (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  size_t i = 0;
  while (i <= raw.size() && !raw.empty()) {
    size_t j = raw.find('\0', i);
    if (j == std::string_view::npos) j = raw.size();
    out.emplace_back(raw.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string normalize_sysctl_name(std::string_view n) {
  while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.remove_suffix(1);
  if (n.substr(0, 10) == "/proc/sys/") n.remove_prefix(10);
  while (!n.empty() && n.front() == '/') n.remove_prefix(1);
  // Same rule as sysctl(8): the first separator decides the style; in slash
  // style a '.' belongs to a component and becomes '/' when dotted.
  auto dot = n.find('.'), slash = n.find('/');
  std::string out(n);
  if (slash != std::string_view::npos && (dot == std::string_view::npos || slash < dot))
    for (char& c : out) c = c == '/' ? '.' : (c == '.' ? '/' : c);
  return out;
}

bool valid_sysctl_name(std::string_view dotted) {
  if (dotted.empty()) return false;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t end = dotted.find('.', start);
    if (end == std::string_view::npos) end = dotted.size();
    // In dotted form '/' stands for a '.' inside a component.
    auto comp = dotted.substr(start, end - start);
    if (comp.empty() || comp == "/" || comp == "//") return false;
    start = end + 1;
  }
  return true;
}

SysctlScope scope_of(std::string_view d) {
  auto starts = [&](std::string_view p) { return d.substr(0, p.size()) == p; };
  if (starts("net.")) return SysctlScope::Net;
  if (d == "kernel.hostname" || d == "kernel.domainname") return SysctlScope::Uts;
  if (starts("kernel.shm") || starts("kernel.msg") || d == "kernel.sem" ||
      d == "kernel.sem_next_id" || d == "kernel.auto_msgmni" || starts("fs.mqueue."))
    return SysctlScope::Ipc;
  // user.* is per user namespace; kernel.ns_last_pid per pid namespace: a
  // reader sees its own, and joining either from a threaded process is not
  // allowed, so they are read only where the writer's is the tool's own.
  if (starts("user.") || d == "kernel.ns_last_pid") return SysctlScope::User;
  return SysctlScope::Global;
}

}  // namespace sysctlscope
