// SPDX-License-Identifier: Apache-2.0
// Reading sysctls as another namespace sees them. /proc/sys/net shows the
// netns of the task that opens the file, so the reads happen in a forked child
// that first joins (setns) or creates (unshare) the namespace; the parent's
// namespaces never change and nothing is written on the host.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace sysctlscope::netns {

struct SysctlValue {
  std::string value;  // as /proc/sys prints it, one trailing newline removed
  int err = 0;        // errno when the read failed (value then empty)
};
using SysctlMap = std::map<std::string, SysctlValue>;  // dotted name -> value

// Walks `dir` (below /proc/sys) and reads every file that has a read bit.
// Names are dotted, relative to /proc/sys. Write-only entries are skipped.
SysctlMap read_sysctl_tree(const std::string& dir);
// One value as the calling task's namespaces see it (err EACCES for write-only entries).
SysctlValue read_sysctl_value(const std::string& dotted);
// Every dotted name under /proc/sys (for suggestions), readable or not.
std::vector<std::string> list_sysctl_names(const std::string& dir = "/proc/sys");

// Runs `fn` in a forked child and returns the string it produced. A throw in
// the child comes back as an Error carrying its message.
Expected<std::string> run_in_child(const std::function<std::string()>& fn, const std::string& what);

// The net sysctls of the netns behind `netns_fd` (an nsfs fd: /proc/PID/ns/net
// or a /run/netns bind mount).
Expected<SysctlMap> read_net_sysctls_in(int netns_fd);
// `names` as seen from the namespaces behind `ns` ((CLONE_NEW* type, nsfs fd)
// pairs, joined in that order by a forked child).
Expected<SysctlMap> read_sysctls_in(const std::vector<std::pair<int, int>>& ns,
                                    const std::vector<std::string>& names);
// The net sysctls of a brand-new netns created (and dropped) for the purpose.
Expected<SysctlMap> read_net_sysctls_fresh();

// One sysctl in a brand-new namespace of type `clone_flag` (CLONE_NEWIPC,
// CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWNET). With `write`, writes it there
// first (a failed write is an Error) and reads it back.
struct NsProbe {
  bool exists = false;  // the file exists in that namespace
  SysctlValue value;    // its value there (err set when unreadable)
};
Expected<NsProbe> value_in_new_ns(int clone_flag, const std::string& dotted,
                                  const std::optional<std::string>& write = std::nullopt);

// Wire format between child and parent (length-prefixed; values may hold any
// byte). decode_map throws Error on malformed input.
std::string encode(const SysctlMap& m);
SysctlMap decode_map(const std::string& s);

}  // namespace sysctlscope::netns
