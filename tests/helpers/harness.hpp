// SPDX-License-Identifier: Apache-2.0
// Shared by the privileged integration and e2e tests: run the real binary,
// cause sysctl activity, collect the exact JSON events it printed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sstest {

using Json = nlohmann::ordered_json;

// Absolute path of the sysctlscope binary under test.
std::string binary();

struct RunResult {
  int status = -1;  // exit code, or 128+signal
  std::string out, err;
};
// Runs argv (no shell), waits, captures stdout and stderr.
RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data = {});
// Runs a shell command line with /bin/sh -c.
RunResult sh(const std::string& cmd);

// `sysctlscope trace -o json <args>` running in the background.
class Tracer {
 public:
  explicit Tracer(std::vector<std::string> args,
                  std::vector<std::string> subcommand = {"trace", "-o", "json"});
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Waits for the "Tracing" line on stderr; fails the test (returns false) on
  // timeout or early exit.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Events printed so far (complete lines only).
  std::vector<Json> events();
  // Polls events() until pred matches one or timeout; returns the match.
  std::optional<Json> wait_for(const std::function<bool(const Json&)>& pred,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGINT, wait for exit, return all events. Exit status in exit_status().
  std::vector<Json> stop(int sig = 2);
  // Same without parsing stdout (table output).
  void terminate(int sig = 2);
  // Waits for the process to exit by itself; false on timeout.
  bool wait_exit(std::chrono::milliseconds timeout);
  int exit_status() const { return status_; }
  pid_t pid() const { return pid_; }
  std::string stderr_text() const;
  const std::string& stdout_path() const { return out_path_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string dir_, out_path_, err_path_;
};

// Filters a list of events.
std::vector<Json> select(const std::vector<Json>& evs,
                         const std::function<bool(const Json&)>& pred);
bool is_event(const Json& e, const std::string& type, const std::string& sysctl = {});

// Inode of /proc/<pid>/ns/net (or /proc/self).
uint64_t netns_of(pid_t pid);
uint64_t cgroup_id_of_path(const std::string& cgroup2_path);

// A temp dir removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A real runc container with a busybox-static rootfs built in a temp dir.
// Deleted (runc delete -f) on destruction, even when the test failed.
class RuncContainer {
 public:
  struct Options {
    std::string id;                 // default: random "sstest-XXXX"
    std::vector<std::string> args;  // default: sleep 3600
    Json sysctl = Json::object();   // linux.sysctl
    std::string cgroups_path;       // linux.cgroupsPath ("" = runc default /<id>)
    Json annotations = Json::object();
    std::string netns_path;  // join this netns ("/proc/PID/ns/net") instead of a new one
    // /proc/sys left writable (out of readonlyPaths): the misconfiguration
    // container escapes through /proc/sys need.
    bool writable_proc_sys = false;
  };
  explicit RuncContainer(Options o);
  ~RuncContainer();
  RuncContainer(const RuncContainer&) = delete;
  RuncContainer& operator=(const RuncContainer&) = delete;

  // Runs the container to completion (foreground); returns its exit status.
  RunResult run_to_exit();
  // Starts it detached; returns its init pid (host view).
  pid_t start_detached();
  // runc exec ID <args>.
  RunResult exec(const std::vector<std::string>& args);
  const std::string& id() const { return opt_.id; }
  const std::string& bundle() const { return bundle_.path(); }
  pid_t init_pid() const { return pid_; }

 private:
  void write_config(bool detached);
  Options opt_;
  TempDir bundle_;
  pid_t pid_ = -1;
  bool created_ = false;
};

// Lowercase hex digits (a container id: 64).
std::string random_hex(size_t n);
// A Kubernetes pod uid (8-4-4-4-12 hex digits).
std::string random_pod_uid();
// Removes the cgroups runc leaves above a container's own (it deletes only
// the leaf), `rel` below each hierarchy's root; best effort.
void remove_parent_cgroups(const std::string& rel);

// A pod laid out as the kubelet's cgroupfs driver does (/kubepods/<qos>/pod<uid>,
// "besteffort" or "burstable"), its containers as containerd's CRI plugin runs
// them (runc id == the cgroup leaf, 64 hex digits). Removes the pod's cgroups
// on destruction: declare it before its containers.
class KubePod {
 public:
  explicit KubePod(const std::string& qos = "besteffort");
  ~KubePod();
  KubePod(const KubePod&) = delete;
  KubePod& operator=(const KubePod&) = delete;
  const std::string& uid() const { return uid_; }
  const std::string& cgroup() const { return cgroup_; }
  // A new container's id and cgroupsPath, no annotations.
  RuncContainer::Options leaf() const;
  // Same, with containerd's CRI annotations: container `name` of pod web-0 in
  // namespace shop.
  RuncContainer::Options container(const std::string& name = "nginx") const;

 private:
  std::string uid_, cgroup_;
};

// Restores a host sysctl to its value at construction (scope guard).
class SysctlGuard {
 public:
  explicit SysctlGuard(std::string dotted_name);
  ~SysctlGuard();
  void set(const std::string& value);
  const std::string& original() const { return orig_; }

 private:
  std::string path_, orig_;
};

std::string read_sysctl(const std::string& dotted_name);  // host netns, no trailing newline
// A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it).
int free_port();
// One JSON value per non-empty line.
std::vector<Json> json_lines(const std::string& text);

// The OTLP attributes docs/otlp.md promises for an event (its JSON line), in
// the line's order.
Json otlp_expected_attributes(const Json& e);

// Where cgroup2 is mounted (/sys/fs/cgroup or /sys/fs/cgroup/unified).
std::string cgroup2_mount();
// cgroup v2 id of a process (inode of its cgroup2 directory); 0 if unknown.
uint64_t cgroup_id_of_pid(pid_t pid);

// A scratch cgroup v2 child of the root, removed on destruction (after the
// processes in it have exited).
class ScratchCgroup {
 public:
  ScratchCgroup();
  ~ScratchCgroup();
  ScratchCgroup(const ScratchCgroup&) = delete;
  ScratchCgroup& operator=(const ScratchCgroup&) = delete;
  const std::string& path() const { return path_; }
  uint64_t id() const { return cgroup_id_of_path(path_); }

 private:
  std::string path_;
};

// A write that another cgroup/sysctl program refuses: sysctl_deny_run
// attaches the deny program (deny_sysctl.bpf.o) to `cg` and runs
// sysctl_opener, which writes 600 to net.ipv4.tcp_keepalive_time from a new
// netns and must see EPERM. The paths are the test target's (SYSCTL_DENY_RUN,
// SYSCTL_DENY_OBJ, SYSCTL_OPENER). Returns the tracer's sysctl_write of it.
struct DenyTools {
  std::string run, obj, opener;
};
std::optional<Json> write_refused_by_another_program(Tracer& t, const ScratchCgroup& cg,
                                                     const DenyTools& tools);

}  // namespace sstest
