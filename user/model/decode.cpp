// SPDX-License-Identifier: Apache-2.0
#include "model/decode.hpp"

#include <linux/types.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "sysctlscope/event.h"

namespace sysctlscope {

namespace {
int64_t ns(const timespec& ts) { return static_cast<int64_t>(ts.tv_sec) * 1000000000ll + ts.tv_nsec; }

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
  e.pid = h.task.pid;
  e.tid = h.task.tid;
  e.ppid = h.task.ppid;
  e.uid = h.task.uid;
  e.comm.assign(h.task.comm, strnlen(h.task.comm, sizeof h.task.comm));
  e.cgroup_id = h.task.cgroup_id;
  e.netns = h.task.netns;
  e.mntns = h.task.mntns;
}

Expected<Decoded> Decoder::decode(const void* data, size_t len) const {
  if (len < sizeof(ss_hdr)) return Error("decode record", std::to_string(len) + " bytes", EINVAL, "shorter than a header");
  ss_hdr h;
  std::memcpy(&h, data, sizeof h);
  if (h.version != SS_ABI_VERSION)
    return Error("decode record", "ABI version " + std::to_string(h.version), EPROTO,
                 "this build understands version " + std::to_string(SS_ABI_VERSION));
  if (h.size > len) return Error("decode record", "type " + std::to_string(h.type), EINVAL, "size field past the record");

  Decoded out;
  auto need = [&](size_t n) -> bool { return len >= n; };
  switch (h.type) {
    case SS_EV_SYSCTL_READ:
    case SS_EV_SYSCTL_WRITE: {
      const bool write = h.type == SS_EV_SYSCTL_WRITE;
      constexpr size_t kFixed = offsetof(ss_sysctl_event, data);
      if (!need(kFixed)) return Error("decode record", "sysctl", EINVAL, "short record");
      auto* r = static_cast<const ss_sysctl_event*>(data);
      const size_t nl = r->name_len, vl = r->value_len, wl = r->new_len;
      if (nl >= SS_NAME_MAX || vl >= SS_VALUE_MAX || wl >= SS_VALUE_MAX || kFixed + nl + vl + wl > len ||
          (!write && wl))
        return Error("decode record", "sysctl", EINVAL, "lengths past the record");
      // Built in place: one Event move fewer per record (the hot path).
      Event& e = out.event.emplace();
      fill_common(h, e);
      e.type = write ? EventType::SysctlWrite : EventType::SysctlRead;
      e.sysctl = slash_to_dotted(std::string_view(r->data, nl));
      e.file_pos = r->file_pos;
      e.value_error = r->flags & SS_F_VALUE_ERR;
      std::string_view cur(r->data + nl, vl);
      // A truncated value has lost its newline already; strip only when whole.
      if (!(r->flags & SS_F_VALUE_TRUNC)) cur = strip_one_newline(cur);
      if (write) {
        e.old_value.assign(cur);
        e.old_truncated = r->flags & SS_F_VALUE_TRUNC;
        std::string_view nv(r->data + nl + vl, wl);
        e.new_len = static_cast<uint32_t>(nv.size());
        if (!(r->flags & SS_F_NEW_TRUNC)) nv = strip_one_newline(nv);
        e.value.assign(nv);
        e.value_truncated = r->flags & SS_F_NEW_TRUNC;
        e.write_id = r->write_id;
      } else {
        e.value.assign(cur);
        e.value_truncated = r->flags & SS_F_VALUE_TRUNC;
      }
      break;
    }
    case SS_EV_WRITE_RESULT: {
      if (!need(sizeof(ss_write_result_event))) return Error("decode record", "write_result", EINVAL, "short record");
      auto* r = static_cast<const ss_write_result_event*>(data);
      out.write_result = WriteResult{r->write_id, h.task.tid, r->ret};
      break;
    }
    case SS_EV_SYSCTL_BLOCKED: {
      if (!need(sizeof(ss_blocked_event))) return Error("decode record", "sysctl_blocked", EINVAL, "short record");
      Event e;
      fill_common(h, e);
      e.type = EventType::SysctlBlocked;
      if (decode_blocked(*static_cast<const ss_blocked_event*>(data), len, e)) out.event = std::move(e);
      break;
    }
    case SS_EV_NETNS_CREATE: {
      if (!need(offsetof(ss_netns_create_event, snap))) return Error("decode record", "netns_create", EINVAL, "short record");
      Event e;
      fill_common(h, e);
      e.type = EventType::NetnsCreate;
      decode_netns_create(*static_cast<const ss_netns_create_event*>(data), len, e);
      out.event = std::move(e);
      break;
    }
    case SS_EV_NETNS_ENTER: {
      if (!need(sizeof(ss_netns_enter_event))) return Error("decode record", "netns_enter", EINVAL, "short record");
      Event e;
      fill_common(h, e);
      e.type = EventType::NetnsEnter;
      decode_netns_enter(*static_cast<const ss_netns_enter_event*>(data), len, e);
      out.event = std::move(e);
      break;
    }
    case SS_EV_CGROUP_MKDIR:
    case SS_EV_CGROUP_RMDIR: {
      if (!need(sizeof(ss_cgroup_event))) return Error("decode record", "cgroup", EINVAL, "short record");
      auto* r = static_cast<const ss_cgroup_event*>(data);
      CgroupChange c;
      c.removed = h.type == SS_EV_CGROUP_RMDIR;
      c.id = r->id;
      c.level = r->level;
      c.time_ns = clock_.to_epoch(h.task.ts_boot_ns);
      // A cut path would map the id to the wrong cgroup: leave it to a re-scan.
      if (!(r->flags & SS_CGF_PATH_TRUNC)) c.path.assign(r->path, std::min<size_t>(r->path_len, SS_PATH_MAX - 1));
      out.cgroup = std::move(c);
      break;
    }
    default:
      return Error("decode record", "type " + std::to_string(h.type), EPROTO, "unknown record type");
  }
  return out;
}

}  // namespace sysctlscope
