// SPDX-License-Identifier: Apache-2.0
// Raw ring-buffer records (include/sysctlscope/event.h) -> Event. Which
// record makes which event, and how, is the registry's (model/event_types.hpp);
// write results and cgroup changes are not events and are decoded here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "model/event.hpp"

struct ss_netns_create_event;

namespace sysctlscope {

// The write() syscall result for a sysctl_write (joined by write_id + tid).
struct WriteResult {
  uint64_t write_id = 0;
  uint32_t tid = 0;
  int64_t ret = 0;  // bytes written or -errno
};

// A cgroup v2 directory created or removed (not an event: feeds the enricher).
struct CgroupChange {
  bool removed = false;
  uint64_t id = 0;
  int32_t level = 0;
  std::string path;      // from the cgroup2 root; "" when the kernel's was cut
  uint64_t time_ns = 0;  // Unix epoch
};

// A thread that wrote a net.* sysctl exited (readback mode): its netns as it
// was then, for the birth decoder (not an event: it judges held writes).
struct WriterExit {
  uint32_t pid = 0, tid = 0;
  uint32_t netns = 0;
  uint64_t boot_ns = 0;
  std::shared_ptr<const ss_netns_create_event> snapshot;
};

struct Decoded {
  std::optional<Event> event;
  std::optional<WriterExit> writer_exit;
  std::optional<WriteResult> write_result;
  std::optional<CgroupChange> cgroup;
};

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

class Decoder {
 public:
  explicit Decoder(BootClock clock = BootClock()) : clock_(clock) {}
  // A malformed record (wrong version, short) is an error value, not a crash.
  Expected<Decoded> decode(const void* data, size_t len) const;

 private:
  void fill_common(const ss_hdr& h, Event& e) const;
  BootClock clock_;
};

}  // namespace sysctlscope
