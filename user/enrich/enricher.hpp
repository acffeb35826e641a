// SPDX-License-Identifier: Apache-2.0
// Enrichment: fills cgroup path and container identity from what the kernel
// captured (cgroup id, netns inode), so it stays right for exited processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "model/event.hpp"

namespace sysctlscope {

class Enricher {
 public:
  virtual ~Enricher() = default;
  virtual void enrich(Event& e) = 0;
};

// cgroup v2 id -> path relative to the cgroup2 root ("/docker/<id>").
// Built by one walk; an unknown id triggers one re-scan (rate limited), so a
// cgroup created after start resolves on its first event.
class CgroupPaths {
 public:
  explicit CgroupPaths(std::string root);
  // "" when unknown even after a re-scan.
  const std::string& path_of(uint64_t id);
  void rescan();
  size_t size() const { return paths_.size(); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::unordered_map<uint64_t, std::string> paths_;
  uint64_t last_scan_ns_ = 0;
};

std::unique_ptr<Enricher> make_default_enricher(const std::string& cgroup_root);

}  // namespace sysctlscope
