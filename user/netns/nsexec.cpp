// SPDX-License-Identifier: Apache-2.0
#include "netns/nsexec.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/fd.hpp"
#include "model/event.hpp"

namespace sysctlscope::netns {

namespace {

// Only in the forked child: run_in_child() turns the throw into an Error.
[[noreturn]] void fail(const std::string& what, int err) { throw Error(what, "", err); }

SysctlValue read_one(const std::string& path) {
  SysctlValue v;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    v.err = errno;
    return v;
  }
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      v.err = errno;
      v.value.clear();
      return v;
    }
    if (n == 0) break;
    v.value.append(buf, static_cast<size_t>(n));
  }
  v.value = std::string(strip_one_newline(v.value));
  return v;
}

// Recursive walk with openat-free plain paths: /proc/sys is shallow (<= 6 levels).
void walk(const std::string& dir, const std::string& rel, bool read_values, SysctlMap* values,
          std::vector<std::string>* names) {
  std::vector<std::pair<std::string, bool>> entries;
  {
    Dir d(dir.c_str());
    while (dirent* e = d.next()) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      entries.emplace_back(n, e->d_type == DT_DIR);
    }
  }
  for (auto& [n, is_dir] : entries) {
    std::string path = dir + "/" + n, r = rel.empty() ? n : rel + "/" + n;
    if (is_dir) {
      walk(path, r, read_values, values, names);
      continue;
    }
    if (names) names->push_back(slash_to_dotted(r));
    if (!read_values) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !(st.st_mode & 0444))
      continue;  // write-only (route.flush)
    (*values)[slash_to_dotted(r)] = read_one(path);
  }
}

std::string rel_of(const std::string& dir) {
  const std::string root = "/proc/sys";
  if (dir.rfind(root, 0) != 0) throw Error("walk sysctls", dir, EINVAL, "not below /proc/sys");
  std::string r = dir.substr(root.size());
  while (!r.empty() && r.front() == '/') r.erase(0, 1);
  return r;
}

void put_field(std::string& out, const std::string& s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out += s;
}

[[noreturn]] void corrupt() {
  throw Error("decode helper output", "", EPROTO, "corrupt length-prefixed field");
}

std::string get_field(const std::string& s, size_t& pos) {
  auto colon = s.find(':', pos);
  if (colon == std::string::npos) corrupt();
  size_t len = 0;
  auto r = std::from_chars(s.data() + pos, s.data() + colon, len);
  if (r.ec != std::errc() || r.ptr != s.data() + colon || len > s.size() - colon - 1) corrupt();
  std::string f = s.substr(colon + 1, len);
  pos = colon + 1 + len;
  return f;
}

std::string path_of(const std::string& dotted) { return "/proc/sys/" + dotted_to_slash(dotted); }

}  // namespace

SysctlMap read_sysctl_tree(const std::string& dir) {
  SysctlMap m;
  walk(dir, rel_of(dir), true, &m, nullptr);
  return m;
}

SysctlValue read_sysctl_value(const std::string& dotted) {
  std::string path = path_of(dotted);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return SysctlValue{{}, errno};
  if (!(st.st_mode & 0444)) return SysctlValue{{}, EACCES};
  return read_one(path);
}

std::vector<std::string> list_sysctl_names(const std::string& dir) {
  std::vector<std::string> names;
  walk(dir, rel_of(dir), false, nullptr, &names);
  return names;
}

std::string encode(const SysctlMap& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    put_field(out, k);
    put_field(out, std::to_string(v.err));
    put_field(out, v.value);
  }
  return out;
}

SysctlMap decode_map(const std::string& s) {
  SysctlMap m;
  size_t pos = 0;
  while (pos < s.size()) {
    std::string k = get_field(s, pos);
    SysctlValue v;
    std::string err = get_field(s, pos);
    if (std::from_chars(err.data(), err.data() + err.size(), v.err).ptr != err.data() + err.size())
      corrupt();
    v.value = get_field(s, pos);
    m.emplace(std::move(k), std::move(v));
  }
  return m;
}

Expected<std::string> run_in_child(const std::function<std::string()>& fn,
                                   const std::string& what) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error("pipe for", what, errno);
  Fd rd(p[0]), wr(p[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error("fork for", what, errno);
  if (pid == 0) {
    rd.reset();
    std::string out;
    int status = 0;
    try {
      out = "O";
      out += fn();  // not `"O" + fn()`: GCC 12 -O3 false -Wrestrict (PR 105329)
    } catch (const std::exception& e) {
      out = std::string("E") + e.what();
      status = 1;
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::write(wr.get(), out.data() + off, out.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);
      off += static_cast<size_t>(n);
    }
    _exit(status);  // no atexit handlers, no flushing the parent's buffers twice
  }
  wr.reset();
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!out.empty() && out[0] == 'E') return Error(what, "", 0, out.substr(1));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out.empty() || out[0] != 'O')
    return Error(what, "", 0, "helper process failed");
  return out.substr(1);
}

Expected<SysctlMap> read_net_sysctls_in(int netns_fd) {
  auto r = run_in_child(
      [netns_fd]() {
        if (::setns(netns_fd, CLONE_NEWNET) != 0) fail("setns(CLONE_NEWNET)", errno);
        return encode(read_sysctl_tree("/proc/sys/net"));
      },
      "read sysctls in the target netns");
  if (!r) return r.error();
  return decode_map(*r);
}

Expected<SysctlMap> read_sysctls_in(const std::vector<std::pair<int, int>>& ns,
                                    const std::vector<std::string>& names) {
  auto r = run_in_child(
      [&]() {
        for (const auto& [type, fd] : ns)
          if (::setns(fd, type) != 0) fail("setns", errno);
        SysctlMap m;
        for (const auto& n : names) m.emplace(n, read_sysctl_value(n));
        return encode(m);
      },
      "read sysctls in the host's namespaces");
  if (!r) return r.error();
  return decode_map(*r);
}

Expected<SysctlMap> read_net_sysctls_fresh() {
  auto r = run_in_child(
      []() {
        if (::unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET)", errno);
        return encode(read_sysctl_tree("/proc/sys/net"));
      },
      "read sysctls in a fresh netns");
  if (!r) return r.error();
  return decode_map(*r);
}

Expected<NsProbe> value_in_new_ns(int clone_flag, const std::string& dotted,
                                  const std::optional<std::string>& write) {
  auto r = run_in_child(
      [&]() -> std::string {
        if (::unshare(clone_flag) != 0) fail("unshare", errno);
        std::string path = path_of(dotted);
        if (::access(path.c_str(), F_OK) != 0) return "";
        if (write) {
          Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
          if (!fd.valid()) fail("open " + path, errno);
          if (::write(fd.get(), write->data(), write->size()) < 0) fail("write " + path, errno);
        }
        return encode(SysctlMap{{dotted, read_sysctl_value(dotted)}});
      },
      "probe " + dotted + " in a new namespace");
  if (!r) return r.error();
  NsProbe p;
  auto m = decode_map(*r);
  if (auto it = m.find(dotted); it != m.end()) {
    p.exists = true;
    p.value = it->second;
  }
  return p;
}

}  // namespace sysctlscope::netns
