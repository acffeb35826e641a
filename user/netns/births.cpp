// SPDX-License-Identifier: Apache-2.0
#include "netns/births.hpp"

#include <linux/types.h>
#include <time.h>

#include "core/clock.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope::netns {

const SysctlMap& Births::host_values(const std::map<std::string, std::string>& names,
                                     uint64_t now) {
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
    if (!host_.count(kv.first))
      host_[kv.first] = read_sysctl_value(kv.first);  // the tool's netns: the host's
  return host_;
}

bool Births::fill(const ss_netns_create_event& r, NetnsCreate& out) {
  if (!dec_->calibrated()) {
    if (calib_.inode && r.netns == calib_.inode) {
      dec_->calibrate(r, calib_.values, calib_.locs);
      if (calib_.hidden_in_child_userns)
        dec_->set_hidden_in_child_userns(std::move(*calib_.hidden_in_child_userns));
      calib_ = {};  // inode numbers are reused once that netns is gone
      return false;
    }
    return false;
  }
  auto res = dec_->decode(r);
  out.defaults.emplace(res.defaults.begin(), res.defaults.end());  // sorted: a std::map
  auto& differs = out.differs_from_host.emplace();
  const SysctlMap& host = host_values(res.defaults, mono_ns());
  for (const auto& [k, v] : res.defaults) {
    auto it = host.find(k);
    if (it == host.end() || it->second.err || it->second.value == v) continue;
    differs.push_back({k, v, it->second.value});
  }
  // Global sysctls: the host's value is what a reader in the new netns sees.
  std::map<std::string, std::string> gnames;
  for (const auto& n : res.global) gnames.emplace(n, "");
  const SysctlMap& hv = host_values(gnames, mono_ns());
  auto& global = out.global.emplace();
  for (const auto& n : res.global)
    if (auto it = hv.find(n); it != hv.end() && !it->second.err) global.emplace_back(n, it->second.value);
    else res.unmapped.push_back(n);  // the host's could not be read: say so, do not guess
  out.unmapped = std::move(res.unmapped);
  if (!res.unmapped_reasons.empty())
    out.unmapped_reasons.emplace(res.unmapped_reasons.begin(), res.unmapped_reasons.end());
  return true;
}

}  // namespace sysctlscope::netns
