// SPDX-License-Identifier: Apache-2.0
// Builds sysctl records exactly as bpf/sysctl.bpf.c lays them out (unit
// tests and benchmarks).
#pragma once

#include <linux/types.h>

#include <cstring>
#include <string_view>

#include "sysctlscope/event.h"

namespace sstest {

inline ss_sysctl_event sysctl_record(bool write, std::string_view name, std::string_view value,
                                     std::string_view new_value = {}, uint32_t flags = 0) {
  ss_sysctl_event r;
  std::memset(&r, 0, sizeof r);
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = write ? SS_EV_SYSCTL_WRITE : SS_EV_SYSCTL_READ;
  r.name_len = static_cast<__u16>(name.size());
  r.value_len = static_cast<__u16>(value.size());
  r.new_len = static_cast<__u16>(new_value.size());
  // An empty string_view may have a null data(): memcpy must not see it (UBSan).
  if (!name.empty()) std::memcpy(r.data, name.data(), name.size());
  if (!value.empty()) std::memcpy(r.data + name.size(), value.data(), value.size());
  if (!new_value.empty()) std::memcpy(r.data + name.size() + value.size(), new_value.data(), new_value.size());
  r.hdr.size = static_cast<__u32>(offsetof(ss_sysctl_event, data) + name.size() + value.size() + new_value.size());
  r.flags = flags;
  return r;
}

}  // namespace sstest
