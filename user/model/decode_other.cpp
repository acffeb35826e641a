// SPDX-License-Identifier: Apache-2.0
// Decoders of the namespace and blocked-write records (model/event_types.hpp).
// Pure: nothing here reads the system (the pipeline completes what the
// kernel could not capture).
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "model/decode.hpp"
#include "model/sysctl_path.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

DecodeStatus NetnsEnter::decode(const RawRecord& raw, NetnsEnter& p, Event& e) {
  if (raw.len < sizeof(ss_netns_enter_event)) return DecodeStatus::Short;
  auto* r = static_cast<const ss_netns_enter_event*>(raw.data);
  e.netns = r->target_netns;
  p.from_netns = r->from_netns;
  return DecodeStatus::Event;
}

DecodeStatus NetnsCreate::decode(const RawRecord& raw, NetnsCreate& p, Event& e) {
  if (raw.len < offsetof(ss_netns_create_event, snap)) return DecodeStatus::Short;
  auto* r = static_cast<const ss_netns_create_event*>(raw.data);
  e.netns = r->netns;
  p.parent_netns = r->parent_netns;
  static constexpr const char* kVia[] = {"unknown", "clone", "clone3", "unshare", "setns"};
  p.via = r->via < std::size(kVia) ? kVia[r->via] : "unknown";
  p.userns = r->userns;
  // Rare (namespace births) and 19,832 bytes (sizeof): copied once so that the birth
  // decoder (netns/births.cpp) works on the event, not the ring buffer.
  if (raw.len >= sizeof(ss_netns_create_event))
    p.snapshot = std::make_shared<const ss_netns_create_event>(*r);
  return DecodeStatus::Event;
}

DecodeStatus SysctlBlocked::decode(const RawRecord& raw, SysctlBlocked& p, Event&) {
  if (raw.len < sizeof(ss_blocked_event)) return DecodeStatus::Short;
  const auto& r = *static_cast<const ss_blocked_event*>(raw.data);
  auto str = [](const char* s, size_t len, size_t cap) {
    return std::string(s, strnlen(s, std::min(len, cap - 1)));
  };
  std::string path = str(r.path, r.path_len, SS_PATH_MAX);
  std::string base = str(r.base, r.base_len, SS_PATH_MAX);
  // A relative path we cannot anchor cannot be named: drop it rather than guess.
  if (!path.empty() && path.front() != '/' && (r.flags & (SS_BF_BASE_UNKNOWN | SS_BF_BASE_TRUNC)))
    return DecodeStatus::NoEvent;
  std::vector<ProcMount> mounts;
  for (unsigned i = 0; i < std::min<unsigned>(r.nr_mounts, SS_PROC_MOUNTS_MAX); ++i)
    mounts.push_back({str(r.mounts[i].mountpoint, SS_MNT_PATH_MAX, SS_MNT_PATH_MAX),
                      str(r.mounts[i].root, SS_MNT_ROOT_MAX, SS_MNT_ROOT_MAX)});
  // The kernel walk found no procfs at all (e.g. cut short): assume /proc.
  if (mounts.empty()) mounts.push_back({"/proc", "/"});
  auto name = resolve_sysctl_path(path, base, mounts);
  if (!name) return DecodeStatus::NoEvent;  // not a sysctl file: not our business

  p.sysctl = slash_to_dotted(*name);
  p.path = std::move(path);
  p.path_truncated = r.flags & SS_BF_PATH_TRUNC;
  p.err = errno_name(r.err);
  p.blocked_by = blocked_by_errno(r.err);
  p.flags = decode_open_flags(r.open_flags);
  static constexpr const char* kCalls[] = {"unknown", "open", "openat", "openat2", "creat"};
  p.syscall = r.call < std::size(kCalls) ? kCalls[r.call] : "unknown";
  p.cmdline =
      split_cmdline(std::string_view(r.cmdline, std::min<size_t>(r.cmdline_len, SS_CMDLINE_MAX)));
  p.cmdline_unread = r.flags & SS_BF_CMDLINE_ERR;
  p.cmdline_truncated = r.flags & SS_BF_CMDLINE_TRUNC;
  return DecodeStatus::Event;
}

}  // namespace sysctlscope
