// SPDX-License-Identifier: Apache-2.0
// Test doubles shared by the unit tests: a feature probe that answers from
// fields, a sink that keeps the events it is given, and a scratch file tree
// standing in for /proc, runtime state dirs and cgroupfs.
#pragma once

#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bpf/env.hpp"
#include "model/event.hpp"
#include "output/sink.hpp"

namespace sstest {

// Every feature present, unless switched off.
class FakeProbe final : public sysctlscope::FeatureProbe {
 public:
  bool has_btf = true, has_sysctl = true, has_ringbuf = true, with_tp_btf = true,
       has_syscalls = true;
  std::set<std::string> missing_syscalls;  // e.g. "sys_exit_openat2"
  // Like the build machine's kernel: no BPF trampolines, so the syscall
  // tracepoint programs are the plan the existing tests describe.
  std::set<sysctlscope::Cap> missing_caps = {sysctlscope::Cap::Fentry};
  bool btf() const override { return has_btf; }
  bool cgroup_sysctl() const override { return has_sysctl; }
  bool ringbuf() const override { return has_ringbuf; }
  bool tp_btf() const override { return with_tp_btf; }
  bool syscall_tracepoint(const std::string& name) const override {
    return has_syscalls && !missing_syscalls.count(name);
  }
  bool tracepoint(const std::string&, const std::string&) const override { return true; }
  bool has(sysctlscope::Cap c) const override { return !missing_caps.count(c); }
};

class VecSink final : public sysctlscope::Sink {
 public:
  void write(const sysctlscope::Event& e) override { events.push_back(e); }
  bool flush() override { return true; }
  bool closed() const override { return false; }
  std::vector<sysctlscope::Event> events;
};

// A temporary directory tree, removed with the object.
struct FileTree {
  std::filesystem::path dir;
  FileTree() {
    char t[] = "/tmp/ss-unit-XXXXXX";
    dir = ::mkdtemp(t);
  }
  ~FileTree() { std::filesystem::remove_all(dir); }
  FileTree(const FileTree&) = delete;
  FileTree& operator=(const FileTree&) = delete;
  void write(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << text;
  }
  std::string str() const { return dir.string(); }
  // Inode of a file in the tree (stands for a namespace inode); 0 if absent.
  uint32_t ino(const std::string& rel) const {
    struct stat st {};
    return ::stat((dir / rel).c_str(), &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
  }
};

// Counts the opens of files in watched directories (inotify IN_OPEN): what a
// piece of code read, seen from outside it.
struct OpenWatch {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  std::map<int, std::string> dirs;  // watch descriptor -> directory
  OpenWatch() = default;
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;
  ~OpenWatch() { ::close(fd); }
  void watch(const std::string& dir) {
    int wd = ::inotify_add_watch(fd, dir.c_str(), IN_OPEN);
    if (wd >= 0) dirs[wd] = dir;
  }
  // Opens since the last call, by path ("<dir>/<name>").
  std::map<std::string, int> take() {
    std::map<std::string, int> out;
    alignas(inotify_event) char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
      for (char* p = buf; p < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        if (e->len && dirs.count(e->wd)) ++out[dirs[e->wd] + "/" + e->name];
        p += sizeof(inotify_event) + e->len;
      }
    return out;
  }
};

}  // namespace sstest
