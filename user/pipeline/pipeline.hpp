// SPDX-License-Identifier: Apache-2.0
// Record -> decode -> join write results -> enrich -> filter -> sink.
// Shared by `trace` and `record`; replay enters after decode (feed()).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "enrich/enricher.hpp"
#include "model/decode.hpp"
#include "model/filter.hpp"
#include "netns/births.hpp"
#include "output/sink.hpp"
#include "pipeline/readback.hpp"
#include "policy/audit.hpp"

namespace sysctlscope {

struct PipelineStats {
  uint64_t records = 0;                    // ring-buffer records seen
  uint64_t emitted = 0;                    // events written to the sink
  uint64_t lost = 0;                       // records the kernel dropped (ring buffer full)
  uint64_t malformed = 0;                  // records we could not decode
  uint64_t by_type[kEventTypeCount] = {};  // indexed by index_of(EventType)
};

class Pipeline {
 public:
  Pipeline(Filter filter, Enricher* enricher, Sink& sink, bool join_writes);

  // One raw ring-buffer record.
  void on_record(const void* data, size_t len);
  // A decoded event (replay enters here).
  void feed(Event&& e);  // by reference: no Event move per record
  // The kernel's loss counter moved to `total`: emits a `lost` event.
  void on_lost_total(uint64_t total, uint64_t now_epoch_ns);
  // Syscall results: emits held writes whose result did not come within
  // 250 ms (result stays "unknown"). Read-back results: judges and emits
  // held writes at least 1 ms old. All of them when `all`. Ages are taken
  // on CLOCK_BOOTTIME (core/clock.hpp boot_ns()), the kernel's stamp of each
  // record: monotonic, so a wall-clock step neither holds writes back nor
  // releases them early.
  void expire_writes(uint64_t now_boot_ns, bool all);
  // Write results by reading the sysctl back (readback.hpp) instead of
  // joining write-syscall results. Not owned; set before the first record.
  void set_readback(ValueSource* src) { readback_ = src; }

  const PipelineStats& stats() const { return stats_; }
  bool done() const { return limit_ && stats_.emitted >= limit_; }
  void set_limit(uint64_t n) { limit_ = n; }  // --count
  // netns_create records get their birth defaults from `b` (live only).
  void set_births(netns::Births* b) { births_ = b; }
  // While set, records only feed the netns calibration and are dropped:
  // the tool's own start-up activity is not reported.
  void set_discarding(bool d) { discarding_ = d; }
  // --policy: each event is judged and its sysctl_drift events follow it.
  // Not owned.
  void set_policy(policy::Monitor* m) { policy_ = m; }

 private:
  void emit(Event& e);
  void apply_result(const WriteResult& r);
  void resolve_readbacks(uint64_t now_boot_ns, bool all);

  Filter filter_;
  Enricher* enricher_;
  Sink& sink_;
  Decoder decoder_;
  bool join_writes_;
  uint64_t limit_ = 0;
  uint64_t lost_seen_ = 0;
  PipelineStats stats_;
  // Writes waiting for their syscall result, in arrival order.
  std::deque<Event> held_;
  std::map<uint64_t, WriteResult> early_results_;  // result before its write (rare)
  netns::Births* births_ = nullptr;
  bool discarding_ = false;
  ValueSource* readback_ = nullptr;
  policy::Monitor* policy_ = nullptr;
};

}  // namespace sysctlscope
