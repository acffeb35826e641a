// SPDX-License-Identifier: Apache-2.0
// Write results without hooking write(): the sysctl is read back where the
// write applied, shortly after it, and compared with what was written.
//
// Why: a program on syscalls:sys_exit_write costs every write() on the host
// (+60..250 ns on a 270 ns write, BENCHMARKS.md), for a result that matters
// only for the rare sysctl write. `--write-results syscall` keeps the exact
// errno from the write exits for those who want it (docs/events.md).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/event.hpp"
#include "model/sysctl_path.hpp"  // scope_of

namespace sysctlscope {


// The result of `write` given the value read back afterwards, as the
// sysctl's handler decides it (model/sysctl_handlers.hpp): "ok" when it now
// holds what the handler stores for the written text, "not_applied" when it
// holds what a refusal leaves (the old value, or a vector's first elements),
// "unknown" otherwise (nothing read, a truncated value, or changed by
// someone else since). Sets `write.stored` when the kernel stored something
// other than the written text (ok) or the old value (refused).
WriteOutcome judge_readback(SysctlWrite& write, const std::optional<std::string>& now);

// `--write-results syscall`: sets `write.stored` from the errno and the
// handler's rules, where they determine it.
void note_stored(SysctlWrite& write);

// How far a net.* read-back may look for the write's netns.
enum class Reach {
  // Only through the writer itself (tid, then pid), checked by inode: while
  // the writer lives it holds that very netns, whatever reuses inodes.
  Writer,
  // Also tasks seen in the same netns generation, /run/netns and Docker's
  // netns handles, and a scan of /proc (by inode: the caller first makes sure
  // no newer netns of that inode was seen).
  Anyone,
};

// Where the current value comes from (an interface so the pipeline's use of
// it is unit-testable without a kernel).
class ValueSource {
 public:
  virtual ~ValueSource() = default;
  // The sysctl's value now, as seen in the namespace(s) `write` applied to;
  // nullopt when that cannot be read (namespace gone, writer gone for a
  // UTS/IPC/user sysctl, unreadable entry), in the write's netns generation
  // (Event::netns_id()); `reach` matters for net.* only.
  virtual std::optional<std::string> current_value(const Event& write, Reach reach) = 0;
  // A task seen in `netns` (generation `gen`): a way into that netns once
  // the writer is gone.
  virtual void saw(NetnsId netns, uint32_t pid) = 0;
};

// The name of the thread that joins other namespaces to read a value back:
// another tracer on the host sees its setns() and read as this tool's
// (docs/events.md). At most 15 characters (comm).
inline constexpr const char* kReadbackThreadName = "sysctlscope-rb";

// Reads /proc/sys directly for global sysctls and for the tool's own
// namespaces; otherwise from a short-lived thread (kReadbackThreadName) that
// setns()es into the writer's namespace (net: the writer, else a task seen
// in the same netns generation, else a /run/netns or Docker netns handle or
// any process found in it, always checked by inode; UTS/IPC: the writer, if
// alive; user: only the tool's own user namespace).
class ProcValueSource final : public ValueSource {
 public:
  ProcValueSource();
  std::optional<std::string> current_value(const Event& write, Reach reach) override;
  void saw(NetnsId netns, uint32_t pid) override {
    // Direct-mapped, a few ways per bucket, newest first: O(1) on the
    // per-event hot path.
    auto& b = seen_[netns.inode % seen_.size()];
    if (b[0].netns == netns && b[0].pid == pid) return;
    for (size_t i = b.size() - 1; i > 0; --i) b[i] = b[i - 1];
    b[0] = {netns, pid};
  }

 private:
  struct Seen {
    NetnsId netns;
    uint32_t pid = 0;
  };
  std::array<std::array<Seen, 4>, 256> seen_{};
  // No cache of namespace fds on purpose: an fd keeps its netns alive, and
  // with it a dead container's veth and routes. An observer must not.
  uint64_t own_net_ = 0, own_uts_ = 0, own_ipc_ = 0, own_user_ = 0;
};

}  // namespace sysctlscope
