// SPDX-License-Identifier: Apache-2.0
// The decoded event: the common fields (who, where, when) and one typed
// payload from the registry (model/event_types.hpp). Every sink, filter and
// recorder works on it. Field names follow docs/events.md (the public JSON
// contract).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "model/event_types.hpp"

namespace sysctlscope {

template <class T, class V>
struct variant_index;
template <class T, class... Ts>
struct variant_index<T, std::variant<Ts...>> {
  static constexpr size_t value = [] {
    size_t i = 0;
    ((std::is_same_v<T, Ts> ? false : (++i, true)) && ...);
    return i;
  }();
};
template <class T, class V>
inline constexpr size_t variant_index_v = variant_index<T, V>::value;

// A registered type, by its index in EventData (model/event_types.hpp): no
// second list of names to keep in step. kTypeOf<SysctlWrite> names one.
enum class EventType : uint8_t {};

template <class T>
inline constexpr EventType kTypeOf = static_cast<EventType>(variant_index_v<T, EventData>);
// The index of a type, for per-type counters sized kEventTypeCount.
inline constexpr size_t index_of(EventType t) { return static_cast<size_t>(t); }

// Every registered type, in order.
inline constexpr auto kAllEventTypes = [] {
  std::array<EventType, kEventTypeCount> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<EventType>(i);
  return a;
}();

std::string_view to_string(EventType t);
// Registered names; `public_only`: only those users may name (TypeInfo::is_public).
std::optional<EventType> parse_event_type(std::string_view s, bool public_only = false);
// "sysctl_read, sysctl_write, ..." (the public names, for help and errors).
std::string public_type_names();
// The type has an acting task (JSON `proc` and `cgroup` are not null).
bool has_actor(EventType t);

struct ContainerInfo {
  std::string id;
  Runtime runtime = Runtime::Unknown;
  std::string name;
  std::string pod;
  std::string k8s_namespace;  // JSON "namespace"
  std::string pod_uid;
  bool operator==(const ContainerInfo&) const = default;
};

struct Event {
  uint64_t time_ns = 0;  // Unix epoch, ns
  // Internal: CLOCK_BOOTTIME of the kernel stamp (0 when not from the
  // kernel). Monotonic: what held writes expire against.
  uint64_t boot_ns = 0;

  // proc (types with an actor)
  uint32_t pid = 0, tid = 0, ppid = 0, uid = 0;
  std::string comm;

  uint64_t cgroup_id = 0;
  std::string cgroup_path;
  NetnsInode netns = 0;
  // Not in JSON: the generation of `netns` when the event was decoded, set
  // once by the pipeline (NetnsGenerations); 0 when replayed.
  uint32_t netns_gen = 0;
  uint32_t mntns = 0;  // not in JSON: used to resolve paths

  std::optional<ContainerInfo> container;        // the actor's container
  std::optional<ContainerInfo> netns_container;  // the owner of `netns`
  bool cross_namespace = false;

  // The type and its fields (model/event_types.hpp).
  EventData data;

  // JSON members a reader did not know (a newer recording), as
  // `,"key":value` text: replay writes them back unchanged.
  std::string unknown_json;

  Event() = default;
  template <class T>
  explicit Event(T payload) : data(std::move(payload)) {}

  NetnsId netns_id() const { return {netns, netns_gen}; }
  EventType type() const { return static_cast<EventType>(data.index()); }
  template <class T>
  bool is() const {
    return std::holds_alternative<T>(data);
  }
  // The payload; the caller knows the type (checked).
  template <class T>
  T& as() {
    return std::get<T>(data);
  }
  template <class T>
  const T& as() const {
    return std::get<T>(data);
  }
  template <class T>
  T* get_if() {
    return std::get_if<T>(&data);
  }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&data);
  }

  bool failed() const;  // --failed: a non-ok write or a blocked write
  // The dotted sysctl name of types that have one; "" otherwise.
  std::string_view sysctl() const;
};

// This event has an acting task: its type always has one, or it may have one
// (TypeInfo::actor_if_known) and its pid is set.
bool has_actor(const Event& e);

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
