// SPDX-License-Identifier: Apache-2.0
// One scan of the runtimes' state (scan_running_containers: trace's start,
// its rate-limited re-scans, `netns list`, `diff`, `record`) over a synthetic
// state tree in a temp dir: N containers, half Podman (runc state with the
// libpod label, names in one containers.json of N/2 entries), half Docker
// (containerd's moby namespace, config.v2.json), each with its init in a fake
// /proc. The time per container should not grow with N: every state file is
// parsed once per scan.
//
//   ./build/bench/scan_bench --benchmark_filter=ScanRunning
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "enrich/container_meta.hpp"

using namespace sysctlscope;

namespace {
std::string hex64(std::mt19937_64& rng) {
  std::string s;
  for (int i = 0; i < 64; ++i) s.push_back("0123456789abcdef"[rng() % 16]);
  return s;
}

struct Tree {
  std::filesystem::path dir;
  MetaSources meta;
  std::string proc;

  explicit Tree(int n) {
    char t[] = "/tmp/ss-scan-bench-XXXXXX";
    dir = ::mkdtemp(t);
    meta.runc_roots = {(dir / "runc").string()};
    meta.docker_root = (dir / "docker").string();
    meta.containerd_runc_root = (dir / "containerd-runc").string();
    meta.containerd_task_root = (dir / "containerd-task").string();
    meta.containers_storage = (dir / "storage").string();
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
  ~Tree() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void BM_ScanRunning(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Tree tree(n);
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
}  // namespace

BENCHMARK_MAIN();
