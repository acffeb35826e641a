// SPDX-License-Identifier: Apache-2.0
#include "enrich/netns_ownership.hpp"

namespace sysctlscope {

NetnsOwnership::Slot* NetnsOwnership::find(uint32_t netns) {
  auto it = slots_.find(netns);
  return it == slots_.end() ? nullptr : &it->second;
}

const KnownContainer* NetnsOwnership::owner(uint32_t netns) const {
  auto it = slots_.find(netns);
  return it == slots_.end() ? nullptr : it->second.owner;
}

KnownContainer* NetnsOwnership::new_generation(uint32_t netns, uint64_t t) {
  auto& slot = slots_[netns];
  KnownContainer* ended = slot.owner;
  // Late events of the generation that just ended keep its owner, none if
  // it had none (not the owner of an even older one).
  slot.before = slot.owner;
  slot.owner = nullptr;
  slot.since_ns = t;
  slot.scanned = false;
  return ended;
}

KnownContainer* NetnsOwnership::claim(uint32_t netns, KnownContainer* k) {
  auto& slot = slots_[netns];
  if (!slot.owner || (k->sandbox && !slot.owner->sandbox)) slot.owner = k;
  return slot.owner;
}

std::vector<uint32_t> NetnsOwnership::owned_by(const KnownContainer* k) const {
  std::vector<uint32_t> out;
  for (const auto& [ns, slot] : slots_)
    if (slot.owner == k) out.push_back(ns);
  return out;
}

void NetnsOwnership::forget(const KnownContainer* k, bool current) {
  for (auto n = slots_.begin(); n != slots_.end();) {
    if (n->second.before == k) n->second.before = nullptr;
    if (current && n->second.owner == k) n->second.owner = nullptr;
    n = n->second.owner || n->second.before ? std::next(n) : slots_.erase(n);
  }
}

}  // namespace sysctlscope
