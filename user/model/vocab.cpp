// SPDX-License-Identifier: Apache-2.0
#include "model/vocab.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "core/error.hpp"

namespace sysctlscope {

std::string to_string(WriteOutcome r) {
  if (r.status == WriteStatus::Failed) return errno_name(r.err);
  return std::string(name_of(r.status));
}

std::optional<WriteOutcome> parse_write_outcome(std::string_view s) {
  if (s.empty()) return WriteOutcome{};
  if (s != name_of(WriteStatus::Failed))
    if (auto k = parse_name<WriteStatus>(s)) return WriteOutcome{*k, 0};
  if (s.size() < 2 || s[0] != 'E') return std::nullopt;
  // errno_name()'s fallback for an errno glibc has no name for: "E<n>".
  int n = 0;
  if (auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
      ec == std::errc() && p == s.data() + s.size())
    return n > 0 ? std::optional(WriteOutcome::failed_with(n)) : std::nullopt;
  // Names are few (~135) and parsed only when a recording is read.
  for (int e = 1; e < 4096; ++e)
    if (const char* name = strerrorname_np(e); name && s == name)
      return WriteOutcome::failed_with(e);
  return std::nullopt;
}

BlockedBy blocked_by_errno(int err) {
  if (err == EROFS) return BlockedBy::ReadOnlyMount;
  if (err == EACCES || err == EPERM) return BlockedBy::Permission;
  return BlockedBy::Other;
}

Runtime parse_runtime(std::string_view s) {
  if (auto r = parse_name<Runtime>(s)) return *r;
  throw std::invalid_argument("unknown container runtime '" + std::string(s) + "'");
}

}  // namespace sysctlscope
