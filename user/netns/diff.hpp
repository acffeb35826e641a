// SPDX-License-Identifier: Apache-2.0
// `sysctlscope diff`: a namespace's per-netns sysctls against the host's and a
// fresh netns's, with a verdict per row.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/event.hpp"
#include "netns/nsexec.hpp"
#include "netns/verdict.hpp"

namespace sysctlscope::netns {

// What a recorded session (trace -o json / record output) says.
struct Recording {
  // netns inode -> (dotted name -> value at birth), from netns_create `defaults`.
  std::map<NetnsInode, std::map<std::string, std::string>> defaults;
  std::map<uint64_t, uint64_t> born_at;  // netns inode -> netns_create time
  // dotted name -> every recorded birth of that name (for the birth rule).
  std::map<std::string, std::vector<RecordedBirth>> births;
  // (netns inode, dotted name) -> the last sysctl_write seen there.
  std::map<std::pair<NetnsInode, std::string>, Event> last_write;
  size_t events = 0;
};
// JSON lines as `trace -o json` prints them. Throws UsageError naming the
// file and line of the first malformed event.
Recording load_recording(const std::string& path);
Recording parse_recording(const std::string& text, const std::string& path_for_errors);

// Kernel facts of the running system (devconf mode, CONFIG_DEFAULT_TCP_CONG).
KernelContext read_kernel_context();
// CONFIG_DEFAULT_TCP_CONG from a kernel config text; nullopt when absent.
std::optional<std::string> default_cc_from_config(const std::string& config_text);

struct DiffRow {
  std::string sysctl;
  std::optional<std::string> host, target, fresh;
  bool fresh_from_default = false;  // device absent in a fresh netns: its conf.default value
  BirthRule rule;
  Verdict verdict = Verdict::Same;
  std::optional<std::string> born;  // recorded birth value of the target
  std::optional<Event> last_write;  // recorded last write in the target netns
  bool differs = false;
};

std::vector<DiffRow> compute_diff(const SysctlMap& host, const SysctlMap& target,
                                  const SysctlMap& fresh, const KernelContext& k,
                                  const Recording* rec, NetnsInode target_inode);

}  // namespace sysctlscope::netns
