// SPDX-License-Identifier: Apache-2.0
// The decoded event: what every sink, filter and recorder works on.
// Field names follow docs/events.md (the public JSON contract).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sysctlscope {

enum class EventType : uint8_t {
  SysctlRead,
  SysctlWrite,
  SysctlBlocked,
  NetnsCreate,
  NetnsEnter,
  Lost,
};
inline constexpr EventType kAllEventTypes[] = {EventType::SysctlRead,    EventType::SysctlWrite,
                                               EventType::SysctlBlocked, EventType::NetnsCreate,
                                               EventType::NetnsEnter,    EventType::Lost};

std::string_view to_string(EventType t);
std::optional<EventType> parse_event_type(std::string_view s);

struct ContainerInfo {
  std::string id;
  std::string runtime;
  std::string name;
  std::string pod;
  std::string k8s_namespace;  // JSON "namespace"
  std::string pod_uid;
  bool operator==(const ContainerInfo&) const = default;
};

struct Event {
  EventType type = EventType::SysctlRead;
  uint64_t time_ns = 0;  // Unix epoch, ns

  // proc; pid == 0 means "no process" (lost)
  uint32_t pid = 0, tid = 0, ppid = 0, uid = 0;
  std::string comm;

  uint64_t cgroup_id = 0;
  std::string cgroup_path;
  uint32_t netns = 0;
  uint32_t mntns = 0;  // not in JSON: used to resolve paths

  std::optional<ContainerInfo> container;        // the actor's container
  std::optional<ContainerInfo> netns_container;  // the owner of `netns`
  bool cross_namespace = false;

  // sysctl_read / sysctl_write / sysctl_blocked
  std::string sysctl;  // dotted, as sysctl(8) prints it
  std::string value;   // read value / new value written (raw bytes)
  bool value_truncated = false;
  std::string old_value;  // writes
  bool old_truncated = false;
  bool value_error = false;  // the kernel could not format the current value
  std::string result;        // writes: "ok", errno name, or "unknown"
  int64_t file_pos = 0;
  uint64_t write_id = 0;  // internal: joins a write with its syscall result
  uint32_t new_len = 0;   // internal: bytes the writer passed (before the newline strip)

  uint64_t count = 0;  // lost

  // Type-specific fields of the rarer events (netns_create, sysctl_blocked, ...),
  // written after the common ones in insertion order.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();

  bool failed() const;  // a non-ok write or a blocked write
};

// "net/ipv4/conf/eth0.100/rp_filter" <-> "net.ipv4.conf.eth0/100.rp_filter":
// sysctl(8) swaps the two separators, so the conversion is its own inverse.
std::string slash_to_dotted(std::string_view name);
std::string dotted_to_slash(std::string_view name);

// A /proc/sys value as the kernel formatted it -> the value we report:
// exactly one trailing newline removed, nothing else touched.
std::string_view strip_one_newline(std::string_view v);

// Runs of blanks (space, tab, newline) collapsed to one space, trimmed:
// writers and /proc disagree on separators (/proc prints "4096\t131072\t6291456"
// for what was written as "4096 131072 6291456").
std::string normalize_value(std::string_view v);

// RFC 3339 UTC with nanoseconds: 2026-11-22T11:00:29.123456789Z
std::string format_rfc3339(uint64_t epoch_ns);
std::optional<uint64_t> parse_rfc3339(std::string_view s);

}  // namespace sysctlscope
