// SPDX-License-Identifier: Apache-2.0
// The clocks the userspace side uses: monotonic for intervals and deadlines
// (boot time where they compare with kernel stamps), realtime (Unix epoch)
// for event times.
#pragma once

#include <time.h>

#include <cstdint>

namespace sysctlscope {

inline uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t mono_ns() { return clock_ns(CLOCK_MONOTONIC); }
inline uint64_t epoch_ns() { return clock_ns(CLOCK_REALTIME); }
// The kernel's event stamps (bpf_ktime_get_boot_ns): monotonic, and it keeps
// counting across suspend.
inline uint64_t boot_ns() { return clock_ns(CLOCK_BOOTTIME); }

}  // namespace sysctlscope
