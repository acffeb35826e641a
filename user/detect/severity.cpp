// SPDX-License-Identifier: Apache-2.0
// Rule severities' words. A file of its own: the report (and the reader
// fuzzer, fuzz/CMakeLists.txt) needs them without the packs built in.
#include <iterator>

#include "detect/rules.hpp"

namespace sysctlscope::detect {

namespace {
constexpr std::string_view kSeverities[] = {"info", "low", "medium", "high", "critical"};
}  // namespace

std::string_view severity_name(Severity s) { return kSeverities[static_cast<size_t>(s)]; }

std::optional<Severity> parse_severity(std::string_view s) {
  for (size_t i = 0; i < std::size(kSeverities); ++i)
    if (kSeverities[i] == s) return static_cast<Severity>(i);
  return std::nullopt;
}

}  // namespace sysctlscope::detect
