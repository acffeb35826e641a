// SPDX-License-Identifier: Apache-2.0
#include "core/error.hpp"

#include <charconv>
#include <cstring>

namespace sysctlscope {

namespace {
std::string compose(const std::string& op, const std::string& object, int err,
                    const std::string& hint) {
  std::string s = op;
  if (!object.empty()) s += " " + object;
  if (err) s += ": " + std::string(std::strerror(err));
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}
}  // namespace

Error::Error(std::string op, std::string object, int err, std::string hint)
    : std::runtime_error(compose(op, object, err, hint)),
      op_(std::move(op)),
      object_(std::move(object)),
      hint_(std::move(hint)),
      err_(err) {}

std::string errno_name(int err) {
  // strerrorname_np is glibc >= 2.32 (Debian 12 has 2.36).
  if (const char* n = strerrorname_np(err)) return n;
  // Built in a buffer: `"E" + std::to_string(err)` makes GCC 12 at -O3 emit a
  // false -Wrestrict (GCC PR 105329), which breaks -DCMAKE_BUILD_TYPE=Release.
  char buf[16] = {'E'};
  auto r = std::to_chars(buf + 1, buf + sizeof buf, err);
  return std::string(buf, r.ptr);
}

}  // namespace sysctlscope
