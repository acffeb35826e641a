// SPDX-License-Identifier: Apache-2.0
// cgroup path shapes of real hosts -> runtime, id, pod uid; runtime metadata
// files (present, missing, malformed); the enricher's caches and eviction.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "enrich/container_meta.hpp"
#include "enrich/container_paths.hpp"
#include "enrich/enricher.hpp"
#include "enrich/runtime.hpp"
#include "fakes.hpp"

using namespace sysctlscope;

namespace {
const std::string H = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19";  // 64 hex
const std::string H2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string UID = "6b5cf7a2-3d4e-4f10-9a8b-7c6d5e4f3a21";
const std::string UIDU = "6b5cf7a2_3d4e_4f10_9a8b_7c6d5e4f3a21";  // systemd slice form

struct Shape {
  std::string path;
  std::string runtime;  // "" = not a container
  std::string id;
  std::string pod_uid;
  std::string qos;
};

std::vector<Shape> shapes() {
  return {
      // Docker, cgroupfs and systemd drivers, rootless
      {"/docker/" + H, "docker", H, "", ""},
      {"/system.slice/docker-" + H + ".scope", "docker", H, "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/docker-" + H + ".scope", "docker", H, "", ""},
      {"/docker", "", "", "", ""},
      {"/system.slice/docker.service", "", "", "", ""},
      {"/docker/abc", "", "", "", ""},  // not 64 hex: not a docker container id
      // kubelet cgroupfs: QoS classes (guaranteed has no qos segment)
      {"/kubepods/besteffort/pod" + UID + "/" + H, "cri", H, UID, "besteffort"},
      {"/kubepods/burstable/pod" + UID + "/" + H, "cri", H, UID, "burstable"},
      {"/kubepods/pod" + UID + "/" + H, "cri", H, UID, "guaranteed"},
      {"/kubepods/besteffort/pod" + UID, "", "", "", ""},  // the pod itself
      {"/kubepods/burstable", "", "", "", ""},
      {"/kubepods", "", "", "", ""},
      // kubelet systemd driver with containerd
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UIDU +
           ".slice/cri-containerd-" + H + ".scope",
       "containerd", H, UID, "besteffort"},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UIDU +
           ".slice/cri-containerd-" + H + ".scope",
       "containerd", H, UID, "burstable"},
      {"/kubepods.slice/kubepods-pod" + UIDU + ".slice/cri-containerd-" + H + ".scope",
       "containerd", H, UID, "guaranteed"},
      {"/system.slice/containerd.service/kubepods-burstable-pod" + UIDU +
           ".slice:cri-containerd:" + H,
       "", "", "", ""},  // the cgroup *name* systemd never creates as such
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UIDU + ".slice", "",
       "", "", ""},
      // CRI-O: the container, and conmon (its monitor) which is not
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UIDU + ".slice/crio-" +
           H + ".scope",
       "cri-o", H, UID, "burstable"},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UIDU +
           ".slice/crio-conmon-" + H + ".scope",
       "", "", "", ""},
      {"/kubepods/besteffort/pod" + UID + "/crio-" + H, "cri-o", H, UID, "besteffort"},
      {"/kubepods/besteffort/pod" + UID + "/crio-conmon-" + H, "", "", "", ""},
      // kind: the node's kubelet nested under kubelet.slice
      {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           UIDU + ".slice/cri-containerd-" + H + ".scope",
       "containerd", H, UID, "besteffort"},
      // Docker as the kubelet's runtime (dockershim, systemd driver)
      {"/kubepods.slice/kubepods-pod" + UIDU + ".slice/docker-" + H + ".scope", "docker", H, UID,
       "guaranteed"},
      // Podman: systemd (root and rootless), cgroupfs, conmon
      {"/machine.slice/libpod-" + H + ".scope", "podman", H, "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + H + ".scope", "podman",
       H, "", ""},
      {"/libpod_parent/libpod-" + H, "podman", H, "", ""},
      {"/machine.slice/libpod-conmon-" + H + ".scope", "", "", "", ""},
      {"/machine.slice/libpod-" + H + ".scope/container", "podman", H, "",
       ""},  // podman's inner cgroup
      // containerd without Kubernetes (nerdctl, systemd driver)
      {"/system.slice/nerdctl-" + H + ".scope", "containerd", H, "", ""},
      // systemd-nspawn (escaped machine names), LXC
      {"/machine.slice/machine-web.scope", "nspawn", "web", "", ""},
      {"/machine.slice/machine-my\\x2dbox.scope", "nspawn", "my-box", "", ""},
      {"/machine.slice/machine-web.scope/payload", "nspawn", "web", "", ""},
      {"/lxc.payload.u1", "lxc", "u1", "", ""},
      {"/lxc.payload.u1/init.scope", "lxc", "u1", "", ""},
      {"/lxc/c1", "lxc", "c1", "", ""},
      {"/lxc.monitor.u1", "", "", "", ""},
      // nested: the innermost container
      {"/docker/" + H + "/docker/" + H2, "docker", H2, "", ""},
      {"/kubepods/besteffort/pod" + UID + "/" + H + "/docker/" + H2, "docker", H2, "", ""},
      {"/lxc.payload.u1/system.slice/docker-" + H2 + ".scope", "docker", H2, "", ""},
      {"/machine.slice/machine-web.scope/payload/system.slice/docker-" + H2 + ".scope", "docker",
       H2, "", ""},
      // host cgroups
      {"/", "", "", "", ""},
      {"", "", "", "", ""},
      {"/init.scope", "", "", "", ""},
      {"/system.slice/sshd.service", "", "", "", ""},
      {"/user.slice/user-0.slice/session-3.scope", "", "", "", ""},
      {"/machine.slice", "", "", "", ""},
      // odd names
      {"//docker//" + H + "/", "docker", H, "", ""},
      {"/system.slice/docker-" + H + ".scope.bak", "", "", "", ""},
      {"/system.slice/docker-.scope", "", "", "", ""},
      {"/pod", "", "", "", ""},
  };
}
}  // namespace

TEST(ContainerPaths, RealWorldShapes) {
  auto table = shapes();
  ASSERT_GE(table.size(), 30u);
  for (const auto& s : table) {
    SCOPED_TRACE(s.path);
    auto m = parse_container_path(s.path);
    if (s.runtime.empty()) {
      EXPECT_FALSE(m) << "matched as " << name_of(m->runtime) << " " << m->id;
      continue;
    }
    ASSERT_TRUE(m);
    EXPECT_EQ(name_of(m->runtime), s.runtime);
    EXPECT_EQ(m->id, s.id);
    EXPECT_EQ(m->pod_uid, s.pod_uid);
    EXPECT_EQ(m->qos, s.qos);
  }
}

TEST(ContainerPaths, SystemdUnescape) {
  EXPECT_EQ(systemd_unescape("a\\x2db"), "a-b");
  EXPECT_EQ(systemd_unescape("\\x2"), "\\x2");  // cut escape kept as is
  EXPECT_EQ(systemd_unescape("\\xzz"), "\\xzz");
  EXPECT_EQ(systemd_unescape("plain"), "plain");
}

namespace {
using Tmp = sstest::FileTree;
}  // namespace

TEST(ContainerMeta, RuncStateBundleAndAnnotations) {
  Tmp t;
  t.write("runc/c1/state.json",
          R"({"id":"c1","init_process_pid":4242,"config":{"labels":["bundle=)" + t.str() +
              R"(/bundle","io.kubernetes.cri.sandbox-name=from-label"]}})");
  t.write("bundle/config.json", R"({"annotations":{"io.kubernetes.cri.sandbox-name":"web-0",
      "io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.container-name":"nginx"}})");
  RuncState st;
  ASSERT_TRUE(read_runc_state({t.str() + "/nowhere", t.str() + "/runc"}, "c1", st));
  EXPECT_EQ(st.root, t.str() + "/runc");
  EXPECT_EQ(st.pid, 4242);
  EXPECT_EQ(st.bundle, t.str() + "/bundle");
  ContainerInfo c;
  c.runtime = Runtime::Cri;
  ASSERT_TRUE(apply_annotations_file(st.bundle + "/config.json", c));
  EXPECT_EQ(c.pod, "web-0");
  EXPECT_EQ(c.k8s_namespace, "shop");
  EXPECT_EQ(c.name, "nginx");
  EXPECT_EQ(c.runtime, Runtime::Containerd);
}

TEST(ContainerMeta, CrioAnnotations) {
  ContainerInfo c;
  c.runtime = Runtime::Cri;
  apply_annotations({{"io.kubernetes.pod.name", "db-1"},
                     {"io.kubernetes.pod.namespace", "data"},
                     {"io.kubernetes.container.name", "pg"},
                     {"io.kubernetes.pod.uid", UID}},
                    c);
  EXPECT_EQ(c.pod, "db-1");
  EXPECT_EQ(c.k8s_namespace, "data");
  EXPECT_EQ(c.name, "pg");
  EXPECT_EQ(c.pod_uid, UID);
  EXPECT_EQ(c.runtime, Runtime::CriO);
}

TEST(ContainerMeta, MissingAndMalformedFilesDegrade) {
  Tmp t;
  t.write("runc/bad/state.json", "{not json");
  t.write("runc/wrongtypes/state.json",
          R"({"init_process_pid":"12","config":{"labels":[1,"nolabel",null]}})");
  t.write("runc/arr/state.json", "[1,2]");
  t.write("cfg/bad.json", "\x01\xff garbage");
  t.write("cfg/noann.json", R"({"ociVersion":"1.0.2"})");
  t.write("cfg/annarr.json", R"({"annotations":["x"]})");
  t.write("cfg/annvals.json",
          R"({"annotations":{"io.kubernetes.cri.sandbox-name":42,"io.kubernetes.pod.name":""}})");
  t.write("docker/containers/" + H + "/config.v2.json", R"({"Name":"/web"})");
  t.write("docker/containers/" + H2 + "/config.v2.json", R"({"Name":7})");
  RuncState st;
  EXPECT_FALSE(read_runc_state({t.str() + "/runc"}, "missing", st));
  EXPECT_FALSE(read_runc_state({t.str() + "/runc"}, "bad", st));
  EXPECT_FALSE(read_runc_state({t.str() + "/runc"}, "arr", st));
  EXPECT_FALSE(read_runc_state({t.str() + "/runc"}, "../runc/bad", st));
  EXPECT_FALSE(read_runc_state({}, "x", st));
  ASSERT_TRUE(read_runc_state({t.str() + "/runc"}, "wrongtypes", st));
  EXPECT_EQ(st.pid, 0);
  EXPECT_EQ(st.bundle, "");
  EXPECT_TRUE(st.labels.empty());

  ContainerInfo c;
  c.runtime = Runtime::Cri;
  EXPECT_FALSE(apply_annotations_file(t.str() + "/cfg/missing.json", c));
  EXPECT_FALSE(apply_annotations_file(t.str() + "/cfg/bad.json", c));
  EXPECT_TRUE(apply_annotations_file(t.str() + "/cfg/noann.json", c));
  EXPECT_TRUE(apply_annotations_file(t.str() + "/cfg/annarr.json", c));
  EXPECT_TRUE(apply_annotations_file(t.str() + "/cfg/annvals.json", c));
  EXPECT_EQ(c, (ContainerInfo{"", Runtime::Cri, "", "", "", ""}));

  EXPECT_EQ(docker_container_name(t.str() + "/docker", H), "web");
  EXPECT_EQ(docker_container_name(t.str() + "/docker", H2), "");
  EXPECT_EQ(docker_container_name(t.str() + "/docker", "nope"), "");
  EXPECT_EQ(docker_container_name(t.str() + "/nodocker", H), "");
  EXPECT_TRUE(runc_state_dir_exists(t.str() + "/runc", "bad"));
  EXPECT_FALSE(runc_state_dir_exists(t.str() + "/runc", ".."));
  EXPECT_FALSE(runc_state_dir_exists(t.str() + "/runc", "nope"));
}

namespace {
EnricherConfig test_config(const Tmp& t) {
  EnricherConfig cfg;
  cfg.cgroup_root = "";  // no walk: paths only from cgroup records
  cfg.meta.runc_roots = {t.str() + "/runc", t.str() + "/k8s"};
  cfg.meta.docker_root = t.str() + "/docker";
  cfg.meta.containerd_runc_root = t.str() + "/containerd-runc";
  cfg.meta.containerd_task_root = t.str() + "/containerd-task";
  cfg.meta.containers_storage = t.str() + "/storage";
  cfg.proc_root = t.str() + "/proc";
  cfg.host_netns = 1000;
  cfg.grace_ns = 0;
  return cfg;
}
CgroupChange mkdir_rec(uint64_t id, std::string path) {
  return CgroupChange{false, id, 1, std::move(path), 0};
}
Event ev(uint64_t cgroup, uint32_t netns) {
  Event e;
  e.cgroup_id = cgroup;
  e.netns = netns;
  return e;
}
}  // namespace

TEST(ContainerEnricher, ResolvesFromRecordsAndFilesAndOwnsNetns) {
  Tmp t;
  t.write("docker/containers/" + H + "/config.v2.json", R"({"Name":"/web"})");
  t.write("k8s/" + H2 + "/state.json", R"({"init_process_pid":77,"config":{"labels":["bundle=)" +
                                           t.str() +
                                           R"(/b","io.kubernetes.cri.sandbox-name=p"]}})");
  t.write("b/config.json", R"({"annotations":{"io.kubernetes.cri.sandbox-name":"web-0",
      "io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.container-name":"nginx"}})");
  // /proc/77/ns/net: a file whose inode stands for the pod's netns.
  t.write("proc/77/ns/net", "");
  struct stat st {};
  ASSERT_EQ(::stat((t.str() + "/proc/77/ns/net").c_str(), &st), 0);
  const uint32_t pod_netns = static_cast<uint32_t>(st.st_ino);

  ContainerEnricher en(test_config(t));
  en.on_cgroup(mkdir_rec(10, "/docker/" + H));
  en.on_cgroup(mkdir_rec(11, "/kubepods/burstable/pod" + UID + "/" + H2));
  en.on_cgroup(mkdir_rec(12, "/system.slice/sshd.service"));

  Event d = ev(10, 555);
  en.enrich(d);
  EXPECT_EQ(d.cgroup_path, "/docker/" + H);
  ASSERT_TRUE(d.container);
  EXPECT_EQ(*d.container, (ContainerInfo{H, Runtime::Docker, "web", "", "", ""}));
  // Learnt from the event: the docker container acts in netns 555.
  EXPECT_EQ(d.netns_container, d.container);
  EXPECT_FALSE(d.cross_namespace);

  // The pod's netns came from the state file (init pid), before any event.
  ASSERT_TRUE(en.netns_owner(pod_netns));
  EXPECT_EQ(en.netns_owner(pod_netns)->id, H2);
  Event host_in_pod = ev(12, pod_netns);
  en.enrich(host_in_pod);
  EXPECT_EQ(host_in_pod.cgroup_path, "/system.slice/sshd.service");
  EXPECT_FALSE(host_in_pod.container);
  ASSERT_TRUE(host_in_pod.netns_container);
  EXPECT_EQ(*host_in_pod.netns_container,
            (ContainerInfo{H2, Runtime::Containerd, "nginx", "web-0", "shop", UID}));
  EXPECT_TRUE(host_in_pod.cross_namespace);

  // Docker container reaching into the pod's netns: cross too.
  Event d2 = ev(10, pod_netns);
  en.enrich(d2);
  EXPECT_TRUE(d2.cross_namespace);
  // A container process in the host netns (hostNetwork): cross, owner null.
  Event d3 = ev(10, 1000);
  en.enrich(d3);
  EXPECT_FALSE(d3.netns_container);
  EXPECT_TRUE(d3.cross_namespace);
  // Host process in the host netns: nothing.
  Event h = ev(12, 1000);
  en.enrich(h);
  EXPECT_FALSE(h.container);
  EXPECT_FALSE(h.netns_container);
  EXPECT_FALSE(h.cross_namespace);
  // Unknown cgroup (no record, no walk): no path, no container, no crash.
  Event u = ev(99, 1000);
  en.enrich(u);
  EXPECT_EQ(u.cgroup_path, "");
  EXPECT_FALSE(u.container);
}

TEST(ContainerEnricher, RemovedCgroupsResolveDuringGraceThenEvicted) {
  Tmp t;
  auto cfg = test_config(t);
  cfg.grace_ns = 60'000'000'000ull;  // a minute: still there within the test
  ContainerEnricher en(cfg);
  en.on_cgroup(mkdir_rec(20, "/docker/" + H));
  en.on_cgroup(CgroupChange{true, 20, 1, "/docker/" + H, 0});
  Event e = ev(20, 0);
  en.enrich(e);
  EXPECT_EQ(e.cgroup_path, "/docker/" + H) << "events in flight still resolve";
  ASSERT_TRUE(e.container);

  // Grace 0: the next record evicts the cgroup, its container and its netns.
  ContainerEnricher quick(test_config(t));
  quick.on_cgroup(mkdir_rec(21, "/docker/" + H));
  Event in = ev(21, 777);
  quick.enrich(in);
  ASSERT_TRUE(quick.netns_owner(777));
  quick.on_cgroup(CgroupChange{true, 21, 1, "/docker/" + H, 0});
  quick.on_cgroup(mkdir_rec(22, "/other"));
  EXPECT_FALSE(quick.netns_owner(777)) << "a freed netns inode may be reused";
  EXPECT_FALSE(quick.container_of(21));

  CgroupPaths p("", 1000);
  p.learn(1, "/a");
  p.learn(2, "/b");
  p.forget_later(1, 5000);
  EXPECT_TRUE(p.evict(5999).empty());
  ASSERT_NE(p.find(1), nullptr);
  EXPECT_EQ(p.evict(6000), std::vector<uint64_t>{1});
  EXPECT_EQ(p.find(1), nullptr);
  EXPECT_EQ(*p.find(2), "/b");
}

TEST(ContainerEnricher, PlainRuncNeedsItsStateDir) {
  Tmp t;
  t.write("runc/web1/state.json", R"({"init_process_pid":0})");
  ContainerEnricher en(test_config(t));
  en.on_cgroup(mkdir_rec(30, "/web1"));
  en.on_cgroup(mkdir_rec(31, "/web2"));  // no state dir: an ordinary cgroup
  auto c = en.container_of(30);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->runtime, Runtime::Runc);
  EXPECT_EQ(c->id, "web1");
  EXPECT_FALSE(en.container_of(31));
}

// runc writes state.json after creating the cgroup: an event that happened
// after the last look reads the files again; an older one does not.
TEST(ContainerEnricher, StateWrittenAfterTheCgroupIsPickedUpByNewerEvents) {
  Tmp t;
  ContainerEnricher en(test_config(t));
  en.on_cgroup(mkdir_rec(40, "/kubepods/besteffort/pod" + UID + "/" + H));
  t.write("k8s/" + H + "/state.json",
          R"({"config":{"labels":["io.kubernetes.cri.sandbox-name=web-0"]}})");
  Event old = ev(40, 0);
  old.time_ns = 1;  // long before the look at cgroup creation
  en.enrich(old);
  ASSERT_TRUE(old.container);
  EXPECT_EQ(old.container->pod, "");
  EXPECT_EQ(old.container->runtime, Runtime::Cri);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  Event fresh = ev(40, 0);
  fresh.time_ns =
      static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec) + 1;
  en.enrich(fresh);
  ASSERT_TRUE(fresh.container);
  EXPECT_EQ(fresh.container->pod, "web-0");
  EXPECT_EQ(fresh.container->runtime, Runtime::Containerd);
  EXPECT_EQ(fresh.container->pod_uid, UID);
}

// A pod's netns belongs to its sandbox (pause) container, whichever of the
// pod's containers is seen first; the pod's own containers acting in it are
// not cross-namespace, a host process is.
TEST(ContainerEnricher, PodNetnsOwnedByItsSandbox) {
  Tmp t;
  const std::string S = "5a" + H2.substr(2), A = "6b" + H2.substr(2);
  auto state = [&](const std::string& id, int pid) {
    t.write("k8s/" + id + "/state.json", R"({"init_process_pid":)" + std::to_string(pid) +
                                             R"(,"config":{"labels":["bundle=)" + t.str() + "/b-" +
                                             id + R"("]}})");
  };
  state(S, 88);
  state(A, 89);
  t.write("b-" + S + "/config.json",
          R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox",
      "io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop",
      "io.kubernetes.cri.sandbox-uid":")" +
              UID + R"("}})");
  t.write("b-" + A + "/config.json",
          R"({"annotations":{"io.kubernetes.cri.container-type":"container",
      "io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop",
      "io.kubernetes.cri.container-name":"nginx","io.kubernetes.cri.sandbox-uid":")" +
              UID + R"("}})");
  // One netns for both: the app container joined the sandbox's (same inode).
  t.write("proc/88/ns/net", "");
  std::filesystem::create_directories(t.dir / "proc/89/ns");
  std::filesystem::create_hard_link(t.dir / "proc/88/ns/net", t.dir / "proc/89/ns/net");
  struct stat st {};
  ASSERT_EQ(::stat((t.str() + "/proc/88/ns/net").c_str(), &st), 0);
  const uint32_t pod_netns = static_cast<uint32_t>(st.st_ino);

  ContainerEnricher en(test_config(t));
  const std::string pod = "/kubepods/besteffort/pod" + UID + "/";
  en.on_cgroup(mkdir_rec(21, pod + A));  // the app container first
  ASSERT_TRUE(en.netns_owner(pod_netns));
  EXPECT_EQ(en.netns_owner(pod_netns)->id, A) << "no sandbox known yet";
  en.on_cgroup(mkdir_rec(20, pod + S));
  ASSERT_TRUE(en.netns_owner(pod_netns));
  EXPECT_EQ(en.netns_owner(pod_netns)->id, S) << "the sandbox takes the pod's netns over";
  en.on_cgroup(mkdir_rec(22, "/system.slice/kubelet.service"));

  Event app = ev(21, pod_netns);
  en.enrich(app);
  ASSERT_TRUE(app.container);
  EXPECT_EQ(app.container->id, A);
  EXPECT_EQ(app.container->name, "nginx");
  ASSERT_TRUE(app.netns_container);
  EXPECT_EQ(*app.netns_container, (ContainerInfo{S, Runtime::Containerd, "", "web-0", "shop", UID}));
  EXPECT_FALSE(app.cross_namespace) << "same pod: its own netns";

  Event host = ev(22, pod_netns);
  en.enrich(host);
  ASSERT_TRUE(host.netns_container);
  EXPECT_EQ(host.netns_container->id, S);
  EXPECT_TRUE(host.cross_namespace);

  // A non-sandbox never displaces the sandbox, whatever it acts on.
  Event again = ev(21, pod_netns);
  en.enrich(again);
  EXPECT_EQ(en.netns_owner(pod_netns)->id, S);
}

TEST(ContainerMeta, SandboxMarkersOfEachRuntime) {
  for (auto [k, v, want] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"io.kubernetes.cri.container-type", "sandbox", true},
           {"io.kubernetes.cri.container-type", "container", false},
           {"io.kubernetes.cri-o.ContainerType", "sandbox", true},
           {"io.kubernetes.cri-o.ContainerType", "container", false},
           {"io.kubernetes.docker.type", "podsandbox", true},
           {"io.kubernetes.docker.type", "container", false},
           {"io.kubernetes.pod.name", "sandbox", false}}) {
    ContainerInfo c;
    bool sandbox = false;
    apply_annotations({{k, v}}, c, &sandbox);
    EXPECT_EQ(sandbox, want) << k << "=" << v;
  }
}

// Every runtime the vocabulary names has its class, once, in the table: a
// new enumerator without one would read no files of its containers.
TEST(ContainerRuntimes, EveryRuntimeHasOneClass) {
  size_t classes = 0;
  for (size_t i = 1; i < vocab_size<Runtime>(); ++i) {
    const auto r = static_cast<Runtime>(i);
    const ContainerRuntime* rt = container_runtime(r);
    ASSERT_NE(rt, nullptr) << name_of(r);
    EXPECT_EQ(rt->kind(), r);
    ++classes;
  }
  EXPECT_EQ(container_runtimes().size(), classes);
  EXPECT_EQ(container_runtime(Runtime::Unknown), nullptr);
  // Docker runs in containerd's "moby" namespace; any other is containerd's.
  EXPECT_EQ(runtime_of_containerd_namespace("moby"), Runtime::Docker);
  EXPECT_EQ(runtime_of_containerd_namespace("k8s.io"), Runtime::Containerd);
  EXPECT_EQ(runtime_of_containerd_namespace(""), Runtime::Containerd);
  EXPECT_FALSE(has_state_files(Runtime::Nspawn));
  EXPECT_FALSE(has_state_files(Runtime::Lxc));
  EXPECT_TRUE(has_state_files(Runtime::Docker));
}

namespace {
Event ev_at(uint64_t cgroup, uint32_t netns, uint64_t t) {
  Event e = ev(cgroup, netns);
  e.time_ns = t;
  return e;
}
Event birth_at(uint64_t cgroup, uint32_t netns, uint64_t t) {
  Event e(NetnsCreate{});
  e.cgroup_id = cgroup;
  e.netns = netns;
  e.time_ns = t;
  return e;
}
}  // namespace

// A netns inode is reused once its namespace is freed: a netns_create for it
// starts a new generation, so the dead owner is never named for the new
// namespace, while events from before the birth (held writes) keep theirs.
TEST(ContainerEnricher, NetnsCreateStartsANewOwnerGeneration) {
  Tmp t;
  ContainerEnricher en(test_config(t));
  en.on_cgroup(mkdir_rec(40, "/docker/" + H));
  en.on_cgroup(mkdir_rec(41, "/docker/" + H2));
  en.on_cgroup(mkdir_rec(42, "/system.slice/sshd.service"));
  Event a = ev_at(40, 888, 100);
  en.enrich(a);
  ASSERT_TRUE(a.netns_container);
  EXPECT_EQ(a.netns_container->id, H);

  // Reused: born again at t=200 by a host process (no owner yet).
  Event b = birth_at(42, 888, 200);
  en.enrich(b);
  EXPECT_FALSE(b.netns_container) << "not the dead owner";
  EXPECT_FALSE(b.cross_namespace);
  Event reach = ev_at(42, 888, 210);
  en.enrich(reach);
  EXPECT_FALSE(reach.netns_container);
  // A write from before the birth, enriched late, keeps its owner.
  Event held = ev_at(42, 888, 150);
  en.enrich(held);
  ASSERT_TRUE(held.netns_container);
  EXPECT_EQ(held.netns_container->id, H);
  EXPECT_TRUE(held.cross_namespace);
  // The new container claims it; reach-ins then name it.
  Event c = ev_at(41, 888, 220);
  en.enrich(c);
  ASSERT_TRUE(c.netns_container);
  EXPECT_EQ(c.netns_container->id, H2);
  Event reach2 = ev_at(42, 888, 230);
  en.enrich(reach2);
  ASSERT_TRUE(reach2.netns_container);
  EXPECT_EQ(reach2.netns_container->id, H2);
  EXPECT_TRUE(reach2.cross_namespace);
  EXPECT_EQ(en.netns_owner(888)->id, H2);
}

// A generation that had no owner passes none on: after two reuses, a late
// event of the ownerless middle generation does not name the first owner.
TEST(ContainerEnricher, OwnerlessGenerationDoesNotInheritAnOlderOwner) {
  Tmp t;
  ContainerEnricher en(test_config(t));
  en.on_cgroup(mkdir_rec(40, "/docker/" + H));
  en.on_cgroup(mkdir_rec(42, "/system.slice/sshd.service"));
  Event a = ev_at(40, 888, 100);
  en.enrich(a);
  ASSERT_TRUE(a.netns_container);
  Event b1 = birth_at(42, 888, 200);  // generation 2: nobody claims it
  en.enrich(b1);
  Event b2 = birth_at(42, 888, 300);  // generation 3
  en.enrich(b2);
  Event late = ev_at(42, 888, 250);  // held from generation 2, enriched late
  en.enrich(late);
  EXPECT_FALSE(late.netns_container) << "generation 2 had no owner";
  Event older = ev_at(42, 888, 150);
  en.enrich(older);
  EXPECT_FALSE(older.netns_container) << "only the generation just ended is remembered";
}

// The owner's cgroup is removed: its netns goes with it, so later events in
// that inode (reused before any netns_create was seen) are not its.
TEST(ContainerEnricher, OwnerDeathEndsItsClaim) {
  Tmp t;
  auto cfg = test_config(t);
  cfg.grace_ns = 60'000'000'000ull;
  ContainerEnricher en(cfg);
  en.on_cgroup(mkdir_rec(50, "/docker/" + H));
  en.on_cgroup(mkdir_rec(52, "/system.slice/sshd.service"));
  Event a = ev_at(50, 999, 100);
  en.enrich(a);
  en.on_cgroup(CgroupChange{true, 50, 1, "/docker/" + H, 300});
  Event late = ev_at(52, 999, 400);
  en.enrich(late);
  EXPECT_FALSE(late.netns_container);
  Event early = ev_at(52, 999, 250);
  en.enrich(early);
  ASSERT_TRUE(early.netns_container);
  EXPECT_EQ(early.netns_container->id, H);
  Event own = ev_at(50, 0, 260);  // still resolves during the grace period
  en.enrich(own);
  ASSERT_TRUE(own.container);
}

// Containers older than the tracer: one scan of the runtimes' state gives
// every running container's netns an owner before any event, with the
// runtime each belongs to and its name; a recycled init pid (start time
// differs) and malformed state files are skipped without failing.
TEST(ContainerEnricher, SeedFromRuntimesStateBeforeAnyEvent) {
  Tmp t;
  auto stat_line = [](int pid, uint64_t start) {
    std::string s = std::to_string(pid) + " (sleep) S";
    for (int f = 4; f <= 21; ++f) s += " 0";
    return s + " " + std::to_string(start) + " 0 0\n";
  };
  // Docker (containerd's moby namespace), Podman (runc root + libpod label,
  // name in containers storage), ctr (its own namespace, CRI annotations in
  // the task bundle), a stale state whose pid was reused, a half-written one.
  t.write("containerd-runc/moby/" + H + "/state.json",
          R"({"init_process_pid":101,"init_process_start":5001,"config":{"labels":[]}})");
  t.write("docker/containers/" + H + "/config.v2.json", R"({"Name":"/web"})");
  t.write(
      "runc/" + H2 + "/state.json",
      R"({"init_process_pid":102,"init_process_start":5002,"config":{"labels":["io.container.manager=libpod"]}})");
  t.write("storage/overlay-containers/containers.json",
          R"([{"id":"other","names":["x"]},{"id":")" + H2 + R"(","names":["db"]}])");
  t.write("containerd-runc/sysctlscope/job1/state.json",
          R"({"init_process_pid":103,"init_process_start":5003,"config":{"labels":["bundle=)" +
              t.str() + R"(/containerd-task/sysctlscope/job1"]}})");
  t.write(
      "containerd-task/sysctlscope/job1/config.json",
      R"({"annotations":{"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.container-name":"nginx"}})");
  t.write("runc/stale/state.json", R"({"init_process_pid":104,"init_process_start":1})");
  t.write("runc/half/state.json", R"({"init_process_pid":10)");
  for (int pid : {101, 102, 103, 104}) {
    t.write("proc/" + std::to_string(pid) + "/stat", stat_line(pid, 5000 + pid - 100));
    t.write("proc/" + std::to_string(pid) + "/ns/net", "");
    t.write("proc/" + std::to_string(pid) + "/cgroup", "0::/\n");
  }
  ContainerEnricher en(test_config(t));
  en.seed_from_runtimes();
  auto owner = [&](int pid) {
    return en.netns_owner(t.ino("proc/" + std::to_string(pid) + "/ns/net"));
  };
  ASSERT_TRUE(owner(101));
  EXPECT_EQ(*owner(101), (ContainerInfo{H, Runtime::Docker, "web", "", "", ""}));
  ASSERT_TRUE(owner(102));
  EXPECT_EQ(*owner(102), (ContainerInfo{H2, Runtime::Podman, "db", "", "", ""}));
  ASSERT_TRUE(owner(103));
  EXPECT_EQ(*owner(103), (ContainerInfo{"job1", Runtime::Containerd, "nginx", "web-0", "shop", ""}));
  EXPECT_FALSE(owner(104)) << "pid 104 is not the init runc recorded";

  // A host process reaching into the Podman container: attributed at once.
  en.on_cgroup(mkdir_rec(60, "/system.slice/sshd.service"));
  Event in = ev(60, t.ino("proc/102/ns/net"));
  en.enrich(in);
  ASSERT_TRUE(in.netns_container);
  EXPECT_EQ(in.netns_container->name, "db");
  EXPECT_TRUE(in.cross_namespace);
  // The container's own cgroup resolves to the same container.
  en.on_cgroup(mkdir_rec(61, "/libpod_parent/libpod-" + H2));
  Event own = ev(61, t.ino("proc/102/ns/net"));
  en.enrich(own);
  ASSERT_TRUE(own.container);
  EXPECT_EQ(own.container->name, "db");
  EXPECT_FALSE(own.cross_namespace);

  // containerd's `ctr run` cgroup /<namespace>/<id>: confirmed by the state.
  en.on_cgroup(mkdir_rec(62, "/sysctlscope/job1"));
  auto c = en.container_of(62);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->runtime, Runtime::Containerd);
  EXPECT_EQ(c->pod, "web-0");
}

// One scan of the runtimes' state reads each state file once, and Podman's
// containers.json once for all its containers (it was parsed again for each
// container, and each state.json read twice: O(N^2) per scan).
TEST(ContainerMeta, ScanReadsEachStateFileOnce) {
  Tmp t;
  std::string storage = "[";
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    std::string id = "pod" + std::to_string(i);
    ids.push_back(id);
    t.write("runc/" + id + "/state.json",
            R"({"init_process_pid":0,"config":{"labels":["io.container.manager=libpod"]}})");
    storage += std::string(i ? "," : "") + R"({"id":")" + id + R"(","names":["db)" +
               std::to_string(i) + R"("]})";
  }
  t.write("storage/overlay-containers/containers.json", storage + "]");
  sstest::OpenWatch w;
  w.watch(t.str() + "/storage/overlay-containers");
  for (const auto& id : ids) w.watch(t.str() + "/runc/" + id);
  auto cfg = test_config(t);
  auto all = scan_running_containers(cfg.meta, cfg.proc_root);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].info.name, "db" + std::to_string(i));
    EXPECT_EQ(all[i].info.runtime, Runtime::Podman);
  }
  auto opens = w.take();
  EXPECT_EQ(opens[t.str() + "/storage/overlay-containers/containers.json"], 1);
  for (const auto& id : ids) EXPECT_EQ(opens[t.str() + "/runc/" + id + "/state.json"], 1) << id;
}

// A container known only from the runtimes' state (no cgroup of it was ever
// resolved: nothing frees it when a cgroup goes) is freed like the others
// once its netns generation has ended and the grace period passed; until
// then late events still name it.
TEST(ContainerEnricher, ScanOnlyContainerFreedWhenItsGenerationEnds) {
  Tmp t;
  t.write("runc/" + H2 + "/state.json",
          R"({"init_process_pid":102,"config":{"labels":["io.container.manager=libpod"]}})");
  t.write("proc/102/ns/net", "");
  const uint32_t ns = t.ino("proc/102/ns/net");
  for (uint64_t grace : {60'000'000'000ull, 0ull}) {
    auto cfg = test_config(t);
    cfg.grace_ns = grace;
    ContainerEnricher en(cfg);
    en.seed_from_runtimes();
    ASSERT_EQ(en.known_containers(), 1u);
    ASSERT_TRUE(en.netns_owner(ns));
    en.on_cgroup(mkdir_rec(42, "/system.slice/sshd.service"));
    Event b = birth_at(42, ns, 200);  // the inode is reused: the container's netns is gone
    en.enrich(b);
    en.on_cgroup(mkdir_rec(43, "/system.slice/cron.service"));  // evicts what is due
    Event late = ev_at(42, ns, 150);
    en.enrich(late);
    if (grace) {
      EXPECT_EQ(en.known_containers(), 1u) << "kept for the grace period";
      ASSERT_TRUE(late.netns_container);
      EXPECT_EQ(late.netns_container->id, H2);
    } else {
      EXPECT_EQ(en.known_containers(), 0u) << "freed";
      EXPECT_FALSE(late.netns_container);
      EXPECT_FALSE(en.netns_owner(ns));
    }
  }
}

// The removal of a cgroup nobody resolved still ends the generation of a
// container known from the runtimes' state (its path names it); the removal
// of one that names no known container does nothing (no file is looked at:
// BM_UnresolvedRmdir).
TEST(ContainerEnricher, RmdirOfAnUnresolvedCgroupOfAScannedContainerEndsItsClaim) {
  Tmp t;
  t.write("runc/" + H2 + "/state.json",
          R"({"init_process_pid":102,"config":{"labels":["io.container.manager=libpod"]}})");
  t.write("runc/plain/state.json", R"({"init_process_pid":103})");
  t.write("proc/102/ns/net", "");
  t.write("proc/103/ns/net", "");
  const uint32_t ns = t.ino("proc/102/ns/net"), ns_plain = t.ino("proc/103/ns/net");
  auto cfg = test_config(t);
  cfg.grace_ns = 60'000'000'000ull;
  ContainerEnricher en(cfg);
  en.seed_from_runtimes();
  ASSERT_TRUE(en.netns_owner(ns));
  ASSERT_TRUE(en.netns_owner(ns_plain));
  en.paths().learn(70, "/machine.slice/libpod-" + H2 + ".scope");
  en.paths().learn(71, "/user.slice/session-1.scope");
  en.paths().learn(72, "/plain");
  en.on_cgroup(CgroupChange{true, 71, 2, "", 300});
  EXPECT_TRUE(en.netns_owner(ns));
  EXPECT_EQ(en.known_containers(), 2u);
  en.on_cgroup(CgroupChange{true, 70, 2, "", 300});
  EXPECT_FALSE(en.netns_owner(ns)) << "its cgroup is gone";
  en.on_cgroup(CgroupChange{true, 72, 1, "", 300});
  EXPECT_FALSE(en.netns_owner(ns_plain)) << "plain runc: named by its last component";
}
