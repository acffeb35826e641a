// SPDX-License-Identifier: Apache-2.0
// Reading JSON lines (`trace -o json` output, recordings): one splitter and
// one judgement of damaged lines for every reader, so that `report`,
// `replay` and `diff --from` accept and refuse the same files.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sysctlscope {

enum class LineDamage {
  None,
  Cut,       // the last line has no newline and does not parse: the writer was killed mid-line
  NulBytes,  // holds NUL bytes (unwritten blocks after a power loss)
  NotJson,   // anything else that is not one JSON object
};

struct JsonLine {
  uint64_t number = 0;    // 1-based
  std::string_view text;  // without the newline
  LineDamage damage = LineDamage::None;
};

// Calls `f(line, object)` for every line that is not blank; `object` is the
// parsed object (discarded when line.damage != None). Returns the number of
// lines (blank ones included).
uint64_t for_each_json_line(std::string_view data,
                            const std::function<void(const JsonLine&, nlohmann::ordered_json&)>& f);

}  // namespace sysctlscope
