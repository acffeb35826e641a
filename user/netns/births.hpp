// SPDX-License-Identifier: Apache-2.0
// Turns netns_create records into events with `defaults` and
// `differs_from_host`, once the snapshot decoder is calibrated.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "model/event.hpp"
#include "netns/snapshot.hpp"

namespace sysctlscope::netns {

class Births {
 public:
  explicit Births(std::unique_ptr<SnapshotDecoder> dec) : dec_(std::move(dec)) {}
  // The tool's own throwaway netns whose record calibrates the decoder.
  void expect_calibration(FreshNetns f) { calib_ = std::move(f); }

  // True: `out` got its birth fields (defaults, differs_from_host,
  // unmapped) from the record's snapshot `r`. False: drop the event (our
  // calibration netns, or a record before calibration, i.e. before tracing
  // was announced).
  bool fill(const ss_netns_create_event& r, NetnsCreate& out);
  bool calibrated() const { return dec_->calibrated(); }
  // A sysctl write was observed: re-read the host's values at the next birth.
  void host_changed() { host_read_ns_ = 0; }
  const SnapshotDecoder& decoder() const { return *dec_; }

 private:
  const SysctlMap& host_values(const std::map<std::string, std::string>& names, uint64_t now_ns);
  std::unique_ptr<SnapshotDecoder> dec_;
  FreshNetns calib_;
  SysctlMap host_;
  uint64_t host_read_ns_ = 0;
};

}  // namespace sysctlscope::netns
