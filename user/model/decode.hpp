// SPDX-License-Identifier: Apache-2.0
// Raw ring-buffer records (include/sysctlscope/event.h) -> Decoded. Which
// record makes which event, and how, is the registry's (model/event_types.hpp);
// the records that are not events (write results, writer exits, cgroup
// changes) are registered here the same way: a struct with kRecords and
// decode(), one alternative of Decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/error.hpp"
#include "model/event.hpp"

struct ss_netns_create_event;

namespace sysctlscope {

// Converts bpf_ktime_get_boot_ns() stamps to Unix time.
class BootClock {
 public:
  BootClock();  // measures CLOCK_REALTIME - CLOCK_BOOTTIME now
  explicit BootClock(int64_t offset_ns) : offset_(offset_ns) {}
  uint64_t to_epoch(uint64_t boot_ns) const {
    return static_cast<uint64_t>(static_cast<int64_t>(boot_ns) + offset_);
  }

 private:
  int64_t offset_;
};

// The write() syscall result for a sysctl_write (joined by write_id + tid).
struct WriteResult {
  static constexpr uint32_t kRecords = SS_TYPE_BIT(SS_EV_WRITE_RESULT);
  uint64_t write_id = 0;
  uint32_t tid = 0;
  int64_t ret = 0;  // bytes written or -errno
  static DecodeStatus decode(const RawRecord& r, WriteResult& p, const BootClock&);
};

// A cgroup v2 directory created or removed (not an event: feeds the enricher).
struct CgroupChange {
  static constexpr uint32_t kRecords =
      SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR);
  bool removed = false;
  uint64_t id = 0;
  int32_t level = 0;
  std::string path;      // from the cgroup2 root; "" when the kernel's was cut
  uint64_t time_ns = 0;  // Unix epoch
  static DecodeStatus decode(const RawRecord& r, CgroupChange& p, const BootClock& clock);
};

// A thread that wrote a net.* sysctl exited (readback mode): its netns as it
// was then, for the birth decoder (not an event: it judges held writes).
struct WriterExit {
  static constexpr uint32_t kRecords = SS_TYPE_BIT(SS_EV_WRITER_EXIT);
  uint32_t pid = 0, tid = 0;
  NetnsInode netns = 0;
  uint64_t boot_ns = 0;
  std::shared_ptr<const ss_netns_create_event> snapshot;
  static DecodeStatus decode(const RawRecord& r, WriterExit& p, const BootClock&);
};

// What one record is: an event (the registry's types), a record that feeds a
// stage, or nothing to report (monostate: a refused open of a non-sysctl file).
using Decoded = std::variant<std::monostate, Event, WriteResult, WriterExit, CgroupChange>;

class Decoder {
 public:
  explicit Decoder(BootClock clock = BootClock()) : clock_(clock) {}
  // A malformed record (wrong version, short) is an error value, not a crash.
  Expected<Decoded> decode(const void* data, size_t len) const;
  // The common fields of an event record (its header).
  void fill_common(const ss_hdr& h, Event& e) const;
  const BootClock& clock() const { return clock_; }

 private:
  BootClock clock_;
};

}  // namespace sysctlscope
