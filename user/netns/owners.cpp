// SPDX-License-Identifier: Apache-2.0
#include "netns/owners.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "core/error.hpp"
#include "enrich/container_meta.hpp"
#include "enrich/proc.hpp"
#include "output/escape.hpp"

namespace sysctlscope::netns {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class RuntimeSource final : public ContainerSource {
 public:
  explicit RuntimeSource(MetaSources m) : m_(std::move(m)) {}
  std::vector<ContainerRef> list() override { return scan_running_containers(m_); }

 private:
  MetaSources m_;
};

bool is_net_nsfs(int fd) { return ::ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET; }

uint64_t inode_of_fd(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// /var/run is usually a symlink to /run: list each bind mount once.
std::vector<std::string> unique_dirs(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& d : dirs) {
    char buf[PATH_MAX];
    std::string real = ::realpath(d.c_str(), buf) ? buf : d;
    if (seen.insert(real).second) out.push_back(d);
  }
  return out;
}

}  // namespace

std::unique_ptr<ContainerSource> make_runtime_source(MetaSources sources) {
  return std::make_unique<RuntimeSource>(std::move(sources));
}

Expected<Fd> open_netns_checked(const std::string& path, NetnsInode inode) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error("open netns", path, errno);
  if (inode_of_fd(fd.get()) != inode)
    return Error("open netns", path, 0,
                 "no longer netns " + std::to_string(inode) + ": it went away");
  return fd;
}

Expected<Fd> open_listed_netns(const NetnsInfo& ns) {
  std::vector<std::string> paths;
  if (ns.pid) paths.push_back("/proc/" + std::to_string(ns.pid) + "/ns/net");
  paths.insert(paths.end(), ns.names.begin(), ns.names.end());
  if (paths.empty())
    return Error("open netns " + std::to_string(ns.inode), "", 0,
                 "no process or bind mount holds it");
  std::optional<Error> last;
  for (const auto& p : paths) {
    auto fd = open_netns_checked(p, ns.inode);
    if (fd) return fd;
    last = fd.error();
  }
  return *last;
}

// nsfs inodes are 32-bit (proc_alloc_inum): the ABI's u32 holds them whole.
NetnsInode netns_inode_of_pid(pid_t pid) {
  return static_cast<NetnsInode>(netns_of("/proc", pid));
}

NetnsInode host_netns_inode() {
  if (NetnsInode ino = netns_inode_of_pid(1)) return ino;
  return netns_inode_of_pid(2);
}

std::vector<NetnsInfo> list_netns(ContainerSource& containers,
                                  const std::vector<std::string>& name_dirs) {
  std::map<NetnsInode, NetnsInfo> by_inode;
  for (const auto& ent : list_dir("/proc")) {
    if (!all_digits(ent)) continue;
    pid_t pid = static_cast<pid_t>(std::stol(ent));
    NetnsInode ino = netns_inode_of_pid(pid);
    if (!ino) continue;  // exited meanwhile, or a kernel thread we cannot read
    auto& n = by_inode[ino];
    n.inode = ino;
    ++n.processes;
    if (n.pid == 0 || pid < n.pid) n.pid = pid;
  }
  for (const auto& dir : unique_dirs(name_dirs)) {
    for (const auto& ent : list_dir(dir)) {
      std::string path = dir + "/" + ent;
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid() || !is_net_nsfs(fd.get())) continue;  // a stale file whose mount is gone
      auto& n = by_inode[inode_of_fd(fd.get())];
      n.inode = inode_of_fd(fd.get());
      n.names.push_back(path);
    }
  }
  NetnsInode host = host_netns_inode();
  for (const auto& c : containers.list())
    if (c.netns)
      if (auto it = by_inode.find(c.netns);
          it != by_inode.end() && c.netns != host && !it->second.owner)
        it->second.owner = c;
  std::vector<NetnsInfo> out;
  for (auto& [ino, n] : by_inode) {
    n.host = ino == host;
    out.push_back(std::move(n));
  }
  // Host first, then by inode (creation order, roughly).
  std::stable_sort(out.begin(), out.end(),
                   [](const NetnsInfo& a, const NetnsInfo& b) { return a.host > b.host; });
  return out;
}

namespace {
Target open_path(const std::string& spec, const std::string& path, const std::string& kind) {
  Target t;
  t.spec = spec;
  t.kind = kind;
  t.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!t.fd.valid()) throw Error("open netns", path, errno);
  if (!is_net_nsfs(t.fd.get()))
    throw UsageError(terminal_safe(path) + " is not a network namespace");
  t.inode = inode_of_fd(t.fd.get());
  return t;
}

Target from_container(const std::string& spec, const ContainerRef& c) {
  if (!c.netns)
    throw UsageError("container " + c.info.id +
                     " has no running init process (stopped?), so no netns to read");
  Target t = open_path(spec, "/proc/" + std::to_string(c.pid) + "/ns/net", "container");
  if (t.inode != c.netns)
    throw UsageError("container " + c.info.id + "'s init exited while resolving it");
  t.container = c;
  t.pid = c.pid;
  return t;
}
}  // namespace

Target resolve_target(const std::string& spec, ContainerSource& containers) {
  if (spec.empty()) throw UsageError("empty TARGET");
  Target t;
  if (spec.front() == '/') {
    t = open_path(spec, spec, "path");
  } else if (spec.find('/') == std::string::npos &&
             ::access(("/run/netns/" + spec).c_str(), F_OK) == 0) {
    t = open_path(spec, "/run/netns/" + spec, "name");
  } else {
    auto all = containers.list();
    for (const auto& c : all)
      if (c.info.id == spec) return from_container(spec, c);
    // A name (Docker's, Podman's, a CRI container name): running ones only.
    std::vector<const ContainerRef*> named;
    for (const auto& c : all)
      if (!c.info.name.empty() && c.info.name == spec && c.netns) named.push_back(&c);
    if (named.size() == 1) return from_container(spec, *named[0]);
    if (named.size() > 1) {
      std::string ids;
      for (auto* c : named) ids += (ids.empty() ? "" : ", ") + std::string(name_of(c->info.runtime)) + ":" + c->info.id;
      throw UsageError("container name '" + terminal_safe(spec) +
                       "' is ambiguous: " + terminal_safe(ids));
    }
    if (all_digits(spec)) {
      uint64_t n = std::stoull(spec);
      // pid_max is at most 2^22; netns inodes are far above (0xF0000000 + n).
      if (n > 0 && n <= 4194304) {
        if (::access(("/proc/" + spec).c_str(), F_OK) != 0)
          throw UsageError("no process with pid " + spec);
        t = open_path(spec, "/proc/" + spec + "/ns/net", "pid");
        t.pid = static_cast<pid_t>(n);
      } else {
        for (const auto& ns : list_netns(containers)) {
          if (ns.inode != n) continue;
          auto fd = open_listed_netns(ns);
          if (!fd) throw UsageError("netns " + spec + " went away while resolving it");
          t.spec = spec;
          t.kind = "inode";
          t.fd = std::move(*fd);
          t.inode = n;
          break;
        }
        if (!t.fd.valid()) throw UsageError("no process or bind mount holds netns inode " + spec);
      }
    } else {
      std::vector<const ContainerRef*> hits;
      for (const auto& c : all)
        if (c.info.id.rfind(spec, 0) == 0) hits.push_back(&c);
      if (hits.size() > 1) {
        std::string ids;
        for (auto* c : hits) ids += (ids.empty() ? "" : ", ") + c->info.id;
        throw UsageError("container prefix '" + terminal_safe(spec) +
                         "' is ambiguous: " + terminal_safe(ids));
      }
      if (hits.empty())
        throw UsageError(
            "no container id or prefix, container name, pid, netns inode or /run/netns name "
            "matches '" +
            terminal_safe(spec) + "'");
      return from_container(spec, *hits[0]);
    }
  }
  // Attach what we know about the namespace (names, owner, a pid).
  for (auto& ns : list_netns(containers)) {
    if (ns.inode != t.inode) continue;
    t.names = ns.names;
    if (!t.container) t.container = ns.owner;
    if (!t.pid) t.pid = ns.pid;
  }
  return t;
}

}  // namespace sysctlscope::netns
