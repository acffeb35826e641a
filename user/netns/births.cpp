// SPDX-License-Identifier: Apache-2.0
#include "netns/births.hpp"
#include "core/clock.hpp"

#include <linux/types.h>
#include <time.h>

#include "sysctlscope/event.h"

namespace sysctlscope::netns {

const SysctlMap& Births::host_values(const std::map<std::string, std::string>& names, uint64_t now) {
  // "The host's current value at that moment": re-read after any sysctl
  // write the tool saw (host_changed) and otherwise at most every 100 ms, and
  // only the names the birth has (~360 files, a few ms; the whole host tree
  // with every device's conf/neigh is several times that), so a burst of
  // namespace births (a pod roll-out) stays cheap while a change made just
  // before a birth is not missed.
  if (host_read_ns_ == 0 || now - host_read_ns_ > 100000000ull) {
    host_.clear();
    host_read_ns_ = now;
  }
  for (const auto& kv : names)
    if (!host_.count(kv.first)) host_[kv.first] = read_sysctl_value(kv.first);  // the tool's netns: the host's
  return host_;
}

bool Births::fill(const ss_netns_create_event& r, Event& e) {
  if (!dec_->calibrated()) {
    if (calib_.inode && r.netns == calib_.inode) {
      dec_->calibrate(r, calib_.values, calib_.locs);
      if (calib_.hidden_in_child_userns) dec_->set_hidden_in_child_userns(std::move(*calib_.hidden_in_child_userns));
      calib_ = {};  // inode numbers are reused once that netns is gone
      return false;
    }
    return false;
  }
  auto res = dec_->decode(r);
  auto& defaults = e.extra["defaults"] = nlohmann::ordered_json::object();
  // ordered_json's operator[] searches linearly: ~575 inserts that way cost
  // more than the whole decode. Keys from a std::map are unique and sorted,
  // so append to the underlying vector directly.
  using Container = nlohmann::ordered_json::object_t::Container;
  auto& obj = static_cast<Container&>(defaults.get_ref<nlohmann::ordered_json::object_t&>());
  obj.reserve(res.defaults.size());
  for (const auto& [k, v] : res.defaults) obj.emplace_back(k, v);
  auto& differs = e.extra["differs_from_host"] = nlohmann::ordered_json::array();
  const SysctlMap& host = host_values(res.defaults, mono_ns());
  for (const auto& [k, v] : res.defaults) {
    auto it = host.find(k);
    if (it == host.end() || it->second.err || it->second.value == v) continue;
    differs.push_back({{"sysctl", k}, {"value", v}, {"host", it->second.value}});
  }
  if (!res.unmapped.empty()) e.extra["unmapped"] = res.unmapped;
  return true;
}

}  // namespace sysctlscope::netns
