// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>
#include <time.h>

#include <filesystem>

#include "enrich/enricher.hpp"

namespace sysctlscope {

namespace {
uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
const std::string kEmpty;
}  // namespace

CgroupPaths::CgroupPaths(std::string root) : root_(std::move(root)) { rescan(); }

void CgroupPaths::rescan() {
  namespace fs = std::filesystem;
  std::unordered_map<uint64_t, std::string> fresh;
  struct stat st {};
  // On cgroup2 the directory inode number is the cgroup id (kernfs node id).
  if (::stat(root_.c_str(), &st) == 0) fresh.emplace(st.st_ino, "/");
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    std::string p = it->path().string();
    size_t skip = root_.size() + (root_.back() == '/' ? 0 : 1);
    fresh.emplace(st.st_ino, "/" + p.substr(std::min(skip, p.size())));
  }
  paths_ = std::move(fresh);  // removed cgroups are evicted
  last_scan_ns_ = now_ns();
}

const std::string& CgroupPaths::path_of(uint64_t id) {
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  // Unknown: probably created since the last walk. Re-scan at most every
  // 50 ms so a storm of unknown ids cannot turn into a walk per event.
  if (now_ns() - last_scan_ns_ > 50'000'000ull) {
    rescan();
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  }
  return kEmpty;
}

namespace {
class CgroupPathEnricher final : public Enricher {
 public:
  explicit CgroupPathEnricher(const std::string& root) : paths_(root) {}
  void enrich(Event& e) override {
    if (e.cgroup_id) e.cgroup_path = paths_.path_of(e.cgroup_id);
  }

 private:
  CgroupPaths paths_;
};
}  // namespace

std::unique_ptr<Enricher> make_default_enricher(const std::string& cgroup_root) {
  return std::make_unique<CgroupPathEnricher>(cgroup_root);
}

}  // namespace sysctlscope
