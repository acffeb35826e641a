// SPDX-License-Identifier: Apache-2.0
// Which container owns each network namespace, per generation of its inode:
// an inode is reused once its namespace is freed, so a netns_create (or the
// owner's death) starts a new generation; events older than that still see
// the owner of the one before.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "enrich/container_table.hpp"

namespace sysctlscope {

class NetnsOwnership {
 public:
  struct Slot {
    KnownContainer* owner = nullptr;
    uint64_t since_ns = 0;  // the current generation began then
    KnownContainer* before = nullptr;
    bool scanned = false;  // runtimes' state scanned for this generation's owner
    KnownContainer* at(uint64_t t) const { return t >= since_ns ? owner : before; }
  };
  Slot* find(uint32_t netns);
  Slot& slot(uint32_t netns) { return slots_[netns]; }
  // The current owner of `netns`; nullptr when none is known.
  const KnownContainer* owner(uint32_t netns) const;
  // A new namespace got inode `netns` at `t` (or its owner died then).
  // Returns the owner of the generation that ended (nullptr: none).
  KnownContainer* new_generation(uint32_t netns, uint64_t t);
  // Records `k` as the owner of `netns` unless it has one; a pod's sandbox
  // replaces an owner that is not one. Returns the owner.
  KnownContainer* claim(uint32_t netns, KnownContainer* k);
  // The namespaces `k` owns now.
  std::vector<uint32_t> owned_by(const KnownContainer* k) const;
  // `k` is freed: no generation names it (the current ones too if
  // `current`, else only the ended ones).
  void forget(const KnownContainer* k, bool current);

 private:
  std::unordered_map<uint32_t, Slot> slots_;
};

}  // namespace sysctlscope
