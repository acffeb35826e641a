// SPDX-License-Identifier: Apache-2.0
#include "pipeline/readback.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/fd.hpp"
#include "model/sysctl_handlers.hpp"
#include "netns/nsexec.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

namespace {

// kernel.sysctl_writes_strict decides what a write at an offset does; only
// such writes need it (rare), so it is read when one is judged.
int writes_strict(int64_t pos) {
  if (pos == 0) return 1;
  auto v = netns::read_sysctl_value("kernel.sysctl_writes_strict");
  return v.err || v.value.empty() ? 1 : std::atoi(v.value.c_str());
}

// The bytes the writer passed: `value` lost one trailing newline.
std::string written_bytes(const SysctlWrite& w) {
  return w.new_len == w.value.size() + 1 ? w.value + "\n" : w.value;
}

}  // namespace

WriteOutcome judge_readback(SysctlWrite& w, const std::optional<std::string>& now) {
  w.stored.clear();
  if (!now || w.value_truncated) return {WriteStatus::Unknown};
  const std::string n = normalize_value(*now), v = normalize_value(w.value);
  // The handler's own parse decides (0x10 stored as 16, one port of a range,
  // a vector refused after its first elements): model/sysctl_handlers.hpp.
  if (!w.old_truncated && !w.value_error)
    if (auto j = judge_by_handler(w.sysctl, w.old_value, written_bytes(w), w.file_pos,
                                  writes_strict(w.file_pos), *now)) {
      if (!j->result.unknown()) {
        w.stored = j->stored.value_or("");
        return j->result;
      }
      return {n == v ? WriteStatus::Ok : WriteStatus::Unknown};
    }
  if (n == v) return {WriteStatus::Ok};
  if (!w.old_truncated && !w.value_error) {
    const std::string o = normalize_value(w.old_value);
    if (n == o && o != v) return {WriteStatus::NotApplied};
  }
  return {WriteStatus::Unknown};
}

void note_stored(SysctlWrite& w) {
  w.stored.clear();
  if (w.result.unknown() || w.value_truncated || w.old_truncated || w.value_error)
    return;
  w.stored = stored_after_result(w.sysctl, w.old_value, written_bytes(w), w.file_pos,
                                 writes_strict(w.file_pos), w.result)
                 .value_or("");
}

namespace {

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::optional<std::string> read_here(const std::string& dotted) {
  auto v = netns::read_sysctl_value(dotted);
  if (v.err) return std::nullopt;
  return v.value;
}

// /proc/sys shows the namespaces of the task that opens the file: read from a
// thread that joined `ns_fd` (net, UTS and IPC may be joined by one thread of
// a threaded process) and then ends, so no thread of ours stays elsewhere.
std::optional<std::string> read_in(int ns_fd, int nstype, const std::string& dotted) {
  std::optional<std::string> out;
  std::thread t([&] {
    // Named before it moves: what another tracer on the host sees.
    ::pthread_setname_np(::pthread_self(), kReadbackThreadName);
    if (::setns(ns_fd, nstype) == 0) out = read_here(dotted);
  });
  t.join();
  return out;
}

// An nsfs fd for /proc/<pid>/ns/<kind>, if it still names namespace `inode`
// (0: any).
Fd open_ns(uint32_t pid, const char* kind, uint64_t inode) {
  if (!pid) return Fd();
  Fd fd(::open(("/proc/" + std::to_string(pid) + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fd;
  struct stat st {};
  if (inode && (::fstat(fd.get(), &st) != 0 || st.st_ino != inode)) return Fd();
  return fd;
}

// Bounds what one write can cost the consumer loop on a host with many
// processes (about 2-5 us per /proc/<pid>/ns/net open).
constexpr auto kScanBudget = std::chrono::milliseconds(20);

Fd find_netns(uint64_t inode) {
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + kScanBudget;
  // ip-netns names, then Docker's handles (/var/run/docker/netns/<sandbox>,
  // kept while a container's sandbox exists, also for runc init's writes).
  for (const auto& d :
       {"/run/netns", "/var/run/netns", "/run/docker/netns", "/var/run/docker/netns"}) {
    for (const auto& ent : std::filesystem::directory_iterator(d, ec)) {
      Fd fd(::open(ent.path().c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st {};
      if (fd.valid() && ::fstat(fd.get(), &st) == 0 && st.st_ino == inode) return fd;
    }
  }
  for (const auto& ent : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = ent.path().filename();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    if (std::chrono::steady_clock::now() > deadline) break;  // result: unknown
    Fd fd = open_ns(static_cast<uint32_t>(std::stoul(name)), "net", inode);
    if (fd.valid()) return fd;
  }
  return Fd();
}

}  // namespace

ProcValueSource::ProcValueSource()
    : own_net_(inode_of("/proc/self/ns/net")),
      own_uts_(inode_of("/proc/self/ns/uts")),
      own_ipc_(inode_of("/proc/self/ns/ipc")),
      own_user_(inode_of("/proc/self/ns/user")) {}

std::optional<std::string> ProcValueSource::current_value(const Event& w, Reach reach) {
  const std::string& name = w.as<SysctlWrite>().sysctl;
  switch (scope_of(name)) {
    case SysctlScope::Global:
      return read_here(name);
    case SysctlScope::Net: {
      if (w.netns == own_net_) return read_here(name);
      std::vector<uint32_t> pids = {w.tid, w.pid};
      if (reach == Reach::Anyone)
        for (const Seen& s : seen_[w.netns % seen_.size()])
          if (s.netns == w.netns_id()) pids.push_back(s.pid);
      for (uint32_t pid : pids) {
        Fd fd = open_ns(pid, "net", w.netns);
        if (fd.valid()) return read_in(fd.get(), CLONE_NEWNET, name);
      }
      if (reach == Reach::Writer) return std::nullopt;
      // The writer (often a one-shot `sysctl -w`) is gone: look for the
      // netns by name, then for any process in it (a few ms, once per write).
      Fd fd = find_netns(w.netns);
      if (fd.valid()) return read_in(fd.get(), CLONE_NEWNET, name);
      return std::nullopt;  // nobody left in that netns: it is gone
    }
    case SysctlScope::Uts:
    case SysctlScope::Ipc: {
      const bool uts = scope_of(name) == SysctlScope::Uts;
      Fd fd = open_ns(w.tid, uts ? "uts" : "ipc", 0);
      if (!fd.valid()) return std::nullopt;  // the writer is gone: its namespace is unknown
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0 && st.st_ino == (uts ? own_uts_ : own_ipc_))
        return read_here(name);
      return read_in(fd.get(), uts ? CLONE_NEWUTS : CLONE_NEWIPC, name);
    }
    case SysctlScope::User: {
      const bool pid_ns = name == "kernel.ns_last_pid";
      Fd fd = open_ns(w.tid, pid_ns ? "pid" : "user", 0);
      struct stat st {};
      if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return std::nullopt;
      if (st.st_ino != (pid_ns ? inode_of("/proc/self/ns/pid") : own_user_)) return std::nullopt;
      return read_here(name);
    }
  }
  return std::nullopt;
}

}  // namespace sysctlscope
