// SPDX-License-Identifier: Apache-2.0
// What the kernel stores for a written text, and whether the write() fails,
// per sysctl handler family: the parse rules of kernel/sysctl.c
// (__do_proc_dointvec, do_proc_douintvec_w, __do_proc_doulongvec_minmax,
// proc_get_long, _proc_do_string, proc_do_large_bitmap) and the custom
// handlers around them (net/ipv4/sysctl_net_ipv4.c, kernel/utsname_sysctl.c).
// Pure: the caller supplies the value before the write and
// kernel.sysctl_writes_strict.
//
// Why a model and not a byte compare: the handlers rewrite what they accept
// (0x10 -> 16, 010 -> 8, one port of a range keeps the other bound,
// ping_group_range "100 50" -> "1 0", port lists sorted and merged, strings
// cut at the table's maxlen), and a vector write refused half-way has
// already stored its first elements. Comparing the text read back with the
// text written calls those `unknown` or, worse, "nothing changed".
// tests/corpus/kernel_writes.tsv is the same rules measured on a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/vocab.hpp"

namespace sysctlscope {

enum class HandlerFamily {
  Int,         // proc_dointvec, proc_dointvec_minmax (vectors: one int per element)
  Jiffies,     // proc_dointvec_jiffies: seconds in, seconds out (stored * HZ)
  UserHz,      // proc_dointvec_userhz_jiffies: USER_HZ ticks, rounded through HZ
  MsJiffies,   // proc_dointvec_ms_jiffies: ms in, ms rounded up to a jiffy out
  Uint,        // proc_douintvec(_minmax), proc_dou8vec_minmax: one value, no sign
  Ulong,       // proc_doulongvec_minmax: vectors of unsigned long
  Bool,        // proc_dobool: an int parse, stored as 0/1
  String,      // proc_dostring, proc_do_uts_string: cut at maxlen - 1, stops at \n
  NamedString, // a string the handler then looks up (tcp_congestion_control: ENOENT)
  PortRange,   // ipv4_local_port_range: two ints, all or nothing, lo <= hi
  GroupRange,  // ipv4_ping_group_range: two gids; an empty range is stored as "1 0"
  Bitmap,      // proc_do_large_bitmap: "a-b,c" lists, stored sorted and merged
};

struct SysctlHandler {
  HandlerFamily family = HandlerFamily::Int;
  // Bounds the handler checks per element (minmax); nullopt: unknown here
  // (the table's extra1/extra2 vary by sysctl or with other sysctls), so a
  // value may be refused or not. `bounded` false: plain proc_dointvec etc.,
  // which refuses only what it cannot parse or what overflows.
  bool bounded = false;
  std::optional<int64_t> min, max;
  unsigned maxlen = 0;  // strings: the table's maxlen (stores maxlen - 1 chars)
  const char* source = "";
};

// The handler of a sysctl by dotted name, from the table in
// sysctl_handlers.cpp (each row names the kernel file that defines it);
// nullopt for names not in it.
std::optional<SysctlHandler> handler_of(std::string_view dotted);

// One thing the kernel may do with a write.
struct KernelWrite {
  bool ok = true;         // write() returned >= 0
  size_t taken = 0;       // its return value when ok (a short write takes less)
  // What /proc/sys prints afterwards, blanks collapsed (normalize_value).
  // Elements of a numeric value may be a range when a unit conversion
  // rounds by HZ, which userspace does not know: "lo..hi".
  std::vector<std::string> stored;
  bool approx = false;    // some element of `stored` is a range
};

// Every outcome the handler family allows for writing `bytes` (exactly what
// was passed to write(), trailing newline included) at `pos`, given the
// value `old` (as /proc printed it) and kernel.sysctl_writes_strict. More
// than one when the handler checks bounds this model does not know.
// Empty when the handler cannot be modelled for this input (for example a
// value the kernel printed in a form this model does not parse).
std::vector<KernelWrite> kernel_write_outcomes(const SysctlHandler& h, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict);

// The verdict on a write given what was read back afterwards.
struct HandlerVerdict {
  WriteOutcome result;                // ok, not_applied (refused), unknown = undecided
  std::optional<std::string> stored;  // what the kernel stored, when it is not simply the
                                      // written text (ok) or the old value (refused)
};

// Judges by the handler family of `dotted` (the table, else a list of
// integers judged as proc_dointvec would parse it). nullopt: no model
// applies (a string sysctl outside the table); the caller compares bytes.
std::optional<HandlerVerdict> judge_by_handler(std::string_view dotted, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict, std::string_view now);

// What the sysctl holds after a write whose syscall result is known
// (`result`: ok or an errno): the stored value when the model
// determines it and it differs from the written text (ok) or from the old
// value (EINVAL after storing a vector's first elements); nullopt otherwise.
std::optional<std::string> stored_after_result(std::string_view dotted, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict, WriteOutcome result);

}  // namespace sysctlscope
