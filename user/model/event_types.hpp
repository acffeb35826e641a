// SPDX-License-Identifier: Apache-2.0
// The event-type registry: every event type is declared here, once.
//
// A type is a payload struct with
//   kInfo       a TypeInfo: its name, kernel record, `--failed` and actor flags,
//               the BPF programs that make the record and their fallbacks
//               (model/programs.hpp; the loader's plan is built from them),
//   decode()    record -> payload (only when kInfo.record != 0),
//   failed()    which events of a kInfo.can_fail type `--failed` keeps,
//   fields()    its JSON fields in output order (a visitor: the JSON writer and
//               reader in user/output/json.cpp walk it, no per-field dispatch),
//   row()       the table's SYSCTL / DETAIL column.
// EventData (the list at the bottom) holds one of them; everything that
// handles events by type (decoder, filter, sinks, per-type counters,
// recording, report) iterates over that list or visits the variant.
//
// Adding a type: its record in include/sysctlscope/event.h, its BPF program,
// a struct here with its program groups (and a line in EventData), tests and
// docs/events.md.
#pragma once

#include <linux/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "model/programs.hpp"
#include "model/vocab.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

struct Event;

// A record as the ring buffer handed it over (valid during decode only).
struct RawRecord {
  const ss_hdr& hdr;
  const void* data;
  size_t len;
};

enum class DecodeStatus {
  Event,    // decoded
  NoEvent,  // well-formed, but nothing to report (a refused open of a non-sysctl file)
  Short,    // shorter than its type's fixed part
  Corrupt,  // lengths that do not fit the record
};

// How absent / empty lists are written.
enum class Empty { Array, Null, Omit };

// One `differs_from_host` entry of a netns birth.
struct HostDiff {
  std::string sysctl, value, host;
  bool operator==(const HostDiff&) const = default;
};

// What the registry says about a type besides its fields.
struct TypeInfo {
  std::string_view name;    // JSON `event` (docs/events.md)
  uint32_t record = 0;      // the kernel record it is decoded from (0: made in userspace)
  uint32_t also_needs = 0;  // other kernel records it needs (SS_TYPE_BIT mask)
  // More records it needs per --write-results mode (indexed by WriteResultMode).
  std::array<uint32_t, 2> needs_by_mode{};
  bool can_fail = false;    // `--failed` may keep some (failed() says which)
  bool actor = true;        // has an acting task (`proc`, `cgroup` not null)
  bool is_public = true;    // users may name it (`--type`, help, docs/events.md)
  bool actor_if_known = false;  // not `actor`, but has one when the event's pid is set
  // The BPF programs that make `record`, with their fallbacks (model/programs.hpp).
  std::span<const ProgramGroup* const> programs = {};
};

// The longest value the kernel captures (SS_VALUE_MAX minus the NUL): a
// value cut there has exactly this many bytes.
inline constexpr size_t kValueCapture = SS_VALUE_MAX - 1;

// The cgroup/sysctl hook makes reads and writes (bpf/sysctl.bpf.c); without
// compare-and-swap its twin reserves each record at full size.
inline constexpr BpfProgram kSysctlHook[] = {{"ss_sysctl"}};
inline constexpr BpfProgram kSysctlHookReserve[] = {{"ss_sysctl_reserve"}};
inline constexpr ProgramChoice kSysctlHookChoices[] = {
    {.needs = KernelNeed::Atomics, .programs = kSysctlHook}, {.programs = kSysctlHookReserve}};
inline constexpr ProgramGroup kSysctlPrograms{
    .choices = kSysctlHookChoices, .off = "ss_sysctl: sysctl_read and sysctl_write filtered out"};
inline constexpr const ProgramGroup* kSysctlHookGroups[] = {&kSysctlPrograms};

// ------------------------------------------------------------ sysctl_read --
struct SysctlRead {
  static constexpr TypeInfo kInfo{
      .name = "sysctl_read", .record = SS_EV_SYSCTL_READ, .programs = kSysctlHookGroups};

  std::string sysctl;  // dotted, as sysctl(8) prints it
  std::string value;
  int64_t file_pos = 0;
  bool truncated = false;
  bool value_error = false;  // the kernel could not format the value

  static DecodeStatus decode(const RawRecord& r, SysctlRead& p, Event& e);
  template <class V, class P>
  static void fields(V& v, P& p) {
    v.text("sysctl", p.sysctl);
    v.bytes("value", p.value);
    v.num("file_pos", p.file_pos);
    v.flag("truncated", p.truncated);
    v.flag("value_error", p.value_error);
  }
  template <class R>
  void row(R& r) const {
    r.text(sysctl);
    r.lit(" = ");
    r.text(value);
    if (truncated) r.lit(" [truncated]");
  }
  bool operator==(const SysctlRead&) const = default;
};

// ----------------------------------------------------------- sysctl_write --
struct SysctlWrite {
  // Readback judges per netns generation (netns_create records, dropped in
  // userspace when filtered out) and, for a writer gone with its netns, by
  // the snapshot taken at its exit; syscall joins the write exits' results.
  static constexpr TypeInfo kInfo{
      .name = "sysctl_write",
      .record = SS_EV_SYSCTL_WRITE,
      .needs_by_mode = {SS_TYPE_BIT(SS_EV_NETNS_CREATE) | SS_TYPE_BIT(SS_EV_WRITER_EXIT),
                        SS_TYPE_BIT(SS_EV_WRITE_RESULT)},
      .can_fail = true,
      .programs = kSysctlHookGroups};

  std::string sysctl;
  std::string old_value;
  std::string value;          // the bytes written, one trailing newline removed
  WriteOutcome result;
  std::optional<WriteResultMode> result_source;  // absent in old recordings
  // What the kernel stored, when that is neither the written text (ok) nor
  // the old value (refused): 0x10 stored as 16, a vector refused after its
  // first elements (model/sysctl_handlers.hpp). "" = absent.
  std::string stored;
  int64_t file_pos = 0;
  bool old_truncated = false, value_truncated = false;
  bool value_error = false;
  bool denied = false, would_deny = false;  // --enforce (docs/policy.md)
  std::optional<uint64_t> bytes_written;  // a partial write (syscall results)
  uint64_t write_id = 0;                  // internal: joins the write with its syscall result
  uint32_t new_len = 0;                   // internal: bytes passed, before the newline strip

  static DecodeStatus decode(const RawRecord& r, SysctlWrite& p, Event& e);
  // "unknown" is not a failure we saw (io_uring, splice, ...: docs/events.md).
  static bool failed(const SysctlWrite& p) { return p.result.failed(); }
  template <class V, class P>
  static void fields(V& v, P& p) {
    v.text("sysctl", p.sysctl);
    v.bytes("old_value", p.old_value);
    v.bytes("value", p.value);
    v.outcome("result", p.result);
    v.num("file_pos", p.file_pos);
    // One `truncated` for both values: which one it was is told by length.
    v.truncation("truncated", p.old_value, p.old_truncated, p.value, p.value_truncated);
    v.flag("value_error", p.value_error);
    v.opt_word("result_source", p.result_source);
    v.opt_num("bytes_written", p.bytes_written);
    v.opt_bytes("stored", p.stored);
    v.flag("denied", p.denied);
    v.flag("would_deny", p.would_deny);
  }
  template <class R>
  void row(R& r) const {
    r.text(sysctl);
    r.lit(": ");
    r.text(old_value);
    r.lit(" -> ");
    r.text(value);
    if (!stored.empty()) {
      r.lit(" (stored ");
      r.text(stored);
      r.lit(")");
    }
    if (value_truncated || old_truncated) r.lit(" [truncated]");
    if (denied) r.lit(" [denied]");
    if (would_deny) r.lit(" [would deny]");
    r.lit(" [");
    r.text(to_string(result));
    r.lit("]");
  }
  bool operator==(const SysctlWrite&) const = default;
};

// Refused opens (bpf/syscalls.bpf.c): fexit on do_filp_open, where only opens
// pay; else each open syscall's exit tracepoint that exists (no open/creat on
// arm64, no openat2 before 5.6), which put every syscall on the slow path.
inline constexpr BpfProgram kBlockedFexit[] = {{"ss_fexit_filp_open"}};
inline constexpr BpfProgram kBlockedExits[] = {{"ss_exit_open", "syscalls:sys_exit_open"},
                                               {"ss_exit_openat", "syscalls:sys_exit_openat"},
                                               {"ss_exit_openat2", "syscalls:sys_exit_openat2"},
                                               {"ss_exit_creat", "syscalls:sys_exit_creat"}};
inline constexpr ProgramChoice kBlockedChoices[] = {
    {.needs = KernelNeed::Fentry,
     .programs = kBlockedFexit,
     .note = "ss_exit_open*: fexit on do_filp_open instead"},
    {.programs = kBlockedExits}};
inline constexpr ProgramGroup kBlockedPrograms{
    .choices = kBlockedChoices, .off = "ss_exit_open*: sysctl_blocked filtered out"};
inline constexpr const ProgramGroup* kBlockedGroups[] = {&kBlockedPrograms};

// --------------------------------------------------------- sysctl_blocked --
struct SysctlBlocked {
  static constexpr TypeInfo kInfo{.name = "sysctl_blocked",
                                  .record = SS_EV_SYSCTL_BLOCKED,
                                  .can_fail = true,
                                  .programs = kBlockedGroups};

  std::string sysctl;
  std::string path;  // as the process passed it
  bool path_truncated = false;
  std::string err;         // "EROFS", "EACCES", "EPERM"
  BlockedBy blocked_by = BlockedBy::Other;
  std::vector<std::string> flags;
  std::string syscall;
  std::vector<std::string> cmdline;  // empty: null
  bool cmdline_truncated = false;
  // Internal: the kernel could not read the arguments; the pipeline may take
  // them from /proc while the task still runs (user/enrich/proc.hpp).
  bool cmdline_unread = false;

  static DecodeStatus decode(const RawRecord& r, SysctlBlocked& p, Event& e);
  static bool failed(const SysctlBlocked&) { return true; }
  template <class V, class P>
  static void fields(V& v, P& p) {
    v.text("sysctl", p.sysctl);
    v.bytes("path", p.path);
    v.flag("path_truncated", p.path_truncated);
    v.text("errno", p.err);
    v.word("blocked_by", p.blocked_by);
    v.texts("flags", p.flags, Empty::Array);
    v.text("syscall", p.syscall);
    v.texts("cmdline", p.cmdline, Empty::Null);
    v.flag("cmdline_truncated", p.cmdline_truncated);
  }
  // net.ipv4.tcp_keepalive_time: open refused [EROFS read_only_mount] path=... cmd=...
  template <class R>
  void row(R& r) const {
    r.text(sysctl);
    r.lit(": open refused [");
    r.text(err);
    r.lit(" ");
    r.text(name_of(blocked_by));
    r.lit("] path=");
    r.text(path);
    if (!cmdline.empty()) {
      r.lit(" cmd=");
      for (size_t i = 0; i < cmdline.size(); ++i) {
        if (i) r.lit(" ");
        r.text(cmdline[i]);
      }
    }
  }
  bool operator==(const SysctlBlocked&) const = default;
};

// Births by clone/clone3: the fork hook (tp_btf, or raw_tp with the same
// arguments where BTF-typed tracepoints are missing; bpf/netns.bpf.c).
inline constexpr BpfProgram kForkBtf[] = {{"ss_netns_fork"}};
inline constexpr BpfProgram kForkRaw[] = {{"ss_netns_fork_raw"}};
inline constexpr ProgramChoice kForkChoices[] = {
    {.needs = KernelNeed::TpBtf, .programs = kForkBtf},
    {.programs = kForkRaw,
     .note = "ss_netns_fork: no tp_btf (raw_tp fallback: clone3 reported as clone)"}};
inline constexpr ProgramGroup kForkPrograms{.choices = kForkChoices,
                                            .off = "ss_netns_fork: netns_create filtered out"};
// unshare(CLONE_NEWNET) and setns(): exits only (an enabled sys_enter_* puts
// the entry path on every syscall of every task), flags read back from the
// saved user registers. Both keep the known_netns task storage current, so
// both netns types need both: without the setns exit, `--type netns_create`
// would give the netns a task left by setns() as the parent of its next
// unshare(); without the unshare exit, `--type netns_enter` would miss a
// setns() back to the original netns. Each emits only its own type.
inline constexpr BpfProgram kNsFexits[] = {{"ss_fexit_unshare"}, {"ss_fexit_setns"}};
inline constexpr BpfProgram kNsExits[] = {{"ss_exit_unshare", "syscalls:sys_exit_unshare"},
                                          {"ss_exit_setns", "syscalls:sys_exit_setns"}};
inline constexpr ProgramChoice kNsChoices[] = {{.needs = KernelNeed::Fentry, .programs = kNsFexits},
                                               {.programs = kNsExits}};
inline constexpr ProgramGroup kNsSyscallPrograms{
    .choices = kNsChoices,
    .off = "ss_exit_unshare, ss_exit_setns: netns_create and netns_enter filtered out"};
// known_netns as a tid-keyed hash (no task storage): entries leave with their thread.
inline constexpr BpfProgram kNsExitHook[] = {{"ss_netns_exit"}};
inline constexpr ProgramChoice kNsExitChoices[] = {{.needs = KernelNeed::TaskStorage},
                                                   {.programs = kNsExitHook}};
inline constexpr ProgramGroup kNsExitPrograms{.choices = kNsExitChoices};
inline constexpr const ProgramGroup* kNetnsCreateGroups[] = {&kForkPrograms, &kNsSyscallPrograms,
                                                             &kNsExitPrograms};

// ----------------------------------------------------------- netns_create --
struct NetnsCreate {
  static constexpr TypeInfo kInfo{
      .name = "netns_create", .record = SS_EV_NETNS_CREATE, .programs = kNetnsCreateGroups};

  uint32_t parent_netns = 0;  // 0: unknown (null)
  std::string via;            // clone, clone3, unshare
  uint32_t userns = 0;
  // Birth values (user/netns/births.cpp); absent until decoded from `snapshot`.
  std::optional<std::vector<std::pair<std::string, std::string>>> defaults;  // sorted by name
  std::optional<std::vector<HostDiff>> differs_from_host;
  // Sysctls that are one kernel variable for every netns: the host's value.
  std::optional<std::vector<std::pair<std::string, std::string>>> global;
  std::vector<std::string> unmapped;
  std::optional<std::vector<std::pair<std::string, std::string>>> unmapped_reasons;
  // Internal: the raw namespace snapshot, kept for the birth decoder (live
  // only; nullptr when replayed or when the record was short).
  std::shared_ptr<const ss_netns_create_event> snapshot;

  static DecodeStatus decode(const RawRecord& r, NetnsCreate& p, Event& e);
  template <class V, class P>
  static void fields(V& v, P& p) {
    v.inode("parent_netns", p.parent_netns);
    v.text("via", p.via);
    v.num("userns", p.userns);
    v.text_map("defaults", p.defaults);
    v.host_diffs("differs_from_host", p.differs_from_host);
    v.text_map("global", p.global);
    v.texts("unmapped", p.unmapped, Empty::Omit);
    v.text_map("unmapped_reasons", p.unmapped_reasons);
  }
  template <class R>
  void row(R& r) const {
    r.lit("via ");
    r.text(via);
    r.lit(" from netns ");
    r.num(parent_netns);
    if (differs_from_host && differs_from_host->empty()) r.lit(", defaults as on the host");
    if (differs_from_host && !differs_from_host->empty()) {
      // The first few by name: what a reader of the table wants to see.
      r.lit(", differs from host: ");
      constexpr size_t kShown = 3;
      for (size_t i = 0; i < differs_from_host->size() && i < kShown; ++i) {
        const auto& d = (*differs_from_host)[i];
        if (i) r.lit(", ");
        r.text(d.sysctl);
        r.lit("=");
        r.text(d.value);
        r.lit(" (host ");
        r.text(d.host);
        r.lit(")");
      }
      if (differs_from_host->size() > kShown) {
        r.lit(" and ");
        r.num(differs_from_host->size() - kShown);
        r.lit(" more");
      }
    }
  }
  bool operator==(const NetnsCreate& o) const {
    return parent_netns == o.parent_netns && via == o.via && userns == o.userns &&
           defaults == o.defaults && differs_from_host == o.differs_from_host &&
           global == o.global && unmapped == o.unmapped && unmapped_reasons == o.unmapped_reasons;
  }
};

// The fork hook also keeps known_netns current for children, which
// netns_enter needs when netns_create (which loads it anyway) is filtered out.
inline constexpr ProgramChoice kEnterForkChoices[] = {
    {.needs = KernelNeed::TpBtf, .programs = kForkBtf}};
inline constexpr ProgramGroup kEnterForkPrograms{.choices = kEnterForkChoices,
                                                 .unless = SS_TYPE_BIT(SS_EV_NETNS_CREATE)};
inline constexpr const ProgramGroup* kNetnsEnterGroups[] = {&kNsSyscallPrograms,
                                                            &kEnterForkPrograms, &kNsExitPrograms};

// ------------------------------------------------------------ netns_enter --
struct NetnsEnter {
  static constexpr TypeInfo kInfo{
      .name = "netns_enter", .record = SS_EV_NETNS_ENTER, .programs = kNetnsEnterGroups};

  uint32_t from_netns = 0;  // 0: unknown (null)

  static DecodeStatus decode(const RawRecord& r, NetnsEnter& p, Event& e);
  template <class V, class P>
  static void fields(V& v, P& p) {
    v.inode("from_netns", p.from_netns);
  }
  template <class R>
  void row(R& r) const {
    r.lit("from netns ");
    r.num(from_netns);
  }
  bool operator==(const NetnsEnter&) const = default;
};

// ------------------------------------------------------------------- lost --
struct Lost {
  static constexpr TypeInfo kInfo{.name = "lost", .actor = false};

  uint64_t count = 0;

  template <class V, class P>
  static void fields(V& v, P& p) {
    v.num("count", p.count);
  }
  template <class R>
  void row(R& r) const {
    r.num(count);
    r.lit(" events lost");
  }
  bool operator==(const Lost&) const = default;
};

// ---------------------------------------------------------- sysctl_drift --
// A sysctl whose value differs from what a policy expects (user/policy/,
// docs/policy.md). Made in userspace: no kernel record. `netns` and
// `container` are the common fields; a drift caused by a write has the
// writer as its actor (`proc`, `container`, `cross_namespace`).
struct SysctlDrift {
  // Made from the writes and births a --policy judges, whatever --type shows.
  static constexpr TypeInfo kInfo{.name = "sysctl_drift",
                                  .also_needs = SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                                                SS_TYPE_BIT(SS_EV_NETNS_CREATE),
                                  .actor = false,
                                  .actor_if_known = true};

  std::string sysctl;
  std::string expected;
  std::string value;
  std::string policy;     // "file:line" of the rule
  std::string cause;      // "check", "write", "netns_create"
  std::string old_value;  // cause "write": the value before
  bool resolved = false;  // a write restored the expected value
  bool missing = false;   // check: the sysctl does not exist here
  bool denied = false, would_deny = false;  // --enforce refused (would refuse) the write

  template <class V, class P>
  static void fields(V& v, P& p) {
    v.text("sysctl", p.sysctl);
    v.bytes("expected", p.expected);
    v.bytes("value", p.value);
    v.text("policy", p.policy);
    v.opt_text("cause", p.cause);
    v.opt_bytes("old_value", p.old_value);
    v.flag("resolved", p.resolved);
    v.flag("missing", p.missing);
    v.flag("denied", p.denied);
    v.flag("would_deny", p.would_deny);
  }
  template <class R>
  void row(R& r) const {
    r.text(sysctl);
    r.lit(" = ");
    r.text(missing ? "(missing)" : value);
    r.lit(resolved ? " (restored " : " (expected ");
    r.text(expected);
    r.lit(" by ");
    r.text(policy);
    r.lit(")");
    if (denied) r.lit(" [denied]");
    if (would_deny) r.lit(" [would deny]");
  }
  bool operator==(const SysctlDrift&) const = default;
};

// -------------------------------------------------------------- detection --
// A rule of a pack (user/detect/, docs/rules.md) matched a sysctl_write or a
// sysctl_blocked. Made in userspace; it follows the event that caused it and
// carries that event's actor and the facts a triage needs.
struct Detection {
  // Judged on writes and refused opens, whatever --type shows.
  static constexpr TypeInfo kInfo{.name = "detection",
                                  .also_needs = SS_TYPE_BIT(SS_EV_SYSCTL_WRITE) |
                                                SS_TYPE_BIT(SS_EV_SYSCTL_BLOCKED),
                                  .actor = false,
                                  .actor_if_known = true};

  std::string rule, pack, severity, technique;
  std::string description, remediation;
  std::string sysctl;
  std::string trigger;    // the causing event's type: "sysctl_write", "sysctl_blocked"
  std::string value;      // the value written ("" for a refused open)
  std::string old_value;  // sysctl_write: the value before
  std::string result;     // sysctl_write's result, sysctl_blocked's errno
  bool blocked = false;   // the attempt did not change anything

  template <class V, class P>
  static void fields(V& v, P& p) {
    v.text("rule", p.rule);
    v.text("pack", p.pack);
    v.text("severity", p.severity);
    v.opt_text("technique", p.technique);
    v.text("description", p.description);
    v.text("remediation", p.remediation);
    v.text("sysctl", p.sysctl);
    v.text("trigger", p.trigger);
    v.bytes("value", p.value);
    v.opt_bytes("old_value", p.old_value);
    v.text("result", p.result);
    v.flag("blocked", p.blocked);
  }
  // [critical] escape.core_pattern T1611 kernel.core_pattern (sysctl_blocked EROFS)
  template <class R>
  void row(R& r) const {
    r.lit("[");
    r.text(severity);
    r.lit("] ");
    r.text(rule);
    if (!technique.empty()) {
      r.lit(" ");
      r.text(technique);
    }
    r.lit(" ");
    r.text(sysctl);
    r.lit(" (");
    r.text(trigger);
    r.lit(" ");
    r.text(result);
    r.lit(")");
  }
  bool operator==(const Detection&) const = default;
};

// The registry. The order is EventType's (and per-type counters'), and the
// order of `--type` names in help texts.
using EventData = std::variant<SysctlRead, SysctlWrite, SysctlBlocked, NetnsCreate, NetnsEnter,
                               Lost, SysctlDrift, Detection>;
inline constexpr size_t kEventTypeCount = std::variant_size_v<EventData>;

// --failed keeps it (a type without failed() never fails).
template <class T>
bool failed(const T& p) {
  if constexpr (requires { T::failed(p); })
    return T::failed(p);
  else
    return false;
}

// Calls f(std::type_identity<T>{}) for each registered type, in order.
template <class F>
constexpr void for_each_event_type(F&& f) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I, EventData>>{}), ...);
  }
  (std::make_index_sequence<kEventTypeCount>{});
}

// A constexpr table indexed like EventData: {f(type 0), f(type 1), ...}.
template <class F>
constexpr auto registry_table(F f) {
  using R = decltype(f(std::type_identity<std::variant_alternative_t<0, EventData>>{}));
  std::array<R, kEventTypeCount> a{};
  size_t i = 0;
  for_each_event_type([&](auto t) { a[i++] = f(t); });
  return a;
}

}  // namespace sysctlscope
