// SPDX-License-Identifier: Apache-2.0
// Container attribution with the real runtimes' CLIs: Docker Engine, Podman
// and containerd (`ctr`), started by scripts/runtimes.sh (scripts/test.sh runs
// it before ctest; these tests run it too when a runtime is not up). Images
// come from a local import (no registry): sysctlscope-busybox:latest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {
const char* kKeepalive = "net.ipv4.tcp_keepalive_time";
const char* kImage = "sysctlscope-busybox:latest";
const char* kCtrImage = "docker.io/library/sysctlscope-busybox:latest";
const char* kCtrNs = "sysctlscope";
// Podman on this kind of VM cannot raise the default rlimits.
const char* kPodmanRun = "podman run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 ";

std::string random_name(const std::string& prefix) {
  std::random_device rd;
  std::string s = prefix;
  for (int i = 0; i < 8; ++i) s.push_back("0123456789abcdef"[rd() % 16]);
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool runtimes_up() {
  return sh("docker image inspect sysctlscope-busybox:latest && podman image exists "
            "sysctlscope-busybox:latest && ctr -n sysctlscope images ls -q | grep -q busybox")
             .status == 0;
}

// scripts/runtimes.sh start semantics: start what is not running (and leave
// it running for the other tests; test.sh stops what it started).
class RuntimesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (runtimes_up()) return;
    auto r = sh(std::string(SS_SOURCE_DIR) + "/scripts/runtimes.sh start");
    start_error_ = r.status == 0 ? "" : r.out + r.err;
  }
  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << "scripts/runtimes.sh start failed: " << start_error_;
    ASSERT_TRUE(runtimes_up()) << "Docker, Podman and containerd (with the image " << kImage
                               << ") must be up: run scripts/runtimes.sh start";
  }
  static inline std::string start_error_;
};

// A container removed (whatever its state) when the scope ends.
class Named {
 public:
  Named(std::string engine, std::string name) : engine_(std::move(engine)), name_(std::move(name)) {}
  ~Named() {
    if (engine_ == "ctr")
      sh(std::string("ctr -n ") + kCtrNs + " task kill -s KILL " + name_ + " ; sleep 0.2; ctr -n " +
         kCtrNs + " task rm -f " + name_ + " ; ctr -n " + kCtrNs + " containers rm " + name_);
    else
      sh(engine_ + " rm -f " + name_);
  }
  Named(const Named&) = delete;
  Named& operator=(const Named&) = delete;
  const std::string& name() const { return name_; }
  // The init's host pid (0 when not running).
  pid_t pid() const {
    std::string cmd = engine_ == "ctr" ? std::string("ctr -n ") + kCtrNs + " task ls | awk '$1==\"" +
                                             name_ + "\"{print $2}'"
                                       : engine_ + " inspect -f '{{.State.Pid}}' " + name_;
    auto r = sh(cmd);
    return r.status == 0 ? static_cast<pid_t>(std::atol(trim(r.out).c_str())) : 0;
  }

 private:
  std::string engine_, name_;
};

std::string full_id(const std::string& engine, const std::string& name) {
  return trim(sh(engine + " inspect -f '{{.Id}}' " + name).out);
}

// Reach-in from the host: only the container's netns changes (it dies with
// the container).
RunResult nsenter_write(pid_t pid, const std::string& value) {
  return sh("nsenter -t " + std::to_string(pid) + " -n sh -c 'echo " + value +
            " > /proc/sys/net/ipv4/tcp_keepalive_time'");
}

Json run_json(const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.status == 0 ? Json::parse(r.out) : Json();
}

const Json* diff_row(const Json& diff, const std::string& sysctl) {
  for (const auto& r : diff["rows"])
    if (r["sysctl"] == sysctl) return &r;
  return nullptr;
}

const Json* netns_entry(const Json& list, uint64_t inode) {
  for (const auto& n : list["namespaces"])
    if (n["netns"] == inode) return &n;
  return nullptr;
}
}  // namespace

// The seed scenario: a short-lived `docker run --rm`. Its netns is born with
// keepalive 7200 (the host has another value), its read carries the
// container's name although the container is gone when it is printed, and
// its write is refused by the read-only /proc/sys (EROFS).
TEST_F(RuntimesE2E, DockerRunRmSeedScenario) {
  SysctlGuard host_keepalive(kKeepalive);
  host_keepalive.set("7100");
  Tracer t({});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string name = random_name("sstest-seed-");
  Named c("docker", name);
  auto r = sh(std::string("docker run --rm --name ") + name + " " + kImage +
              " sh -c 'cat /proc/sys/net/ipv4/tcp_keepalive_time; echo 60 > "
              "/proc/sys/net/ipv4/tcp_keepalive_time; true'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "7200");
  auto blocked = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_blocked", kKeepalive) && e["container"].is_object() &&
           e["container"]["name"] == name;
  });
  ASSERT_TRUE(blocked) << t.stderr_text();
  usleep(200000);
  auto evs = t.stop();
  EXPECT_EQ((*blocked)["errno"], "EROFS");
  EXPECT_EQ((*blocked)["container"]["runtime"], "docker");
  const uint64_t cns = (*blocked)["netns"].get<uint64_t>();
  ASSERT_NE(cns, netns_of(0));

  auto reads = select(evs, [&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["netns"] == cns && e["proc"]["comm"] == "cat";
  });
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0]["container"]["name"], name);
  EXPECT_EQ(reads[0]["container"]["runtime"], "docker");
  EXPECT_EQ(reads[0]["container"]["id"].get<std::string>().size(), 64u);
  EXPECT_EQ(reads[0]["netns_container"]["name"], name);
  EXPECT_EQ(reads[0]["cross_namespace"], false);

  auto births = select(evs, [&](const Json& e) { return is_event(e, "netns_create") && e["netns"] == cns; });
  ASSERT_EQ(births.size(), 1u);
  EXPECT_EQ(births[0]["defaults"][kKeepalive], "7200");
  bool differs = false;
  for (const auto& d : births[0]["differs_from_host"])
    if (d["sysctl"] == kKeepalive) {
      differs = true;
      EXPECT_EQ(d["value"], "7200");
      EXPECT_EQ(d["host"], "7100");
    }
  EXPECT_TRUE(differs) << births[0].dump();
  // Never someone else's: the owner is this container or not known yet.
  if (births[0]["netns_container"].is_object()) {
    EXPECT_EQ(births[0]["netns_container"]["name"], name);
  }
}

// `docker run --sysctl`: runc writes the value into the new netns, from
// inside the container's cgroup, before the command runs.
TEST_F(RuntimesE2E, DockerRunSysctlIsTheContainersOwnWrite) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string name = random_name("sstest-sysctl-");
  Named c("docker", name);
  auto r = sh(std::string("docker run --rm --name ") + name + " --sysctl " + kKeepalive +
              "=321 " + kImage + " cat /proc/sys/net/ipv4/tcp_keepalive_time");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "321");
  auto w = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_write", kKeepalive) && e["value"] == "321";
  });
  ASSERT_TRUE(w) << t.stderr_text();
  t.stop();
  ASSERT_TRUE((*w)["container"].is_object()) << w->dump();
  EXPECT_EQ((*w)["container"]["name"], name);
  EXPECT_EQ((*w)["container"]["runtime"], "docker");
  EXPECT_EQ((*w)["netns_container"]["name"], name);
  EXPECT_EQ((*w)["cross_namespace"], false);
  EXPECT_NE((*w)["netns"], netns_of(0));
}

// Containers running before the tracer (the normal case on a node): a host
// process entering their netns is attributed to them, and `--container NAME`
// finds them; `netns list` and `diff NAME` name them too.
TEST_F(RuntimesE2E, ReachInsIntoDockerAndPodmanContainersOlderThanTheTracer) {
  const std::string dname = random_name("sstest-old-d-"), pname = random_name("sstest-old-p-");
  Named d("docker", dname), p("podman", pname);
  ASSERT_EQ(sh(std::string("docker run -d --name ") + dname + " " + kImage + " sleep 600").status, 0);
  ASSERT_EQ(sh(std::string(kPodmanRun) + "-d --name " + pname + " " + kImage + " sleep 600").status,
            0);
  const pid_t dpid = d.pid(), ppid = p.pid();
  ASSERT_GT(dpid, 0);
  ASSERT_GT(ppid, 0);
  const uint64_t dns = netns_of(dpid), pns = netns_of(ppid);

  // netns list: both named, Podman's as podman (not runc).
  Json list = run_json({"netns", "list", "-o", "json"});
  for (auto [ns, name, rt] : {std::tuple{dns, dname, "docker"}, std::tuple{pns, pname, "podman"}}) {
    const Json* n = netns_entry(list, ns);
    ASSERT_NE(n, nullptr) << list.dump();
    ASSERT_TRUE((*n)["container"].is_object()) << n->dump();
    EXPECT_EQ((*n)["container"]["name"], name);
    EXPECT_EQ((*n)["container"]["runtime"], rt);
    EXPECT_EQ((*n)["container"]["id"], full_id(rt, name));
  }

  Tracer t({"--sysctl", kKeepalive, "--container", dname, "--container", pname});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ASSERT_EQ(nsenter_write(dpid, "120").status, 0);
  ASSERT_EQ(nsenter_write(ppid, "130").status, 0);
  auto dw = t.wait_for([&](const Json& e) { return is_event(e, "sysctl_write") && e["netns"] == dns; });
  auto pw = t.wait_for([&](const Json& e) { return is_event(e, "sysctl_write") && e["netns"] == pns; });
  ASSERT_TRUE(dw && pw) << t.stderr_text();
  t.stop();
  for (auto [w, name, rt] : {std::tuple{*dw, dname, "docker"}, std::tuple{*pw, pname, "podman"}}) {
    EXPECT_TRUE(w["container"].is_null()) << w.dump();
    ASSERT_TRUE(w["netns_container"].is_object()) << w.dump();
    EXPECT_EQ(w["netns_container"]["name"], name);
    EXPECT_EQ(w["netns_container"]["runtime"], rt);
    EXPECT_EQ(w["cross_namespace"], true);
  }
  EXPECT_EQ((*dw)["value"], "120");

  // diff by name: the reach-in's value, against a fresh netns's.
  for (auto [name, rt, want] : {std::tuple{dname, "docker", "120"}, std::tuple{pname, "podman", "130"}}) {
    Json df = run_json({"diff", name, "-o", "json"});
    EXPECT_EQ(df["target"]["kind"], "container");
    EXPECT_EQ(df["target"]["container"]["name"], name);
    EXPECT_EQ(df["target"]["container"]["runtime"], rt);
    const Json* k = diff_row(df, kKeepalive);
    ASSERT_NE(k, nullptr) << df.dump();
    EXPECT_EQ((*k)["target"], want);
    EXPECT_EQ((*k)["verdict"], "changed");
  }
}

// Rapid churn: a `--rm` container exits and the next starts at once, often
// getting the freed netns inode. The new one's birth, its runc writes and a
// reach-in must never name the dead one.
TEST_F(RuntimesE2E, RapidChurnNeverNamesTheDeadContainer) {
  Tracer t({});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  struct Round {
    std::string dead, live;
    uint64_t dead_ns = 0, live_ns = 0;
    pid_t pid = 0;
  };
  std::vector<Round> rounds;
  std::vector<std::unique_ptr<Named>> keep;
  for (const std::string engine : {"docker", "podman", "docker"}) {
    Round r{random_name("sstest-churn-a-"), random_name("sstest-churn-b-")};
    const std::string run = engine == "podman" ? std::string(kPodmanRun) : "docker run ";
    keep.push_back(std::make_unique<Named>(engine, r.dead));
    auto a = sh(run + "--rm --name " + r.dead + " " + kImage + " ls -l /proc/self/ns/net");
    ASSERT_EQ(a.status, 0) << a.err;
    std::string ns = trim(a.out);  // "... net -> net:[N]"
    ASSERT_NE(ns.find('['), std::string::npos) << ns;
    r.dead_ns = std::stoull(ns.substr(ns.find('[') + 1));
    keep.push_back(std::make_unique<Named>(engine, r.live));
    ASSERT_EQ(sh(run + "-d --sysctl " + kKeepalive + "=555 --name " + r.live + " " + kImage +
                 " sleep 600")
                  .status,
              0);
    r.pid = keep.back()->pid();
    ASSERT_GT(r.pid, 0);
    r.live_ns = netns_of(r.pid);
    ASSERT_EQ(nsenter_write(r.pid, "556").status, 0);
    rounds.push_back(r);
  }
  for (const auto& r : rounds)
    ASSERT_TRUE(t.wait_for([&](const Json& e) {
      return is_event(e, "sysctl_write", kKeepalive) && e["netns"] == r.live_ns && e["value"] == "556";
    })) << t.stderr_text();
  auto evs = t.stop();
  int reused = 0;
  for (const auto& r : rounds) {
    reused += r.dead_ns == r.live_ns;
    bool birth = false, runc_write = false, reach_in = false;
    // The live container's namespace was born last with that inode: what
    // happened in the inode before (the dead one's life) is the dead one's.
    std::string born;
    for (const auto& e : evs)
      if (is_event(e, "netns_create") && e["netns"] == r.live_ns)
        born = std::max(born, e["time"].get<std::string>());
    ASSERT_FALSE(born.empty()) << "no netns_create for " << r.live;
    for (const auto& e : evs) {
      if (e["netns"] != r.live_ns || e["time"].get<std::string>() < born) continue;
      const Json& owner = e["netns_container"];
      if (owner.is_object()) {
        EXPECT_NE(owner["name"], r.dead) << "stale owner: " << e.dump();
      }
      if (is_event(e, "netns_create") && (e["container"].is_null() || e["container"]["name"] == r.live))
        birth = true;
      if (is_event(e, "sysctl_write", kKeepalive) && e["value"] == "555") {
        runc_write = true;
        EXPECT_EQ(e["container"]["name"], r.live) << e.dump();
        EXPECT_EQ(owner["name"], r.live) << e.dump();
      }
      if (is_event(e, "sysctl_write", kKeepalive) && e["value"] == "556") {
        reach_in = true;
        EXPECT_EQ(owner["name"], r.live) << e.dump();
        EXPECT_EQ(e["cross_namespace"], true);
      }
    }
    EXPECT_TRUE(birth && runc_write && reach_in) << r.live;
  }
  std::printf("netns inode reused in %d of %zu rounds\n", reused, rounds.size());
  // Without a reuse the stale-owner checks above had nothing to catch.
  EXPECT_GT(reused, 0) << "no netns inode was reused: the stale-owner path was not exercised";
}

// containerd through `ctr`, with the Kubernetes CRI annotations containerd's
// CRI plugin sets: pod, namespace and container name, for the container's own
// read and for a host reach-in, for a container older than the tracer.
TEST_F(RuntimesE2E, ContainerdCtrWithCriAnnotations) {
  const std::string id = random_name("sstest-ctr-");
  Named c("ctr", id);
  auto r = sh(std::string("ctr -n ") + kCtrNs +
              " run -d --annotation io.kubernetes.cri.container-type=container"
              " --annotation io.kubernetes.cri.sandbox-name=web-0"
              " --annotation io.kubernetes.cri.sandbox-namespace=shop"
              " --annotation io.kubernetes.cri.container-name=nginx " +
              kCtrImage + " " + id + " sleep 600");
  ASSERT_EQ(r.status, 0) << r.err;
  pid_t pid = 0;
  for (int i = 0; i < 50 && !(pid = c.pid()); ++i) usleep(100000);
  ASSERT_GT(pid, 0);
  const uint64_t cns = netns_of(pid);

  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto ex = sh(std::string("ctr -n ") + kCtrNs + " task exec --exec-id rd " + id +
               " cat /proc/sys/net/ipv4/tcp_keepalive_time");
  ASSERT_EQ(ex.status, 0) << ex.err;
  ASSERT_EQ(nsenter_write(pid, "140").status, 0);
  auto rd = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["netns"] == cns && e["container"].is_object();
  });
  auto w = t.wait_for([&](const Json& e) { return is_event(e, "sysctl_write") && e["netns"] == cns; });
  ASSERT_TRUE(rd && w) << t.stderr_text();
  t.stop();
  const Json& ct = (*rd)["container"];
  EXPECT_EQ(ct["id"], id);
  EXPECT_EQ(ct["runtime"], "containerd");
  EXPECT_EQ(ct["name"], "nginx");
  EXPECT_EQ(ct["pod"], "web-0");
  EXPECT_EQ(ct["namespace"], "shop");
  EXPECT_EQ((*rd)["cgroup"]["path"], std::string("/") + kCtrNs + "/" + id);
  EXPECT_EQ((*rd)["cross_namespace"], false);
  EXPECT_TRUE((*w)["container"].is_null());
  EXPECT_EQ((*w)["netns_container"], ct);
  EXPECT_EQ((*w)["cross_namespace"], true);
}

// Podman, born after the tracer: its name from containers storage, runtime
// podman; the table's CONTAINER column shows the name, and the netns_create
// row its inode and how its defaults differ from the host's.
TEST_F(RuntimesE2E, PodmanNamedInJsonAndTable) {
  SysctlGuard host_keepalive(kKeepalive);
  host_keepalive.set("7100");
  Tracer j({"--sysctl", kKeepalive});
  Tracer tab({}, {"trace", "-o", "table"});
  ASSERT_TRUE(j.wait_ready()) << j.stderr_text();
  ASSERT_TRUE(tab.wait_ready()) << tab.stderr_text();
  const std::string name = random_name("sstest-pod-");
  Named c("podman", name);
  auto r = sh(std::string(kPodmanRun) + "--rm --name " + name + " " + kImage +
              " cat /proc/sys/net/ipv4/tcp_keepalive_time");
  ASSERT_EQ(r.status, 0) << r.err;
  auto rd = j.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["proc"]["comm"] == "cat" &&
           e["container"].is_object() && e["container"]["name"] == name;
  });
  ASSERT_TRUE(rd) << j.stderr_text();
  j.stop();
  EXPECT_EQ((*rd)["container"]["runtime"], "podman");
  EXPECT_EQ((*rd)["netns_container"]["name"], name);
  const std::string ns = std::to_string((*rd)["netns"].get<uint64_t>());

  std::string text;
  for (int i = 0; i < 100; ++i) {
    usleep(50000);
    std::ifstream in(tab.stdout_path());
    text.assign(std::istreambuf_iterator<char>(in), {});
    if (text.find(" cat ") != std::string::npos && text.find("netns " + ns) != std::string::npos)
      break;
  }
  tab.terminate();
  bool read_row = false, birth_row = false;
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) {
    if (l.find(" cat ") != std::string::npos && l.find(kKeepalive) != std::string::npos &&
        l.find(" " + name + " ") != std::string::npos)
      read_row = true;
    if (l.find("netns_create") != std::string::npos && l.find("netns " + ns + " ") != std::string::npos) {
      birth_row = true;
      EXPECT_NE(l.find("differs from host: "), std::string::npos) << l;
      // The first three by name are spelled out, the rest counted.
      EXPECT_TRUE(l.find("net.ipv4.tcp_keepalive_time=7200 (host 7100)") != std::string::npos ||
                  l.find(" more") != std::string::npos)
          << l;
    }
  }
  EXPECT_TRUE(read_row) << text;
  EXPECT_TRUE(birth_row) << text;
}
