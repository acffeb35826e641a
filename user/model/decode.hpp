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
#include <string_view>
#include <type_traits>
#include <utility>
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

// --write-results syscall: the write syscalls' exits (each where its
// tracepoint exists; only with sysctl_write, whose hook stores the pending
// write ids). Paths that write without a write syscall clear the pending
// entry so a later write() is not credited with it (bpf/syscalls.bpf.c).
inline constexpr BpfProgram kWriteExits[] = {
    {"ss_exit_write", "syscalls:sys_exit_write"},
    {"ss_exit_pwrite64", "syscalls:sys_exit_pwrite64"},
    {"ss_exit_writev", "syscalls:sys_exit_writev"},
    {"ss_exit_pwritev", "syscalls:sys_exit_pwritev"},
    {"ss_exit_pwritev2", "syscalls:sys_exit_pwritev2"},
    {"ss_clear_sendfile64", "syscalls:sys_exit_sendfile64"},
    {"ss_clear_splice", "syscalls:sys_exit_splice"},
    {"ss_clear_copy_file_range", "syscalls:sys_exit_copy_file_range"},
    {"ss_clear_io_uring_enter", "syscalls:sys_exit_io_uring_enter"},
    {"ss_clear_io_submit", "syscalls:sys_exit_io_submit"},
    {.name = "ss_clear_exit",
     .needs = KernelNeed::TpBtf,
     .without = "io-wq entries live until overwritten"}};
inline constexpr ProgramChoice kWriteExitChoices[] = {{.programs = kWriteExits}};
inline constexpr ProgramGroup kWriteExitPrograms{.choices = kWriteExitChoices,
                                                 .with = SS_TYPE_BIT(SS_EV_SYSCTL_WRITE)};

// The write() syscall result for a sysctl_write (joined by write_id + tid).
struct WriteResult {
  static constexpr uint32_t kRecords = SS_TYPE_BIT(SS_EV_WRITE_RESULT);
  static constexpr std::string_view kName = "write_result";
  static constexpr const ProgramGroup* kPrograms[] = {&kWriteExitPrograms};
  uint64_t write_id = 0;
  uint32_t tid = 0;
  int64_t ret = 0;  // bytes written or -errno
  static DecodeStatus decode(const RawRecord& r, WriteResult& p, const BootClock&);
};

// cgroup v2 births and removals: id -> path without racing short-lived
// containers (the enricher walks cgroupfs without them).
inline constexpr std::string_view kCgroupTracepoints[] = {"cgroup:cgroup_mkdir",
                                                          "cgroup:cgroup_rmdir"};
inline constexpr BpfProgram kCgroupHooks[] = {{"ss_cgroup_mkdir"}, {"ss_cgroup_rmdir"}};
inline constexpr ProgramChoice kCgroupChoices[] = {
    {.tracepoints = kCgroupTracepoints, .programs = kCgroupHooks}};
inline constexpr ProgramGroup kCgroupPrograms{
    .choices = kCgroupChoices,
    .none = "ss_cgroup_*: no cgroup:cgroup_mkdir/rmdir tracepoints (cgroup paths by walking "
            "cgroupfs)"};

// A cgroup v2 directory created or removed (not an event: feeds the enricher).
struct CgroupChange {
  static constexpr uint32_t kRecords =
      SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR);
  static constexpr std::string_view kName = "cgroup";
  static constexpr const ProgramGroup* kPrograms[] = {&kCgroupPrograms};
  bool removed = false;
  uint64_t id = 0;
  int32_t level = 0;
  std::string path;      // from the cgroup2 root; "" when the kernel's was cut
  uint64_t time_ns = 0;  // Unix epoch
  static DecodeStatus decode(const RawRecord& r, CgroupChange& p, const BootClock& clock);
};

// Readback mode: a snapshot of a net.* writer's netns at its exit judges
// writes in a netns that dies right after (decoded like a birth snapshot, so
// only with netns_create). raw_tp on sched_process_exit: task exits pay a
// hash lookup, syscalls nothing; on every kernel of the floor.
inline constexpr BpfProgram kWriterExitHook[] = {{"ss_writer_exit"}};
inline constexpr ProgramChoice kWriterExitChoices[] = {{.programs = kWriterExitHook}};
inline constexpr ProgramGroup kWriterExitPrograms{
    .choices = kWriterExitChoices,
    .with = SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) | SS_TYPE_BIT(SS_EV_NETNS_CREATE),
    .off = "ss_writer_exit: not readback mode, or no sysctl_write/netns_create"};

// A thread that wrote a net.* sysctl exited (readback mode): its netns as it
// was then, for the birth decoder (not an event: it judges held writes).
struct WriterExit {
  static constexpr uint32_t kRecords = SS_TYPE_BIT(SS_EV_WRITER_EXIT);
  static constexpr std::string_view kName = "writer_exit";
  static constexpr const ProgramGroup* kPrograms[] = {&kWriterExitPrograms};
  uint32_t pid = 0, tid = 0;
  NetnsInode netns = 0;
  uint64_t boot_ns = 0;
  std::shared_ptr<const ss_netns_create_event> snapshot;
  static DecodeStatus decode(const RawRecord& r, WriterExit& p, const BootClock&);
};

// What one record is: an event (the registry's types), a record that feeds a
// stage, or nothing to report (monostate: a refused open of a non-sysctl file).
using Decoded = std::variant<std::monostate, Event, WriteResult, WriterExit, CgroupChange>;

static_assert(std::is_same_v<std::variant_alternative_t<1, Decoded>, Event>);
// The records that are not events (the alternatives of Decoded after Event):
// f(std::type_identity<T>{}) for each, in order.
template <class F>
constexpr void for_each_record_type(F&& f) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I + 2, Decoded>>{}), ...);
  }(std::make_index_sequence<std::variant_size_v<Decoded> - 2>{});
}

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
