// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <unordered_set>

#include "core/clock.hpp"
#include "enrich/enricher.hpp"

namespace sysctlscope {

namespace {
const std::string kEmpty;
}  // namespace

CgroupPaths::CgroupPaths(std::string root, uint64_t grace_ns)
    : root_(std::move(root)), grace_ns_(grace_ns) {
  if (!root_.empty()) rescan();
}

void CgroupPaths::rescan() {
  last_scan_ns_ = mono_ns();
  if (root_.empty()) return;
  namespace fs = std::filesystem;
  std::unordered_set<uint64_t> seen;
  struct stat st {};
  // On cgroup2 the directory inode number is the cgroup id (kernfs node id).
  if (::stat(root_.c_str(), &st) == 0) {
    paths_.insert_or_assign(st.st_ino, "/");
    seen.insert(st.st_ino);
  }
  const size_t skip = root_.size() + (root_.back() == '/' ? 0 : 1);
  std::error_code ec;
  for (fs::recursive_directory_iterator
           it(root_, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (::stat(it->path().c_str(), &st) != 0) continue;
    const std::string& p = it->path().native();
    std::string rel = "/";  // not `"/" + substr`: GCC 12 -O3 false -Wrestrict (PR 105329)
    rel.append(p, std::min(skip, p.size()));
    paths_.insert_or_assign(st.st_ino, std::move(rel));
    seen.insert(st.st_ino);
  }
  // Gone since we learnt them (their rmdir record was missed): evict after
  // the grace period like any removed cgroup.
  const uint64_t now = mono_ns();
  for (const auto& [id, _] : paths_)
    if (!seen.count(id)) forget_later(id, now);
}

const std::string* CgroupPaths::find(uint64_t id) const {
  auto it = paths_.find(id);
  return it == paths_.end() ? nullptr : &it->second;
}

const std::string& CgroupPaths::path_of(uint64_t id) {
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  // Unknown: created since the walk and its mkdir record not seen (yet).
  // Re-scan at most every 50 ms so a storm of unknown ids cannot turn into a
  // walk per event.
  if (!root_.empty() && mono_ns() - last_scan_ns_ > 50'000'000ull) {
    rescan();
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  }
  return kEmpty;
}

void CgroupPaths::learn(uint64_t id, std::string path) {
  paths_.insert_or_assign(id, std::move(path));
}

void CgroupPaths::forget_later(uint64_t id, uint64_t now) {
  // Already doomed (a re-scan after its rmdir): keep the earlier due time, and
  // doomed_ free of duplicates (re-scans may run every 50 ms).
  if (!doomed_ids_.insert(id).second) return;
  const uint64_t due = now + grace_ns_;
  // Keep doomed_ sorted by due time (callers pass a monotonic clock, so this
  // is an append except for a rare out-of-order caller).
  auto it = doomed_.end();
  while (it != doomed_.begin() && std::prev(it)->first > due) --it;
  doomed_.insert(it, {due, id});
}

std::vector<uint64_t> CgroupPaths::evict(uint64_t now) {
  std::vector<uint64_t> out;
  while (!doomed_.empty() && doomed_.front().first <= now) {
    uint64_t id = doomed_.front().second;
    doomed_.pop_front();
    doomed_ids_.erase(id);
    if (paths_.erase(id)) out.push_back(id);
  }
  return out;
}

}  // namespace sysctlscope
