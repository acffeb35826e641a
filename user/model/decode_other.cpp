// SPDX-License-Identifier: Apache-2.0
// Decoders of the namespace and blocked-write records.
#include <linux/types.h>

#include <cstring>

#include "model/decode.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

void decode_netns_enter(const ss_netns_enter_event& r, size_t, Event& e) {
  e.netns = r.target_netns;
  e.extra["from_netns"] = r.from_netns;
}

void decode_netns_create(const ss_netns_create_event& r, size_t, Event& e) {
  e.netns = r.netns;
  e.extra["parent_netns"] = r.parent_netns;
  static constexpr const char* kVia[] = {"unknown", "clone", "clone3", "unshare", "setns"};
  e.extra["via"] = r.via < std::size(kVia) ? kVia[r.via] : "unknown";
}

void decode_blocked(const ss_blocked_event& r, size_t, Event& e) {
  std::string path(r.path, strnlen(r.path, std::min<size_t>(r.path_len, SS_PATH_MAX)));
  e.extra["path"] = path;
  e.extra["errno"] = errno_name(r.err);
}

}  // namespace sysctlscope
