// SPDX-License-Identifier: Apache-2.0
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace sstest {

std::string binary() {
  if (const char* b = std::getenv("SYSCTLSCOPE_BIN")) return b;
  return SYSCTLSCOPE_BIN;  // set by tests/CMakeLists.txt
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string random_suffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(hex[rng() % 16]);
  return s;
}

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

pid_t spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    if (in_fd >= 0) dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  return pid;
}
}  // namespace

RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data) {
  TempDir d;
  std::string in = d.path() + "/in", out = d.path() + "/out", err = d.path() + "/err";
  std::ofstream(in, std::ios::binary) << stdin_data;
  int fi = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = spawn(argv, fi, fo, fe);
  ::close(fi);
  ::close(fo);
  ::close(fe);
  RunResult r;
  int st = 0;
  if (pid > 0 && waitpid(pid, &st, 0) == pid) r.status = decode_status(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

RunResult sh(const std::string& cmd) { return run({"/bin/sh", "-c", cmd}); }

Tracer::Tracer(std::vector<std::string> args, std::vector<std::string> subcommand) {
  dir_ = fs::temp_directory_path() / ("sstest-trace-" + random_suffix());
  fs::create_directories(dir_);
  out_path_ = dir_ + "/out.jsonl";
  err_path_ = dir_ + "/err.txt";
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), subcommand.begin(), subcommand.end());
  argv.insert(argv.end(), args.begin(), args.end());
  int fo = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int fe = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int fi = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = spawn(argv, fi, fo, fe);
  ::close(fo);
  ::close(fe);
  ::close(fi);
}

Tracer::~Tracer() {
  if (pid_ > 0 && status_ < 0) stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Tracer::stderr_text() const { return slurp(err_path_); }

bool Tracer::wait_ready(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::string err = slurp(err_path_);
    if (err.find("Tracing") != std::string::npos || err.find("Recording") != std::string::npos)
      return true;
    int st;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = decode_status(st);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::vector<Json> Tracer::events() {
  std::string text = slurp(out_path_);
  std::vector<Json> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto line = text.substr(start, nl - start);
    if (line.empty()) continue;
    out.push_back(Json::parse(line));  // an invalid line fails the test loudly
  }
  return out;
}

std::optional<Json> Tracer::wait_for(const std::function<bool(const Json&)>& pred,
                                     std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  do {
    for (auto& e : events())
      if (pred(e)) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (std::chrono::steady_clock::now() < end);
  return std::nullopt;
}

std::vector<Json> Tracer::stop(int sig) {
  terminate(sig);
  return events();
}

bool Tracer::wait_exit(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (status_ < 0 && std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_)
      status_ = decode_status(st);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_ >= 0;
}

void Tracer::terminate(int sig) {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, sig);
    int st = 0;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = decode_status(st);
        break;
      }
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
        status_ = 255;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::vector<Json> select(const std::vector<Json>& evs,
                         const std::function<bool(const Json&)>& pred) {
  std::vector<Json> out;
  for (auto& e : evs)
    if (pred(e)) out.push_back(e);
  return out;
}

bool is_event(const Json& e, const std::string& type, const std::string& sysctl) {
  if (e.value("event", "") != type) return false;
  return sysctl.empty() || e.value("sysctl", "") == sysctl;
}

uint64_t netns_of(pid_t pid) {
  struct stat st {};
  std::string p = pid > 0 ? "/proc/" + std::to_string(pid) + "/ns/net" : "/proc/self/ns/net";
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

uint64_t cgroup_id_of_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

TempDir::TempDir() {
  path_ = fs::temp_directory_path() / ("sstest-" + random_suffix());
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RuncContainer::RuncContainer(Options o) : opt_(std::move(o)) {
  if (opt_.id.empty()) opt_.id = "sstest-" + random_suffix();
  if (opt_.args.empty()) opt_.args = {"sleep", "3600"};
  // busybox-static rootfs: the binary plus one symlink per applet.
  std::string rootfs = bundle_.path() + "/rootfs";
  for (auto d : {"bin", "proc", "sys", "dev", "tmp", "etc"})
    fs::create_directories(rootfs + "/" + d);
  fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
  auto list = run({"/bin/busybox", "--list"});
  std::istringstream applets(list.out);
  for (std::string a; std::getline(applets, a);)
    if (!a.empty() && a != "busybox") fs::create_symlink("busybox", rootfs + "/bin/" + a);
}

void RuncContainer::write_config(bool detached) {
  auto r = run({"runc", "spec", "--bundle", bundle_.path()});
  if (r.status != 0) throw std::runtime_error("runc spec failed: " + r.err);
  Json cfg = Json::parse(slurp(bundle_.path() + "/config.json"));
  cfg["process"]["terminal"] = false;
  cfg["process"]["args"] = opt_.args;
  cfg["root"]["readonly"] = false;
  (void)detached;
  if (!opt_.sysctl.empty()) cfg["linux"]["sysctl"] = opt_.sysctl;
  if (!opt_.cgroups_path.empty()) cfg["linux"]["cgroupsPath"] = opt_.cgroups_path;
  if (!opt_.annotations.empty()) cfg["annotations"] = opt_.annotations;
  if (opt_.writable_proc_sys) {
    Json ro = Json::array();
    for (const auto& p : cfg["linux"]["readonlyPaths"])
      if (p != "/proc/sys") ro.push_back(p);
    cfg["linux"]["readonlyPaths"] = ro;
  }
  if (!opt_.netns_path.empty())
    for (auto& ns : cfg["linux"]["namespaces"])
      if (ns["type"] == "network") ns["path"] = opt_.netns_path;
  std::ofstream(bundle_.path() + "/config.json") << cfg.dump(2);
}

RunResult RuncContainer::run_to_exit() {
  write_config(false);
  created_ = true;
  return run({"runc", "run", "--bundle", bundle_.path(), opt_.id});
}

pid_t RuncContainer::start_detached() {
  write_config(true);
  created_ = true;
  auto r = run({"runc", "run", "-d", "--bundle", bundle_.path(), opt_.id});
  if (r.status != 0) throw std::runtime_error("runc run -d failed: " + r.err);
  auto st = run({"runc", "state", opt_.id});
  pid_ = Json::parse(st.out).value("pid", -1);
  return pid_;
}

RunResult RuncContainer::exec(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"runc", "exec", opt_.id};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RuncContainer::~RuncContainer() {
  if (created_) run({"runc", "delete", "-f", opt_.id});
}

std::string read_sysctl(const std::string& dotted) {
  std::string p = "/proc/sys/";
  for (char c : dotted) p.push_back(c == '.' ? '/' : (c == '/' ? '.' : c));
  std::string v = slurp(p);
  if (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

SysctlGuard::SysctlGuard(std::string dotted) {
  path_ = "/proc/sys/";
  for (char c : dotted) path_.push_back(c == '.' ? '/' : (c == '/' ? '.' : c));
  orig_ = read_sysctl(dotted);
}

void SysctlGuard::set(const std::string& value) {
  std::ofstream out(path_);
  out << value;
  out.flush();
  if (!out) throw std::runtime_error("cannot set " + path_);
}

SysctlGuard::~SysctlGuard() {
  std::ofstream out(path_);
  out << orig_;
}

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream h(line.substr(0, dash));
    std::string a, b, c, root, mnt;
    h >> a >> b >> c >> root >> mnt;
    if (root == "/") return mnt;
  }
  return {};
}

std::string random_hex(size_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

std::string random_pod_uid() {
  std::string h = random_hex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

void remove_parent_cgroups(const std::string& rel) {
  std::error_code ec;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    std::string base = h.path().string();
    if (h.path().filename() == "unified") base = cgroup2_mount();
    ::rmdir((base + rel).c_str());
  }
  ::rmdir((cgroup2_mount() + rel).c_str());
}

KubePod::KubePod(const std::string& qos)
    : uid_(random_pod_uid()), cgroup_("/kubepods/" + qos + "/pod" + uid_) {}

KubePod::~KubePod() { remove_parent_cgroups(cgroup_); }

RuncContainer::Options KubePod::leaf() const {
  RuncContainer::Options o;
  o.id = random_hex(64);
  o.cgroups_path = cgroup_ + "/" + o.id;
  return o;
}

RuncContainer::Options KubePod::container(const std::string& name) const {
  RuncContainer::Options o = leaf();
  o.annotations = {{"io.kubernetes.cri.container-type", "container"},
                   {"io.kubernetes.cri.sandbox-name", "web-0"},
                   {"io.kubernetes.cri.sandbox-namespace", "shop"},
                   {"io.kubernetes.cri.container-name", name}};
  return o;
}

uint64_t cgroup_id_of_pid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0) return cgroup_id_of_path(cgroup2_mount() + line.substr(3));
  return 0;
}

ScratchCgroup::ScratchCgroup() {
  path_ = cgroup2_mount() + "/sstest-" + random_suffix();
  fs::create_directory(path_);
}

ScratchCgroup::~ScratchCgroup() {
  // rmdir succeeds once the last process has left (exited).
  for (int i = 0; i < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) usleep(20000);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(Json::parse(l));
  return v;
}

std::optional<Json> write_refused_by_another_program(Tracer& t, const ScratchCgroup& cg,
                                                     const DenyTools& tools) {
  auto r = run({tools.run, tools.obj, cg.path(), "unshare", "-n", tools.opener,
                "/proc/sys/net/ipv4/tcp_keepalive_time", "600"});
  EXPECT_EQ(r.out, "open ok\nwrite EPERM\n") << r.err;
  return t.wait_for(
      [&](const Json& e) { return is_event(e, "sysctl_write") && e["cgroup"]["id"] == cg.id(); });
}

// The attributes docs/otlp.md promises for an event (its JSON line), in
// the line's order: the unit and the receiver tests' expectation.
Json otlp_expected_attributes(const Json& e) {
  Json a = Json::object();
  auto put = [&](const std::string& key, const Json& obj, const char* field) {
    if (obj.contains(field) && !obj[field].is_null()) a[key] = obj[field];
  };
  for (auto it = e.begin(); it != e.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "time") continue;
    if (k == "event") {
      a["sysctlscope.event"] = v;
    } else if (k == "proc" && v.is_object()) {
      put("process.pid", v, "pid");
      put("thread.id", v, "tid");
      put("process.parent_pid", v, "ppid");
      put("process.executable.name", v, "comm");
      put("process.user.id", v, "uid");
    } else if (k == "cgroup" && v.is_object()) {
      put("sysctlscope.cgroup.id", v, "id");
      put("sysctlscope.cgroup.path", v, "path");
    } else if (k == "container" && v.is_object()) {
      put("container.id", v, "id");
      put("container.name", v, "name");
      put("container.runtime.name", v, "runtime");
      put("k8s.pod.name", v, "pod");
      put("k8s.namespace.name", v, "namespace");
      put("k8s.pod.uid", v, "pod_uid");
    } else if (v.is_string() || v.is_number() || v.is_boolean()) {
      a["sysctlscope." + k] = v;
    }
  }
  return a;
}

// Key order aside, the same members.
}  // namespace sstest
