// SPDX-License-Identifier: Apache-2.0
// format_rfc3339 (model/event.hpp) appending to a buffer: the JSON writer's
// form, without a std::string per event.
#pragma once

#include <cstdint>
#include <string>

namespace sysctlscope {

// Appends "2026-11-22T11:00:29.123456789Z".
void append_rfc3339(std::string& out, uint64_t epoch_ns);

}  // namespace sysctlscope
