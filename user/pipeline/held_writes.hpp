// SPDX-License-Identifier: Apache-2.0
// The pipeline's write results: events in arrival order, held while a
// sysctl_write among them waits for its result (the write syscall's exit
// joined by write id, or the sysctl read back, readback.hpp). Events leave
// in the order the kernel queued them: an event behind a held write waits
// with it (docs/events.md, "Order").
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "model/decode.hpp"
#include "model/event.hpp"
#include "pipeline/netns_generations.hpp"
#include "pipeline/readback.hpp"

namespace sysctlscope {

class HeldWrites {
 public:
  // Where events go when they leave, in order.
  using Out = std::function<void(Event&)>;
  // `readback`: judge writes by reading back (not owned; null: syscall
  // results). `writer_exits`: the kernel sends a net.* writer's netns
  // snapshot at its exit. `gens`: the pipeline's netns generations.
  HeldWrites(ValueSource* readback, bool writer_exits, const NetnsGenerations& gens, Out out)
      : readback_(readback), writer_exits_(writer_exits), gens_(gens), out_(std::move(out)) {}

  // An event (enriched); `ready` false for a write still without a result.
  void admit(Event&& e, bool ready);
  // A write syscall's result: completes its held write, or waits for it (a
  // result before its write, rare).
  void apply_result(const WriteResult& r);
  // A write whose result came first: true when it got it.
  bool take_early_result(uint32_t tid, SysctlWrite& w);
  // A net.* writer exited in netns `netns` at `boot_ns`; `value_of` gives a
  // dotted name's /proc text there (nullopt: not in the snapshot).
  using ValueOf = std::function<std::optional<std::string>(const std::string&)>;
  void on_writer_exit(uint32_t tid, NetnsInode netns, uint64_t boot_ns, const ValueOf& value_of);
  // See Pipeline::expire_writes.
  void expire(uint64_t now_boot_ns, bool all);
  // How long a write whose writer is gone waits for the exit snapshot.
  static constexpr uint64_t kExitWaitNs = 200'000'000ull;

 private:
  // An event waiting for its turn to leave: a write until it has a result,
  // anything else until the writes before it have one.
  struct Queued {
    Event e;
    bool ready = true;
    bool writer_exited = false;  // its writer's exit snapshot came
    uint64_t exit_boot_ns = 0;
    std::optional<std::string> exit_value;  // the sysctl in that snapshot
    // Read back as a third value: held one more pass, in case the write that
    // changed it was queued while we read (then its old_value judges).
    bool deferred = false;
    std::optional<std::string> read_value;
  };
  void release();
  void resolve_readbacks(uint64_t now_boot_ns, bool all);
  Queued& at_seq(uint64_t seq) { return queue_[seq - front_seq_]; }

  ValueSource* readback_;
  bool writer_exits_;
  const NetnsGenerations& gens_;
  Out out_;
  // Events in arrival order; front_seq_ numbers queue_.front(). writes_ has
  // the sequence numbers of the writes in it (held or judged, not yet out).
  std::deque<Queued> queue_;
  uint64_t front_seq_ = 0;
  std::deque<uint64_t> writes_;
  size_t unready_ = 0;
  std::map<uint64_t, WriteResult> early_results_;  // result before its write (rare)
};

}  // namespace sysctlscope
