// SPDX-License-Identifier: Apache-2.0
// Decoders of the namespace and blocked-write records.
#include <linux/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "model/decode.hpp"
#include "model/sysctl_path.hpp"
#include "output/escape.hpp"
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
  e.extra["userns"] = r.userns;
}

bool decode_blocked(const ss_blocked_event& r, size_t, Event& e) {
  auto str = [](const char* p, size_t len, size_t cap) { return std::string(p, strnlen(p, std::min(len, cap - 1))); };
  std::string path = str(r.path, r.path_len, SS_PATH_MAX);
  std::string base = str(r.base, r.base_len, SS_PATH_MAX);
  // A relative path we cannot anchor cannot be named: drop it rather than guess.
  if (!path.empty() && path.front() != '/' && (r.flags & (SS_BF_BASE_UNKNOWN | SS_BF_BASE_TRUNC))) return false;
  std::vector<ProcMount> mounts;
  for (unsigned i = 0; i < std::min<unsigned>(r.nr_mounts, SS_PROC_MOUNTS_MAX); ++i)
    mounts.push_back({str(r.mounts[i].mountpoint, SS_MNT_PATH_MAX, SS_MNT_PATH_MAX),
                      str(r.mounts[i].root, SS_MNT_ROOT_MAX, SS_MNT_ROOT_MAX)});
  // The kernel walk found no procfs at all (e.g. cut short): assume /proc.
  if (mounts.empty()) mounts.push_back({"/proc", "/"});
  auto name = resolve_sysctl_path(path, base, mounts);
  if (!name) return false;  // not a sysctl file: not our business

  e.sysctl = slash_to_dotted(*name);
  e.extra["path"] = path;  // invalid UTF-8 comes out as U+FFFD (json.cpp) ...
  if (!is_valid_utf8(path)) e.extra["path_hex"] = hex_encode(path);  // ... exact bytes here
  if (r.flags & SS_BF_PATH_TRUNC) e.extra["path_truncated"] = true;
  e.extra["errno"] = errno_name(r.err);
  e.extra["blocked_by"] = r.err == EROFS                   ? "read_only_mount"
                          : (r.err == EACCES || r.err == EPERM) ? "permission"
                                                                : "other";
  e.extra["flags"] = decode_open_flags(r.open_flags);
  static constexpr const char* kCalls[] = {"unknown", "open", "openat", "openat2", "creat"};
  e.extra["syscall"] = r.call < std::size(kCalls) ? kCalls[r.call] : "unknown";
  std::string cmd(r.cmdline, std::min<size_t>(r.cmdline_len, SS_CMDLINE_MAX));
  if (r.flags & SS_BF_CMDLINE_ERR) {
    // The kernel could not read the argument pages: best effort from /proc.
    if (auto c = read_proc_cmdline(e.pid, e.tid, e.comm)) cmd = *c;
  }
  e.extra["cmdline"] = cmd.empty() ? nlohmann::ordered_json(nullptr) : split_cmdline(cmd);
  if (r.flags & SS_BF_CMDLINE_TRUNC) e.extra["cmdline_truncated"] = true;
  return true;
}

}  // namespace sysctlscope
