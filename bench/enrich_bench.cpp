// SPDX-License-Identifier: Apache-2.0
// Enrichment throughput on cache hits (issue 5: >= 1M events/s): cgroup id ->
// path -> container, netns -> owner, cross_namespace. The caches are warmed
// first; the measured loop must touch no file (strace -e trace=file shows it).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "enrich/container_meta.hpp"
#include "enrich/container_paths.hpp"
#include "enrich/enricher.hpp"

using namespace sysctlscope;

namespace {
std::string hex64(std::mt19937_64& rng) {
  std::string s;
  for (int i = 0; i < 64; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

// The runtimes' state roots, all below `dir`.
MetaSources sources_in(const std::filesystem::path& dir) {
  MetaSources m;
  m.runc_roots = {(dir / "runc").string()};
  m.docker_root = (dir / "docker").string();
  m.containerd_runc_root = (dir / "containerd-runc").string();
  m.containerd_task_root = (dir / "containerd-task").string();
  m.containers_storage = (dir / "storage").string();
  return m;
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<ContainerEnricher> en;
  std::vector<std::pair<uint64_t, uint32_t>> keys;  // (cgroup id, netns) per event

  explicit Fixture(int containers) {
    char t[] = "/tmp/ss-bench-XXXXXX";
    dir = ::mkdtemp(t);
    std::mt19937_64 rng(42);
    EnricherConfig cfg;
    cfg.meta = sources_in(dir);
    cfg.proc_root = (dir / "proc").string();
    cfg.host_netns = 1;
    en = std::make_unique<ContainerEnricher>(cfg);
    uint64_t cg = 1000;
    for (int i = 0; i < containers; ++i) {
      std::string id = hex64(rng);
      std::string path;
      if (i % 2 == 0) {
        path = "/system.slice/docker-" + id + ".scope";
        std::filesystem::create_directories(dir / "docker/containers" / id);
        std::ofstream(dir / "docker/containers" / id / "config.v2.json")
            << R"({"Name":"/svc-)" << i << "\"}";
      } else {
        path = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
               std::to_string(i) + ".slice/cri-containerd-" + id + ".scope";
        std::filesystem::create_directories(dir / "runc" / id);
        std::ofstream(dir / "runc" / id / "state.json")
            << R"({"init_process_pid":0,"config":{"labels":[)"
            << R"("io.kubernetes.cri.sandbox-name=web-)" << i
            << R"(","io.kubernetes.cri.sandbox-namespace=shop"]}})";
      }
      en->on_cgroup(CgroupChange{false, cg, 3, path, 0});
      uint32_t ns = 4026500000u + static_cast<uint32_t>(i);
      keys.emplace_back(cg, ns);                      // a container process in its own netns
      if (i % 8 == 0) keys.emplace_back(cg + 1, ns);  // a host process reaching in
      cg += 2;
    }
    en->on_cgroup(CgroupChange{false, 999, 1, "/system.slice/sshd.service", 0});
    for (int i = 0; i < containers / 4; ++i) keys.emplace_back(999, 1);  // host activity
    for (uint64_t c = 1001; c < cg; c += 2)
      en->on_cgroup(CgroupChange{false, c, 1, "/user.slice/x", 0});
    std::shuffle(keys.begin(), keys.end(), rng);
    // Warm every cache (and finish the metadata reads).
    for (auto [c, n] : keys) {
      Event e;
      e.cgroup_id = c;
      e.netns = n;
      en->enrich(e);
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

// A runtime state tree for one scan: N containers, half Podman (runc state
// with the libpod label, names in one containers.json), half Docker
// (containerd's moby namespace, config.v2.json), inits in a fake /proc.
struct ScanTree {
  std::filesystem::path dir;
  MetaSources meta;
  std::string proc;

  explicit ScanTree(int n) {
    char t[] = "/tmp/ss-scan-bench-XXXXXX";
    dir = ::mkdtemp(t);
    meta = sources_in(dir);
    proc = (dir / "proc").string();
    std::mt19937_64 rng(7);
    std::string storage = "[";
    for (int i = 0; i < n; ++i) {
      const std::string id = hex64(rng);
      const int pid = 1000 + i;
      const bool podman = i % 2 == 0;
      auto state = podman ? dir / "runc" / id : dir / "containerd-runc/moby" / id;
      std::filesystem::create_directories(state);
      std::ofstream(state / "state.json")
          << R"({"id":")" << id << R"(","init_process_pid":)" << pid << R"(,"init_process_start":)"
          << 5000 + i << R"(,"config":{"labels":[)"
          << (podman ? R"("io.container.manager=libpod")" : "") << "]}}";
      if (podman) {
        storage += std::string(storage.size() > 1 ? "," : "") + R"({"id":")" + id +
                   R"(","names":["db-)" + std::to_string(i) + R"("],"layer":")" + hex64(rng) +
                   R"(","metadata":"{\"image-name\":\"x\"}"})";
      } else {
        std::filesystem::create_directories(dir / "docker/containers" / id);
        std::ofstream(dir / "docker/containers" / id / "config.v2.json")
            << R"({"Name":"/web-)" << i << "\"}";
      }
      auto p = dir / "proc" / std::to_string(pid);
      std::filesystem::create_directories(p / "ns");
      std::string stat = std::to_string(pid) + " (sleep) S";
      for (int f = 4; f <= 21; ++f) stat += " 0";
      std::ofstream(p / "stat") << stat << " " << 5000 + i << " 0 0\n";
      std::ofstream(p / "ns/net") << "";
      std::ofstream(p / "cgroup") << "0::/\n";
    }
    std::filesystem::create_directories(dir / "storage/overlay-containers");
    std::ofstream(dir / "storage/overlay-containers/containers.json") << storage << "]";
  }
  ~ScanTree() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
}  // namespace

static void BM_EnrichCacheHit(benchmark::State& state) {
  Fixture fx(static_cast<int>(state.range(0)));
  Event e(SysctlRead{});
  size_t i = 0;
  for (auto _ : state) {
    auto [c, n] = fx.keys[i++ % fx.keys.size()];
    // A fresh event each time, as the pipeline hands over.
    e.cgroup_id = c;
    e.netns = n;
    e.cgroup_path.clear();
    e.container.reset();
    e.netns_container.reset();
    e.cross_namespace = false;
    fx.en->enrich(e);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnrichCacheHit)->Arg(16)->Arg(256)->Arg(4096);

// A cache miss: the pure path parse (done once per new cgroup).
static void BM_ParseContainerPath(benchmark::State& state) {
  const std::string p =
      "/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod6b5cf7a2_3d4e_4f10_9a8b_7c6d5e4f3a21.slice/"
      "cri-containerd-3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19.scope";
  for (auto _ : state) benchmark::DoNotOptimize(parse_container_path(p));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseContainerPath);

// One scan of the runtimes' state (scan_running_containers: trace's start
// and its re-scans, `netns list`, `diff`, `record`): the time per container
// must not grow with N (every state file parsed once per scan).
static void BM_ScanRunning(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  ScanTree tree(n);
  size_t found = 0;
  for (auto _ : state) {
    auto all = scan_running_containers(tree.meta, tree.proc);
    found = all.size();
    benchmark::DoNotOptimize(all);
  }
  if (found != static_cast<size_t>(n)) state.SkipWithError("scan missed containers");
  state.SetComplexityN(n);
  // Seconds of one scan per container (shown with an SI prefix: u = us).
  state.counters["per_container"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ScanRunning)
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

// A cgroup removed that nobody resolved (older than the tracer, no event
// from it: session scopes, services): what its cgroup_rmdir record costs when
// it can name none of the known containers. The runtimes' state roots exist.
static void BM_UnresolvedRmdir(benchmark::State& state) {
  char t[] = "/tmp/ss-bench-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(t);
  EnricherConfig cfg;
  cfg.meta = sources_in(dir);
  cfg.meta.runc_roots = {(dir / "runc").string(), (dir / "k8s").string(), (dir / "moby").string()};
  for (const char* d : {"runc", "k8s", "moby", "containerd-runc/default", "containerd-runc/moby",
                        "containerd-task/moby"})
    std::filesystem::create_directories(dir / d);
  cfg.proc_root = (dir / "proc").string();
  cfg.host_netns = 1;
  cfg.grace_ns = 0;
  ContainerEnricher en(cfg);
  std::mt19937_64 rng(1);
  for (uint64_t c = 1; c <= 16; ++c)  // some containers are known
    en.on_cgroup(CgroupChange{false, c, 2, "/docker/" + hex64(rng), 0});
  uint64_t id = 1000;
  for (auto _ : state) {
    en.paths().learn(id, "/user.slice/user-0.slice/session-" + std::to_string(id) + ".scope");
    en.on_cgroup(CgroupChange{true, id, 3, "", 0});
    ++id;
  }
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_UnresolvedRmdir);

BENCHMARK_MAIN();
