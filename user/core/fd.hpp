// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace sysctlscope {

// Move-only owner of a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Owner of an open directory stream (opendir); readdir() through get().
class Dir {
 public:
  explicit Dir(const char* path) : d_(::opendir(path)) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (d_) ::closedir(d_);
  }
  bool valid() const { return d_ != nullptr; }
  // The next entry, or nullptr at the end.
  dirent* next() { return d_ ? ::readdir(d_) : nullptr; }

 private:
  DIR* d_;
};

// The names in `dir` except "." and "..", sorted; `dirs_only`: directories
// (and entries whose type the filesystem does not report). Empty when `dir`
// cannot be read.
inline std::vector<std::string> list_dir(const std::string& dir, bool dirs_only = false) {
  std::vector<std::string> out;
  if (dir.empty()) return out;
  Dir d(dir.c_str());
  while (dirent* e = d.next()) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (!dirs_only || e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sysctlscope
