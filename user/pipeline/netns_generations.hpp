// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <unordered_map>

#include "model/event.hpp"

namespace sysctlscope {

// Netns generations, counted in one place: 0 for a netns born before the
// tracer, +1 per netns_create of its inode seen since (inodes are reused at
// once). State kept per namespace anywhere is keyed by the NetnsId.
class NetnsGenerations {
 public:
  NetnsId born(NetnsInode inode) { return {inode, ++gens_[inode]}; }
  NetnsId current(NetnsInode inode) const {
    auto it = gens_.find(inode);
    return {inode, it == gens_.end() ? 0 : it->second};
  }

 private:
  std::unordered_map<NetnsInode, uint32_t> gens_;
};

}  // namespace sysctlscope
