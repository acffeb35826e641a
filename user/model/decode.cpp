// SPDX-License-Identifier: Apache-2.0
#include "model/decode.hpp"

#include <linux/types.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "sysctlscope/event.h"

namespace sysctlscope {

namespace {
int64_t ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000ll + ts.tv_nsec;
}

}  // namespace

BootClock::BootClock() {
  // Bracket BOOTTIME by two REALTIME reads to halve the error.
  timespec r1{}, b{}, r2{};
  clock_gettime(CLOCK_REALTIME, &r1);
  clock_gettime(CLOCK_BOOTTIME, &b);
  clock_gettime(CLOCK_REALTIME, &r2);
  offset_ = (ns(r1) + ns(r2)) / 2 - ns(b);
}

void Decoder::fill_common(const ss_hdr& h, Event& e) const {
  e.time_ns = clock_.to_epoch(h.task.ts_boot_ns);
  e.boot_ns = h.task.ts_boot_ns;
  e.pid = h.task.pid;
  e.tid = h.task.tid;
  e.ppid = h.task.ppid;
  e.uid = h.task.uid;
  e.comm.assign(h.task.comm, strnlen(h.task.comm, sizeof h.task.comm));
  e.cgroup_id = h.task.cgroup_id;
  e.netns = h.task.netns;
  e.mntns = h.task.mntns;
}

namespace {

// sysctl_read / sysctl_write share one variable-size record.
struct SysctlParts {
  const ss_sysctl_event* r;
  std::string_view name, cur, nv;
};

DecodeStatus sysctl_parts(const RawRecord& raw, bool write, SysctlParts& out) {
  constexpr size_t kFixed = offsetof(ss_sysctl_event, data);
  if (raw.len < kFixed) return DecodeStatus::Short;
  auto* r = static_cast<const ss_sysctl_event*>(raw.data);
  const size_t nl = r->name_len, vl = r->value_len, wl = r->new_len;
  if (nl >= SS_NAME_MAX || vl >= SS_VALUE_MAX || wl >= SS_VALUE_MAX ||
      kFixed + nl + vl + wl > raw.len || (!write && wl))
    return DecodeStatus::Corrupt;
  out.r = r;
  out.name = std::string_view(r->data, nl);
  out.cur = std::string_view(r->data + nl, vl);
  out.nv = std::string_view(r->data + nl + vl, wl);
  // A truncated value has lost its newline already; strip only when whole.
  if (!(r->flags & SS_F_VALUE_TRUNC)) out.cur = strip_one_newline(out.cur);
  return DecodeStatus::Event;
}

}  // namespace

DecodeStatus SysctlRead::decode(const RawRecord& raw, SysctlRead& p, Event&) {
  SysctlParts s;
  if (auto st = sysctl_parts(raw, false, s); st != DecodeStatus::Event) return st;
  p.sysctl = slash_to_dotted(s.name);
  p.value.assign(s.cur);
  p.file_pos = s.r->file_pos;
  p.truncated = s.r->flags & SS_F_VALUE_TRUNC;
  p.value_error = s.r->flags & SS_F_VALUE_ERR;
  return DecodeStatus::Event;
}

DecodeStatus SysctlWrite::decode(const RawRecord& raw, SysctlWrite& p, Event&) {
  SysctlParts s;
  if (auto st = sysctl_parts(raw, true, s); st != DecodeStatus::Event) return st;
  p.sysctl = slash_to_dotted(s.name);
  p.old_value.assign(s.cur);
  p.old_truncated = s.r->flags & SS_F_VALUE_TRUNC;
  p.value_error = s.r->flags & SS_F_VALUE_ERR;
  p.new_len = static_cast<uint32_t>(s.nv.size());
  p.value_truncated = s.r->flags & SS_F_NEW_TRUNC;
  p.denied = s.r->flags & SS_F_DENIED;
  p.would_deny = s.r->flags & SS_F_WOULD_DENY;
  p.value.assign(p.value_truncated ? s.nv : strip_one_newline(s.nv));
  p.file_pos = s.r->file_pos;
  p.write_id = s.r->write_id;
  return DecodeStatus::Event;
}

DecodeStatus WriteResult::decode(const RawRecord& raw, WriteResult& p, const BootClock&) {
  if (raw.len < sizeof(ss_write_result_event)) return DecodeStatus::Short;
  auto* r = static_cast<const ss_write_result_event*>(raw.data);
  p = WriteResult{r->write_id, raw.hdr.task.tid, r->ret};
  return DecodeStatus::Event;
}

DecodeStatus WriterExit::decode(const RawRecord& raw, WriterExit& p, const BootClock&) {
  if (raw.len < sizeof(ss_netns_create_event)) return DecodeStatus::Short;
  auto* r = static_cast<const ss_netns_create_event*>(raw.data);
  p.pid = raw.hdr.task.pid;
  p.tid = raw.hdr.task.tid;
  p.netns = r->netns;
  p.boot_ns = raw.hdr.task.ts_boot_ns;
  p.snapshot = std::make_shared<const ss_netns_create_event>(*r);
  return DecodeStatus::Event;
}

DecodeStatus CgroupChange::decode(const RawRecord& raw, CgroupChange& c, const BootClock& clock) {
  if (raw.len < sizeof(ss_cgroup_event)) return DecodeStatus::Short;
  auto* r = static_cast<const ss_cgroup_event*>(raw.data);
  c.removed = raw.hdr.type == SS_EV_CGROUP_RMDIR;
  c.id = r->id;
  c.level = r->level;
  c.time_ns = clock.to_epoch(raw.hdr.task.ts_boot_ns);
  // A cut path would map the id to the wrong cgroup: leave it to a re-scan.
  if (!(r->flags & SS_CGF_PATH_TRUNC))
    c.path.assign(r->path, std::min<size_t>(r->path_len, SS_PATH_MAX - 1));
  return DecodeStatus::Event;
}

namespace {

struct Route {
  DecodeStatus (*fn)(const RawRecord&, Decoded&, const Decoder&) = nullptr;
  std::string_view name;
};

// Kernel record type -> the registered type decoding it: the event types,
// then the records that are not events.
template <class T>
constexpr Route kRoute{[](const RawRecord& r, Decoded& out, const Decoder& d) {
                         // Built in place: one Event move fewer per record (the hot path).
                         Event& e = out.emplace<Event>();
                         d.fill_common(r.hdr, e);
                         return T::decode(r, e.data.emplace<T>(), e);
                       },
                       T::kInfo.name};
template <class T>
constexpr Route kRecordRoute{[](const RawRecord& r, Decoded& out, const Decoder& d) {
                               return T::decode(r, out.emplace<T>(), d.clock());
                             },
                             ""};

constexpr auto kRoutes = [] {
  std::array<Route, SS_EV_MAX> a{};
  for_each_event_type([&](auto t) {
    using T = typename decltype(t)::type;
    if constexpr (T::kInfo.record != 0) a[T::kInfo.record] = kRoute<T>;
  });
  for_each_record_type([&](auto t) {
    using T = typename decltype(t)::type;
    for (uint32_t i = 0; i < a.size(); ++i)
      if (T::kRecords & SS_TYPE_BIT(i)) a[i] = {kRecordRoute<T>.fn, T::kName};
  });
  return a;
}();

}  // namespace

Expected<Decoded> Decoder::decode(const void* data, size_t len) const {
  if (len < sizeof(ss_hdr))
    return Error("decode record", std::to_string(len) + " bytes", EINVAL, "shorter than a header");
  ss_hdr h;
  std::memcpy(&h, data, sizeof h);
  if (h.version != SS_ABI_VERSION)
    return Error("decode record", "ABI version " + std::to_string(h.version), EPROTO,
                 "this build understands version " + std::to_string(SS_ABI_VERSION));
  if (h.size > len)
    return Error("decode record", "type " + std::to_string(h.type), EINVAL,
                 "size field past the record");
  if (h.type >= kRoutes.size() || !kRoutes[h.type].fn)
    return Error("decode record", "type " + std::to_string(h.type), EPROTO,
                 "unknown record type");
  const Route& route = kRoutes[h.type];
  // Decoded in place in the result: no move of the Event per record.
  Expected<Decoded> res{Decoded{}};
  Decoded& out = *res;
  switch (route.fn(RawRecord{h, data, len}, out, *this)) {
    case DecodeStatus::Event:
      break;
    case DecodeStatus::NoEvent:
      out.emplace<std::monostate>();
      break;
    case DecodeStatus::Short:
      return Error("decode record", std::string(route.name), EINVAL, "short record");
    case DecodeStatus::Corrupt:
      return Error("decode record", std::string(route.name), EINVAL, "lengths past the record");
  }
  return res;
}

}  // namespace sysctlscope
