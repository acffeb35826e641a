// SPDX-License-Identifier: Apache-2.0
// The image built by scripts/image.sh, run by the real dockerd exactly as
// README and deploy/kubernetes run it (host PID and cgroup namespaces, four
// capabilities, read-only host mounts, no --privileged): it reports a
// sibling container's reads with the container's name, a host `nsenter`
// write into that container as cross_namespace, and on `docker stop` exits
// 0 with none of its BPF programs or links left in the kernel.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace sstest;
using namespace std::chrono_literals;

namespace {
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string rand_name(const std::string& prefix) {
  return prefix + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr) % 100000);
}

// `docker rm -f` on destruction, even when the test failed.
struct DockerContainer {
  std::string name;
  ~DockerContainer() { sh("docker rm -f " + name + " >/dev/null 2>&1"); }
};

// BPF objects held open by `pid`: "prog_id:" / "link_id:" lines of its fds'
// fdinfo (Debian's bpftool lists no owning pids).
std::set<uint64_t> bpf_ids_of(const std::string& kind, pid_t pid) {
  std::set<uint64_t> ids;
  auto r = sh("cat /proc/" + std::to_string(pid) + "/fdinfo/* 2>/dev/null");
  std::istringstream in(r.out);
  std::string key;
  const std::string want = kind + "_id:";
  while (in >> key)
    if (key == want) {
      uint64_t id = 0;
      in >> id;
      ids.insert(id);
    }
  return ids;
}

}  // namespace

TEST(Image, RunsUnderDockerLikeTheDaemonSet) {
  auto up = sh(std::string(SS_SOURCE_DIR) + "/scripts/runtimes.sh start");
  ASSERT_EQ(up.status, 0) << up.out << up.err;
  auto img = run({std::string(SS_SOURCE_DIR) + "/scripts/image.sh", binary(), "sysctlscope:latest"});
  ASSERT_EQ(img.status, 0) << img.out << img.err;
  // No shell, no compiler: the binary, its libraries, the loader.
  auto files = sh("docker create sysctlscope:latest >/tmp/sstest-img-id && "
                  "docker export $(cat /tmp/sstest-img-id) | tar -t; "
                  "docker rm $(cat /tmp/sstest-img-id) >/dev/null");
  EXPECT_NE(files.out.find("usr/bin/sysctlscope"), std::string::npos) << files.out;
  for (const char* absent : {"bin/sh", "usr/bin/gcc", "usr/bin/cc", "usr/bin/apt"})
    EXPECT_EQ(files.out.find(std::string(absent) + "\n"), std::string::npos) << absent;

  DockerContainer agent{rand_name("sstest-agent-")};
  // The documented line (docs/deploy.md). Docker < 23 (Debian 12 has 20.10) rejects the names
  // BPF and PERFMON ("unknown capability"); CAP_SYS_ADMIN stands for both in
  // the kernel, so the same line without them is what such an engine runs.
  std::string caps = " --cap-add BPF --cap-add PERFMON --cap-add SYS_ADMIN --cap-add SYS_PTRACE";
  const std::string rest =
      " --security-opt apparmor=unconfined --security-opt"
      " seccomp=unconfined -v /sys/fs/cgroup:/sys/fs/cgroup:ro -v"
      " /sys/kernel/btf:/sys/kernel/btf:ro -v /run:/run:ro -v"
      " /var/lib/docker:/var/lib/docker:ro -v /var/lib/containers:/var/lib/containers:ro"
      " sysctlscope:latest trace -o json";
  const std::string head = "docker run -d --name " + agent.name + " --pid=host --cgroupns=host";
  auto r = sh(head + caps + rest);
  if (r.status != 0 && r.err.find("unknown capability: \"CAP_BPF\"") != std::string::npos) {
    std::printf("[ note ] this dockerd does not know CAP_BPF/CAP_PERFMON: SYS_ADMIN covers them\n");
    sh("docker rm -f " + agent.name + " >/dev/null 2>&1");
    caps = " --cap-add SYS_ADMIN --cap-add SYS_PTRACE";
    r = sh(head + caps + rest);
  }
  ASSERT_EQ(r.status, 0) << r.err;
  bool ready = false;
  std::string err;
  for (int i = 0; i < 600 && !ready; ++i) {
    auto logs = sh("docker logs " + agent.name + " 2>&1 >/dev/null");
    err = logs.out;
    ready = err.find("Tracing sysctl activity") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << err;
  const pid_t agent_pid =
      std::stoi(trim(sh("docker inspect -f '{{.State.Pid}}' " + agent.name).out));

  // A sibling container reads; a host process enters its netns and writes.
  DockerContainer sib{rand_name("sstest-sib-")};
  r = sh("docker run -d --name " + sib.name + " sysctlscope-busybox:latest sleep 3600");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string sib_id = trim(sh("docker inspect -f '{{.Id}}' " + sib.name).out);
  const std::string sib_pid = trim(sh("docker inspect -f '{{.State.Pid}}' " + sib.name).out);
  r = sh("docker exec " + sib.name + " cat /proc/sys/net/ipv4/tcp_keepalive_time");
  ASSERT_EQ(r.status, 0) << r.err;
  r = sh("nsenter -t " + sib_pid +
         " -n sh -c 'echo 601 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  ASSERT_EQ(r.status, 0) << r.err;

  std::vector<Json> evs;
  std::optional<Json> read, write;
  for (int i = 0; i < 100 && !(read && write); ++i) {
    std::this_thread::sleep_for(200ms);
    evs = json_lines(sh("docker logs " + agent.name + " 2>/dev/null").out);
    for (const auto& e : evs) {
      if (is_event(e, "sysctl_read", "net.ipv4.tcp_keepalive_time") && e["container"].is_object() &&
          e["container"]["id"] == sib_id)
        read = e;
      if (is_event(e, "sysctl_write", "net.ipv4.tcp_keepalive_time") && e["value"] == "601")
        write = e;
    }
  }
  ASSERT_TRUE(read) << sh("docker logs " + agent.name + " 2>&1 | tail -20").out;
  EXPECT_EQ((*read)["container"]["runtime"], "docker");
  EXPECT_EQ((*read)["container"]["name"], sib.name);
  EXPECT_EQ((*read)["cross_namespace"], false);
  ASSERT_TRUE(write);
  EXPECT_TRUE((*write)["container"].is_null()) << *write;
  ASSERT_TRUE((*write)["netns_container"].is_object()) << *write;
  EXPECT_EQ((*write)["netns_container"]["id"], sib_id);
  EXPECT_EQ((*write)["netns_container"]["name"], sib.name);
  EXPECT_EQ((*write)["cross_namespace"], true);
  EXPECT_EQ((*write)["netns"], std::stoull(trim(sh("stat -L -c %i /proc/" + sib_pid + "/ns/net").out)));
  EXPECT_EQ((*write)["result"], "ok") << *write;

  // What the agent holds in the kernel, then `docker stop`.
  const auto progs = bpf_ids_of("prog", agent_pid), links = bpf_ids_of("link", agent_pid);
  EXPECT_FALSE(progs.empty());
  EXPECT_FALSE(links.empty());
  r = sh("docker stop -t 20 " + agent.name);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(sh("docker inspect -f '{{.State.ExitCode}}' " + agent.name).out), "0")
      << sh("docker logs " + agent.name + " 2>&1 | tail -5").out;
  for (auto id : progs)
    EXPECT_NE(sh("bpftool prog show id " + std::to_string(id)).status, 0) << "prog " << id;
  for (auto id : links)
    EXPECT_NE(sh("bpftool link show id " + std::to_string(id)).status, 0) << "link " << id;
  auto cg = sh("bpftool -j cgroup show " + cgroup2_mount());
  if (cg.status == 0 && !trim(cg.out).empty()) {
    for (const auto& a : Json::parse(cg.out)) {
      EXPECT_EQ(progs.count(a["id"].get<uint64_t>()), 0u) << "still attached: " << a;
    }
  }
}
