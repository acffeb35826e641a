// SPDX-License-Identifier: Apache-2.0
// --container as the kernel sees it (cgroup subtrees + netns of running
// containers), and the cgroup v1 fallback for processes in the v2 root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "enrich/enricher.hpp"
#include "fakes.hpp"

using namespace sysctlscope;

namespace {
const std::string A = "aaaaaaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdef0123";  // 64 hex
const std::string B = "bbbbbbbbbbbb0123456789abcdef0123456789abcdef0123456789abcdef0123";

using Dir = sstest::FileTree;

EnricherConfig config(const Dir& d) {
  EnricherConfig cfg;
  cfg.meta.runc_roots = {d.str() + "/runc", d.str() + "/moby"};
  cfg.meta.docker_root = d.str() + "/docker";
  cfg.meta.containerd_runc_root = d.str() + "/containerd-runc";
  cfg.meta.containerd_task_root = d.str() + "/containerd-task";
  cfg.meta.containers_storage = d.str() + "/storage";
  cfg.proc_root = d.str() + "/proc";
  cfg.host_netns = 1000;
  cfg.grace_ns = 0;
  return cfg;
}

CgroupChange born(uint64_t id, std::string path) {
  return CgroupChange{false, id, 1, std::move(path), 0};
}

// Container `id` with init pid `pid` in runc root `root`; returns its netns.
uint32_t running(const Dir& d, const std::string& root, const std::string& id, int pid) {
  d.write(root + "/" + id + "/state.json", "{\"init_process_pid\":" + std::to_string(pid) + "}");
  d.write("proc/" + std::to_string(pid) + "/ns/net", "");
  return d.ino("proc/" + std::to_string(pid) + "/ns/net");
}
}  // namespace

TEST(KernelContainerFilter, FullIdOrLongPrefixGivesSubtreesAndNetns) {
  Dir d;
  const uint32_t nsa = running(d, "moby", A, 41), nsb = running(d, "runc", "web", 42);
  d.write("docker/containers/" + A + "/config.v2.json", R"({"Name":"/shop"})");
  ContainerEnricher en(config(d));
  en.on_cgroup(born(1, "/docker"));
  en.on_cgroup(born(10, "/docker/" + A));
  en.on_cgroup(born(11, "/docker/" + A + "/inner"));  // below: covered by its parent
  en.on_cgroup(born(20, "/web"));
  en.on_cgroup(born(30, "/system.slice/docker-" + B + ".scope"));  // no state: netns unknown

  std::string why;
  auto f = en.kernel_filter_for({A}, 8, &why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->cgroups, (std::vector<std::pair<uint64_t, uint32_t>>{{10, 2}}));
  EXPECT_EQ(f->netns, std::vector<uint32_t>{nsa});
  EXPECT_EQ(f->ids, std::vector<std::string>{A});

  f = en.kernel_filter_for({A.substr(0, 12), "web"}, 8, &why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->cgroups.size(), 2u);
  EXPECT_EQ(f->netns, (std::vector<uint32_t>{nsa, nsb}));

  // Userspace only, with the reason.
  EXPECT_FALSE(en.kernel_filter_for({"shop"}, 8, &why));
  EXPECT_EQ(why, "'shop' is a container name");
  EXPECT_FALSE(en.kernel_filter_for({A.substr(0, 11)}, 8, &why));
  EXPECT_EQ(why, "no running container has the id or id prefix '" + A.substr(0, 11) + "'");
  EXPECT_FALSE(en.kernel_filter_for({B}, 8, &why));
  EXPECT_EQ(why, "the network namespace of " + B + " is unknown");
  EXPECT_FALSE(en.kernel_filter_for({A, "web"}, 1, &why));
  EXPECT_EQ(why, "more than 1 cgroups or network namespaces");
}

TEST(KernelContainerFilter, HostNetworkContainerNeedsNoNetns) {
  Dir d;
  running(d, "runc", "hostnet", 43);
  auto cfg = config(d);
  cfg.host_netns = d.ino("proc/43/ns/net");  // its init is in the host netns
  ContainerEnricher en(cfg);
  en.on_cgroup(born(5, "/hostnet"));
  std::string why;
  auto f = en.kernel_filter_for({"hostnet"}, 8, &why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->cgroups, (std::vector<std::pair<uint64_t, uint32_t>>{{5, 1}}));
  EXPECT_TRUE(f->netns.empty());
}

// A process in the v2 root whose v1 cgroups are a container's (v1 host):
// resolved from /proc/<pid>/cgroup, or its parent's once it has exited.
TEST(ContainerEnricherV1, ProcessInV2RootResolvedFromV1Paths) {
  Dir d;
  d.write("proc/50/cgroup", "12:pids:/docker/" + A + "\n3:cpu,cpuacct:/docker/" + A + "\n0::/\n");
  d.write("proc/60/cgroup", "12:pids:/\n1:name=systemd:/user.slice\n0::/\n");
  d.write("proc/70/cgroup",
          "4:memory:/kubepods/besteffort/pod6b5cf7a2-3d4e-4f10-9a8b-7c6d5e4f3a21/" + B + "\n");
  d.write("docker/containers/" + A + "/config.v2.json", R"({"Name":"/shop"})");
  auto cfg = config(d);
  cfg.v1_fallback = true;
  ContainerEnricher en(cfg);
  en.on_cgroup(born(1, "/"));
  auto event = [](uint32_t pid, uint32_t ppid) {
    Event e;
    e.cgroup_id = 1;
    e.pid = pid;
    e.ppid = ppid;
    return e;
  };
  Event in = event(50, 1);
  en.enrich(in);
  EXPECT_EQ(in.cgroup_path, "/");
  ASSERT_TRUE(in.container);
  EXPECT_EQ(*in.container, (ContainerInfo{A, Runtime::Docker, "shop", "", "", ""}));

  Event exited_child = event(51, 50);  // no /proc/51: its parent's cgroups
  en.enrich(exited_child);
  ASSERT_TRUE(exited_child.container);
  EXPECT_EQ(exited_child.container->id, A);

  Event host = event(60, 1);
  en.enrich(host);
  EXPECT_FALSE(host.container);

  Event pod = event(70, 1);
  en.enrich(pod);
  ASSERT_TRUE(pod.container);
  EXPECT_EQ(pod.container->id, B);
  EXPECT_EQ(pod.container->pod_uid, "6b5cf7a2-3d4e-4f10-9a8b-7c6d5e4f3a21");

  Event gone = event(80, 81);  // neither exists: host, no crash
  en.enrich(gone);
  EXPECT_FALSE(gone.container);

  // Cached per process: the file is not read again.
  std::filesystem::remove(d.dir / "proc/50/cgroup");
  Event again = event(50, 1);
  en.enrich(again);
  ASSERT_TRUE(again.container);
  EXPECT_EQ(again.container->id, A);

  // Off (pure v2 host): the v2 root is the host.
  cfg.v1_fallback = false;
  ContainerEnricher v2only(cfg);
  v2only.on_cgroup(born(1, "/"));
  Event e70 = event(70, 1);
  v2only.enrich(e70);
  EXPECT_FALSE(e70.container);
}

TEST(ContainerEnricherV1, DetectedFromOwnCgroupFile) {
  Dir d;
  d.write("proc/self/cgroup", "0::/\n");
  d.write("proc/70/cgroup", "4:memory:/docker/" + A + "\n");
  auto cfg = config(d);
  {
    ContainerEnricher en(cfg);
    en.on_cgroup(born(1, "/"));
    Event e;
    e.cgroup_id = 1;
    e.pid = 70;
    en.enrich(e);
    EXPECT_FALSE(e.container) << "pure v2 host: no fallback";
  }
  d.write("proc/self/cgroup", "12:pids:/\n0::/\n");
  ContainerEnricher en(cfg);
  en.on_cgroup(born(1, "/"));
  Event e;
  e.cgroup_id = 1;
  e.pid = 70;
  en.enrich(e);
  ASSERT_TRUE(e.container) << "hybrid host";
  EXPECT_EQ(e.container->id, A);
}

// A cgroup doomed twice (rmdir record, then a re-scan that no longer finds
// it) is evicted once, at the first due time.
TEST(CgroupPathsEviction, DoomedOnceKeepsFirstDueTime) {
  CgroupPaths p("", 1000);
  p.learn(7, "/x");
  p.forget_later(7, 100);
  p.forget_later(7, 5000);
  EXPECT_EQ(p.evict(1100), std::vector<uint64_t>{7});
  EXPECT_EQ(p.find(7), nullptr);
  p.learn(7, "/x");  // learnt again later (ids are not reused; a test of bookkeeping)
  EXPECT_TRUE(p.evict(10000).empty()) << "no stale entry left behind";
  EXPECT_NE(p.find(7), nullptr);
}

// The kernel filter needs each container's init pid, which only runc's
// state.json has: it reads that file alone, not the names and annotations
// (Docker's config.v2.json, Podman's containers.json, the bundle) again.
TEST(KernelContainerFilter, ReadsOnlyTheRuncState) {
  Dir d;
  const uint32_t nsa = running(d, "moby", A, 41);
  d.write("docker/containers/" + A + "/config.v2.json", R"({"Name":"/shop"})");
  d.write("runc/pod1/state.json", R"({"init_process_pid":42,"config":{"labels":["bundle=)" +
                                      d.str() + R"(/bundle","io.container.manager=libpod"]}})");
  d.write("bundle/config.json", R"({"annotations":{}})");
  d.write("proc/42/ns/net", "");
  d.write("storage/overlay-containers/containers.json", R"([{"id":"pod1","names":["db"]}])");
  ContainerEnricher en(config(d));
  en.on_cgroup(born(10, "/docker/" + A));
  en.on_cgroup(born(20, "/pod1"));
  ASSERT_EQ(en.container_of(20)->name, "db");

  sstest::OpenWatch w;
  for (const std::string& dir :
       std::vector<std::string>{"docker/containers/" + A, "storage/overlay-containers", "bundle",
                                "moby/" + A, "runc/pod1"})
    w.watch(d.str() + "/" + dir);
  std::string why;
  auto f = en.kernel_filter_for({A, "pod1"}, 8, &why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->netns, (std::vector<uint32_t>{nsa, d.ino("proc/42/ns/net")}));
  auto opens = w.take();
  EXPECT_EQ(opens, (std::map<std::string, int>{{d.str() + "/moby/" + A + "/state.json", 1},
                                               {d.str() + "/runc/pod1/state.json", 1}}));
}
