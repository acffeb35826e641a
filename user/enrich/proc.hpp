// SPDX-License-Identifier: Apache-2.0
// What the kernel could not capture, completed from /proc while the task
// still runs (the model itself never reads the system).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sysctlscope {

// /proc/<pid>/cmdline (NUL-separated) while the process still runs, and only
// if /proc/<pid>/task/<tid>/comm still is `comm` (the pid was not reused).
std::optional<std::string> read_proc_cmdline(uint32_t pid, uint32_t tid, std::string_view comm);

}  // namespace sysctlscope
