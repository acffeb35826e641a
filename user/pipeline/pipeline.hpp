// SPDX-License-Identifier: Apache-2.0
// Record -> decode -> netns generation -> births -> enrich -> write
// results (held_writes.hpp) -> followers -> filter -> sink. Shared by
// `trace` and `record` (user/session/); replay enters after decode (feed()).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "enrich/enricher.hpp"
#include "model/decode.hpp"
#include "model/filter.hpp"
#include "netns/births.hpp"
#include "output/sink.hpp"
#include "pipeline/held_writes.hpp"
#include "pipeline/netns_generations.hpp"
#include "pipeline/readback.hpp"

namespace sysctlscope {

struct PipelineStats {
  uint64_t records = 0;                    // ring-buffer records seen
  uint64_t emitted = 0;                    // events written to the sink
  uint64_t lost = 0;                       // records the kernel dropped (ring buffer full)
  uint64_t malformed = 0;                  // records we could not decode
  uint64_t by_type[kEventTypeCount] = {};  // indexed by index_of(EventType)
};

// The events an event causes (policy drift, detections): emitted right
// after it, in the order of the followers. May amend the event itself (a
// write the policy refused did fail).
using FollowersFn = std::function<std::vector<Event>(Event&)>;

// What a pipeline is made of, fixed before the first record (the session's
// stages fill it: user/session/).
struct PipelineConfig {
  Filter filter;
  Enricher* enricher = nullptr;  // null: events come attributed (replay)
  // Syscall results: joins SS_EV_WRITE_RESULT records to their writes.
  bool join_writes = false;
  // Write results by reading the sysctl back (readback.hpp) instead. Not owned.
  ValueSource* readback = nullptr;
  // The kernel sends a snapshot of a net.* writer's netns at its exit
  // (SS_EV_WRITER_EXIT): a write whose writer is gone waits for it.
  bool writer_exits = false;
  uint64_t limit = 0;  // --count; 0: none
  // netns_create records get their birth defaults from it (live only).
  netns::Births* births = nullptr;
  std::vector<FollowersFn> followers;
  // Called when a netns inode starts a new generation (its netns_create is
  // decoded), before any event of the new namespace: state kept per inode
  // elsewhere (the --enforce map) must not pass to the namespace reusing it.
  std::vector<std::function<void(NetnsId born)>> on_new_generation;
};

class Pipeline {
 public:
  Pipeline(PipelineConfig cfg, Sink& sink);
  // No enricher, nothing but the filter and the way write results come.
  Pipeline(Filter filter, Enricher* enricher, Sink& sink, bool join_writes);
  Pipeline(const Pipeline&) = delete;  // held_ calls back into this one
  Pipeline& operator=(const Pipeline&) = delete;

  // One raw ring-buffer record.
  void on_record(const void* data, size_t len);
  // A decoded event (replay enters here).
  void feed(Event&& e);  // by reference: no Event move per record
  // The kernel's loss counter moved to `total`: emits a `lost` event.
  void on_lost_total(uint64_t total, uint64_t now_epoch_ns);
  // Syscall results: emits held writes whose result did not come within
  // 250 ms (result stays "unknown"). Read-back results: judges held writes at
  // least 1 ms old; a net.* write whose writer is gone waits up to
  // kExitWaitNs for its writer's exit snapshot. All of them when `all`. Ages
  // are taken on CLOCK_BOOTTIME (core/clock.hpp boot_ns()), the kernel's
  // stamp of each record: monotonic, so a wall-clock step neither holds
  // writes back nor releases them early.
  //
  // Events leave in the order the kernel queued them: an event behind a held
  // write waits with it (docs/events.md, "Order").
  void expire_writes(uint64_t now_boot_ns, bool all);
  // A net.* writer exited in netns `netns` at `boot_ns`; `value_of` gives a
  // dotted name's /proc text there (nullopt: not in the snapshot). The
  // decoded form of SS_EV_WRITER_EXIT, asked only for the writes waiting.
  using ValueOf = HeldWrites::ValueOf;
  void on_writer_exit(uint32_t tid, NetnsInode netns, uint64_t boot_ns, const ValueOf& value_of);
  // The namespace `inode` names now. A write is judged only within its own
  // generation.
  NetnsId netns_now(NetnsInode inode) const { return gens_.current(inode); }
  // How long a write whose writer is gone waits for the exit snapshot.
  static constexpr uint64_t kExitWaitNs = HeldWrites::kExitWaitNs;

  const PipelineStats& stats() const { return stats_; }
  bool done() const { return cfg_.limit && stats_.emitted >= cfg_.limit; }
  // While set, records only feed the netns calibration and are dropped:
  // the tool's own start-up activity is not reported.
  void set_discarding(bool d) { discarding_ = d; }

 private:
  void on_event(Event& e);  // a decoded event record
  void admit(Event&& e, bool ready);
  void emit(Event& e);
  // Followed (policy drift, detections), filtered, emitted.
  void out(Event& e);

  PipelineConfig cfg_;
  Sink& sink_;
  Decoder decoder_;
  uint64_t lost_seen_ = 0;
  PipelineStats stats_;
  NetnsGenerations gens_;
  HeldWrites held_;  // after gens_: it reads them
  bool discarding_ = false;
};

}  // namespace sysctlscope
