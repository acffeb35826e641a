// SPDX-License-Identifier: Apache-2.0
// Typed errors: every error names the operation and the object it failed on,
// so the one line printed by main() is enough to act on.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace sysctlscope {

class Error : public std::runtime_error {
 public:
  // `op`: what we tried ("attach cgroup/sysctl"), `object`: on what
  // ("/sys/fs/cgroup"), `err`: positive errno or 0, `hint`: what to do.
  Error(std::string op, std::string object, int err = 0, std::string hint = {});
  const std::string& op() const { return op_; }
  const std::string& object() const { return object_; }
  int err() const { return err_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string op_, object_, hint_;
  int err_;
};

// Bad command-line input: exit status 2, like CLI11's own parse errors.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The environment cannot run us (no BTF, not root, ...): exit status 1.
class EnvironmentError : public Error {
 public:
  using Error::Error;
};

// Recoverable failures travel as values. std::expected is C++23; this is the
// minimal subset we need until the toolchain (g++ 12) has it. [[nodiscard]]:
// a result that is not looked at is a failure that goes unnoticed.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T v) : v_(std::move(v)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    if (!has_value()) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) throw std::get<1>(v_);
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

std::string errno_name(int err);  // "EROFS", or "E<n>" when unknown

}  // namespace sysctlscope
