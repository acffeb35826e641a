// SPDX-License-Identifier: Apache-2.0
// Container attribution with real runc containers laid out like Docker and
// the kubelet (cgroupsPath + CRI annotations), plain runc, a host process
// reaching into a container's netns, and a cgroup born after the tracer.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {
const char* kKeepalive = "net.ipv4.tcp_keepalive_time";

bool is_read_in(const Json& e, uint64_t cgid) {
  return is_event(e, "sysctl_read", kKeepalive) && e["cgroup"]["id"] == cgid;
}
}  // namespace

// Docker's cgroupfs layout, short-lived: the cgroup is gone before userspace
// handles the events; the cgroup_mkdir record still names it.
TEST(ContainersE2E, DockerCgroupfsPathShortLived) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string id = random_hex(64);
  RuncContainer::Options o;
  o.id = "sstest-" + random_hex(8);
  o.cgroups_path = "/docker/" + id;
  o.args = {"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"};
  RuncContainer c(o);
  auto r = c.run_to_exit();
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["cgroup"]["path"] == "/docker/" + id;
  });
  ASSERT_TRUE(ev) << t.stderr_text();
  t.stop();
  ASSERT_TRUE((*ev)["container"].is_object()) << ev->dump();
  EXPECT_EQ((*ev)["container"]["id"], id);
  EXPECT_EQ((*ev)["container"]["runtime"], "docker");
  EXPECT_TRUE((*ev)["container"]["pod"].is_null());
  EXPECT_TRUE((*ev)["container"]["pod_uid"].is_null());
  // The cat ran in the container's own netns: it owns it, no crossing.
  EXPECT_NE((*ev)["netns"], netns_of(0));
  EXPECT_EQ((*ev)["netns_container"]["id"], id);
  EXPECT_EQ((*ev)["cross_namespace"], false);
}

// The kubelet's cgroupfs layout with containerd's CRI annotations.
TEST(ContainersE2E, KubepodsBesteffortWithCriAnnotations) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  KubePod pod;
  const RuncContainer::Options o = pod.container("nginx");
  const std::string& id = o.id;
  {
    RuncContainer c(o);
    pid_t init = c.start_detached();
    ASSERT_GT(init, 0);
    const uint64_t cgid = cgroup_id_of_pid(init);
    ASSERT_NE(cgid, 0u);
    auto r = c.exec({"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto ev = t.wait_for([&](const Json& e) { return is_read_in(e, cgid); });
    ASSERT_TRUE(ev) << t.stderr_text();
    t.stop();
    EXPECT_EQ((*ev)["cgroup"]["path"], o.cgroups_path);
    const Json& ct = (*ev)["container"];
    ASSERT_TRUE(ct.is_object()) << ev->dump();
    EXPECT_EQ(ct["id"], id);
    EXPECT_EQ(ct["runtime"], "containerd");
    EXPECT_EQ(ct["name"], "nginx");
    EXPECT_EQ(ct["pod"], "web-0");
    EXPECT_EQ(ct["namespace"], "shop");
    EXPECT_EQ(ct["pod_uid"], pod.uid());
    EXPECT_EQ((*ev)["netns_container"], ct);
    EXPECT_EQ((*ev)["cross_namespace"], false);
  }
}

TEST(ContainersE2E, PlainRuncRunResolvesToItsName) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cgid = cgroup_id_of_pid(init);
  auto r = c.exec({"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([&](const Json& e) { return is_read_in(e, cgid); });
  ASSERT_TRUE(ev) << t.stderr_text();
  t.stop();
  EXPECT_EQ((*ev)["cgroup"]["path"], "/" + c.id());
  ASSERT_TRUE((*ev)["container"].is_object()) << ev->dump();
  EXPECT_EQ((*ev)["container"]["id"], c.id());
  EXPECT_EQ((*ev)["container"]["runtime"], "runc");
  EXPECT_TRUE((*ev)["container"]["pod"].is_null());
  EXPECT_EQ((*ev)["netns"], netns_of(init));
  EXPECT_EQ((*ev)["netns_container"]["id"], c.id());
  EXPECT_EQ((*ev)["cross_namespace"], false);
}

// The host-into-container signal: a host process writes a net sysctl in the
// container's netns (nothing ran in the container before: the owner comes
// from runc's state, init pid -> netns).
TEST(ContainersE2E, HostNsenterWriteIntoContainerNetnsIsCrossNamespace) {
  Tracer t({"--sysctl", "net.ipv4.tcp_syncookies"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cns = netns_of(init);
  ASSERT_NE(cns, netns_of(0));
  // Only the container's netns changes (it dies with the container).
  auto r = sh("nsenter -t " + std::to_string(init) +
              " -n sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_syncookies'");
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.tcp_syncookies") && e["netns"] == cns;
  });
  ASSERT_TRUE(ev) << t.stderr_text();
  t.stop();
  EXPECT_TRUE((*ev)["container"].is_null()) << ev->dump();
  ASSERT_TRUE((*ev)["netns_container"].is_object()) << ev->dump();
  EXPECT_EQ((*ev)["netns_container"]["id"], c.id());
  EXPECT_EQ((*ev)["netns_container"]["runtime"], "runc");
  EXPECT_EQ((*ev)["cross_namespace"], true);
}

// A cgroup created after the tracer started, used and removed at once: its
// path comes from the cgroup_mkdir record (a walk would not find it).
TEST(ContainersE2E, CgroupBornAfterStartResolvesOnFirstEvent) {
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string name = "sstest-cg-" + random_hex(8);
  const std::string dir = cgroup2_mount() + "/" + name;
  auto r =
      sh("mkdir " + dir + " && sh -c 'echo $$ > " + dir +
         "/cgroup.procs && cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null && echo $$ > " +
         cgroup2_mount() + "/cgroup.procs' && rmdir " + dir);
  ASSERT_EQ(r.status, 0) << r.err;
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["cgroup"]["path"] == "/" + name;
  });
  ASSERT_TRUE(ev) << t.stderr_text();
  t.stop();
  EXPECT_EQ((*ev)["proc"]["comm"], "cat");
  EXPECT_TRUE((*ev)["container"].is_null());
  EXPECT_EQ((*ev)["netns_container"], nullptr) << "host netns";
  EXPECT_EQ((*ev)["cross_namespace"], false);
}

// --container ID-prefix --host: host processes acting in that container's
// netns, not the container's own activity.
TEST(ContainersE2E, ContainerAndHostFiltersKeepOnlyTheReachIn) {
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cns = netns_of(init);
  Tracer t({"--sysctl", "net.ipv4.tcp_syncookies", "--container", c.id().substr(0, 10), "--host"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto in = c.exec({"cat", "/proc/sys/net/ipv4/tcp_syncookies"});
  ASSERT_EQ(in.status, 0) << in.err;
  auto host_own = sh("cat /proc/sys/net/ipv4/tcp_syncookies");  // host netns: not the container's
  ASSERT_EQ(host_own.status, 0);
  auto r = sh("nsenter -t " + std::to_string(init) + " -n cat /proc/sys/net/ipv4/tcp_syncookies");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return e["netns"] == cns && e["proc"]["comm"] == "cat";
  })) << t.stderr_text();
  // Let the container's own read (handled before or after) reach the output too.
  usleep(300000);
  auto evs = select(t.stop(), [](const Json& e) {
    return is_event(e, "sysctl_read", "net.ipv4.tcp_syncookies");
  });
  ASSERT_EQ(evs.size(), 1u) << "only the host process reaching in";
  EXPECT_EQ(evs[0]["netns"], cns);
  EXPECT_TRUE(evs[0]["container"].is_null());
  EXPECT_EQ(evs[0]["netns_container"]["id"], c.id());
  EXPECT_EQ(evs[0]["cross_namespace"], true);
}

// Table output: the short container id (12 chars) of an unnamed container, and the pod.
TEST(ContainersE2E, TableShowsShortIdAndPod) {
  Tracer t({"--sysctl", kKeepalive}, {"trace", "-o", "table"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  KubePod pod("burstable");
  RuncContainer::Options o = pod.leaf();
  const std::string& id = o.id;
  // No container name: the column shows the short id (a name would win).
  o.annotations = {{"io.kubernetes.pod.name", "db-1"}, {"io.kubernetes.pod.namespace", "data"}};
  std::string text;
  {
    RuncContainer c(o);
    ASSERT_GT(c.start_detached(), 0);
    ASSERT_EQ(c.exec({"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"}).status, 0);
    for (int i = 0; i < 100 && text.find("pod=") == std::string::npos; ++i) {
      usleep(50000);
      std::ifstream in(t.stdout_path());
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    t.terminate();
  }
  std::istringstream lines(text);
  bool found = false;
  for (std::string l; std::getline(lines, l);) {
    if (l.find(" cat ") == std::string::npos || l.find(kKeepalive) == std::string::npos) continue;
    if (l.find(id.substr(0, 12) + " ") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(l.find(id.substr(0, 13)), std::string::npos) << "12 characters only: " << l;
    EXPECT_NE(l.find("pod=data/db-1"), std::string::npos) << l;
  }
  EXPECT_TRUE(found) << text;
}

// --container with a running container's full id is applied in the kernel
// (its cgroup subtree or its netns): activity elsewhere never reaches the ring
// buffer, while the container's own reads and a host reach-in still do.
TEST(ContainersE2E, ContainerFilterByFullIdRunsInTheKernel) {
  RuncContainer c({});
  pid_t init = c.start_detached();
  ASSERT_GT(init, 0);
  const uint64_t cns = netns_of(init), cgid = cgroup_id_of_pid(init);
  Tracer t({"--sysctl", "net.ipv4.tcp_syncookies", "--container", c.id()},
           {"-v", "trace", "-o", "json"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  EXPECT_NE(t.stderr_text().find("--container in the kernel: 1 cgroup subtree(s), 1 netns"),
            std::string::npos)
      << t.stderr_text();
  // 500 reads in a scratch netns of the host: not the container's.
  auto noise =
      sh("unshare -n sh -c 'for i in $(seq 500); do cat /proc/sys/net/ipv4/tcp_syncookies; done' "
         ">/dev/null");
  ASSERT_EQ(noise.status, 0) << noise.err;
  ASSERT_EQ(c.exec({"cat", "/proc/sys/net/ipv4/tcp_syncookies"}).status, 0);
  auto r = sh("nsenter -t " + std::to_string(init) + " -n cat /proc/sys/net/ipv4/tcp_syncookies");
  ASSERT_EQ(r.status, 0) << r.err;
  auto is_read = [&](const Json& e) {
    return is_event(e, "sysctl_read", "net.ipv4.tcp_syncookies");
  };
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return is_read(e) && e["cgroup"]["id"] == cgid; }))
      << t.stderr_text();
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return is_read(e) && e["cross_namespace"] == true; }))
      << t.stderr_text();
  auto evs = select(t.stop(), is_read);
  ASSERT_EQ(evs.size(), 2u);
  for (const auto& e : evs) {
    EXPECT_EQ(e["netns"], cns);
    EXPECT_EQ(e["netns_container"]["id"], c.id());
  }
  // Fewer records than the noise: the kernel dropped it (other helpers' cgroup
  // records still arrive, but nowhere near 500 in these few seconds).
  const std::string err = t.stderr_text();
  auto at = err.find(" records from the kernel");
  ASSERT_NE(at, std::string::npos) << err;
  const size_t from = err.rfind(' ', at - 1) + 1;
  EXPECT_LT(std::stoul(err.substr(from, at - from)), 500u) << err;
}

// A name (or a short prefix) cannot be exact in the kernel (a later container
// may take it): userspace filters, and says so with -v.
TEST(ContainersE2E, ContainerFilterByNameStaysInUserspace) {
  Tracer t({"--sysctl", "net.ipv4.tcp_syncookies", "--container", "no-such-container-name"},
           {"-v", "trace", "-o", "json"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  EXPECT_NE(t.stderr_text().find(
                "--container in userspace only: no running container has the id or id prefix "
                "'no-such-container-name'"),
            std::string::npos)
      << t.stderr_text();
  t.stop();
}

// A process in the cgroup v2 root whose v1 cgroups are a Docker container's
// (what a v1 host looks like): the container comes from its v1 paths. This
// host is hybrid, so a v1-only placement is made by hand in the pids
// hierarchy.
TEST(ContainersE2E, ProcessOnlyInV1CgroupsResolvesFromItsV1Path) {
  const std::string v1 = "/sys/fs/cgroup/pids";
  struct stat st {};
  ASSERT_EQ(::stat((v1 + "/cgroup.procs").c_str(), &st), 0) << "this host has a v1 pids hierarchy";
  Tracer t({"--sysctl", kKeepalive});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string id = random_hex(64), dir = v1 + "/docker/" + id;
  TempDir tmp;
  const std::string pidfile = tmp.path() + "/pid";
  auto r = sh("mkdir -p " + dir + " && sh -c 'echo $$ > " + cgroup2_mount() +
              "/cgroup.procs && echo $$ > " + dir + "/cgroup.procs && echo $$ > " + pidfile +
              " && cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null && sleep 1'");
  ::rmdir(dir.c_str());
  ::rmdir((v1 + "/docker").c_str());  // best effort: other tests may use it
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(pidfile);
  int shpid = 0;
  in >> shpid;
  ASSERT_GT(shpid, 0);
  auto ev = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", kKeepalive) && e["proc"]["ppid"] == shpid &&
           e["proc"]["comm"] == "cat";
  });
  ASSERT_TRUE(ev) << t.stderr_text();
  t.stop();
  EXPECT_EQ((*ev)["cgroup"]["path"], "/");
  ASSERT_TRUE((*ev)["container"].is_object()) << ev->dump();
  EXPECT_EQ((*ev)["container"]["id"], id);
  EXPECT_EQ((*ev)["container"]["runtime"], "docker");
  // Same netns as the host: a container acting in the host netns.
  EXPECT_TRUE((*ev)["netns_container"].is_null());
  EXPECT_EQ((*ev)["cross_namespace"], true);
}

// A Kubernetes pod as containerd lays it out: the sandbox (pause) container
// holds the netns, the app container joins it. runc applies the app's
// linux.sysctl from its init, in the shared netns: that write is the app's
// (container), in the sandbox's netns (netns_container), and not
// cross-namespace (same pod).
TEST(ContainersE2E, PodNetnsBelongsToTheSandboxNotTheAppContainer) {
  KubePod pod;
  const std::string& uid = pod.uid();
  const Json pod_ann = {{"io.kubernetes.cri.sandbox-name", "web-0"},
                        {"io.kubernetes.cri.sandbox-namespace", "shop"},
                        {"io.kubernetes.cri.sandbox-uid", uid}};
  {
    RuncContainer::Options so = pod.leaf();
    so.annotations = pod_ann;
    so.annotations["io.kubernetes.cri.container-type"] = "sandbox";
    RuncContainer sandbox(so);
    pid_t spid = sandbox.start_detached();
    ASSERT_GT(spid, 0);
    // The tracer starts after the sandbox: it learns the pod from the files.
    Tracer t({"--type", "sysctl_write"});
    ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
    RuncContainer::Options ao = pod.leaf();
    ao.annotations = pod_ann;
    ao.annotations["io.kubernetes.cri.container-type"] = "container";
    ao.annotations["io.kubernetes.cri.container-name"] = "nginx";
    ao.netns_path = "/proc/" + std::to_string(spid) + "/ns/net";
    ao.sysctl = {{"net.ipv4.tcp_keepalive_time", "620"}};
    RuncContainer app(ao);
    pid_t apid = app.start_detached();
    ASSERT_GT(apid, 0);
    ASSERT_EQ(netns_of(apid), netns_of(spid));
    auto ev = t.wait_for([&](const Json& e) {
      return is_event(e, "sysctl_write", kKeepalive) && e["value"] == "620" &&
             e["netns"] == netns_of(spid);
    });
    ASSERT_TRUE(ev) << t.stderr_text();
    t.stop();
    ASSERT_TRUE((*ev)["container"].is_object()) << ev->dump();
    EXPECT_EQ((*ev)["container"]["id"], ao.id);
    // From the cgroup path. The app's name comes from runc's state.json,
    // which may not exist yet while runc init applies linux.sysctl
    // (docs/events.md): not asserted here.
    EXPECT_EQ((*ev)["container"]["pod_uid"], uid);
    ASSERT_TRUE((*ev)["netns_container"].is_object()) << ev->dump();
    EXPECT_EQ((*ev)["netns_container"]["id"], so.id);
    EXPECT_EQ((*ev)["netns_container"]["pod"], "web-0");
    EXPECT_EQ((*ev)["netns_container"]["namespace"], "shop");
    EXPECT_EQ((*ev)["cross_namespace"], false);
    EXPECT_EQ((*ev)["result"], "ok") << "read back in the pod's netns";
  }
}
