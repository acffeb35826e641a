// SPDX-License-Identifier: Apache-2.0
// The closed vocabularies of the event model: each an enum with one name
// table (the words of docs/events.md). Everything that prints, parses,
// counts or compares one goes through its table, never a string literal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sysctlscope {

// Specialised per enum: `names`, indexed by the enumerator's value.
template <class E>
struct Vocab;

template <class E>
constexpr std::string_view name_of(E e) {
  return Vocab<E>::names[static_cast<size_t>(e)];
}
template <class E>
constexpr std::optional<E> parse_name(std::string_view s) {
  for (size_t i = 0; i < Vocab<E>::names.size(); ++i)
    if (Vocab<E>::names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}
template <class E>
constexpr size_t vocab_size() {
  return Vocab<E>::names.size();
}

// How sysctl_write results are found (--write-results) and how one was
// (`result_source`).
enum class WriteResultMode : uint8_t { Readback, Syscall };
template <>
struct Vocab<WriteResultMode> {
  static constexpr std::array<std::string_view, 2> names = {"readback", "syscall"};
};

// A sysctl_write's `result`. Failed carries an errno (its name is the word).
enum class WriteStatus : uint8_t { Unknown, Ok, NotApplied, Failed };
template <>
struct Vocab<WriteStatus> {
  // Failed has no word of its own: it prints its errno's name.
  static constexpr std::array<std::string_view, 4> names = {"unknown", "ok", "not_applied", ""};
};

struct WriteOutcome {
  WriteStatus status = WriteStatus::Unknown;
  int err = 0;  // Failed only: positive errno

  static constexpr WriteOutcome failed_with(int err) { return {WriteStatus::Failed, err}; }
  // A write() syscall's return: bytes written or -errno.
  static WriteOutcome of_syscall(int64_t ret) {
    return ret >= 0 ? WriteOutcome{WriteStatus::Ok, 0} : failed_with(static_cast<int>(-ret));
  }
  bool unknown() const { return status == WriteStatus::Unknown; }
  bool ok() const { return status == WriteStatus::Ok; }
  // Known and not ok: `--failed` keeps it, the report lists it as failed.
  bool failed() const {
    return status == WriteStatus::NotApplied || status == WriteStatus::Failed;
  }
  bool operator==(const WriteOutcome&) const = default;
};
// "ok", "not_applied", "unknown", or the errno's name ("EINVAL").
std::string to_string(WriteOutcome r);
// The inverse; "" is "unknown" (recordings of old versions). nullopt for a
// word that is neither a result nor an errno name.
std::optional<WriteOutcome> parse_write_outcome(std::string_view s);

// What refused a sysctl_blocked open (docs/events.md `blocked_by`).
enum class BlockedBy : uint8_t { ReadOnlyMount, Permission, Other };
template <>
struct Vocab<BlockedBy> {
  static constexpr std::array<std::string_view, 3> names = {"read_only_mount", "permission",
                                                            "other"};
};
// EROFS: the read-only /proc/sys mount; EACCES/EPERM: permission.
BlockedBy blocked_by_errno(int err);

// Which namespace holds a sysctl (the value a reader sees, what a write
// changes): the task's network, UTS, IPC or user namespace, or none (one
// value for the host). Also what runc and Kubernetes require of a key.
enum class SysctlScope : uint8_t { Net, Ipc, Uts, User, Global };
template <>
struct Vocab<SysctlScope> {
  // "none": the key is in no namespace (`explain`'s word for it).
  static constexpr std::array<std::string_view, 5> names = {"net", "ipc", "uts", "user", "none"};
};

// The container runtime a container belongs to (JSON `container.runtime`).
// Cri: a kubelet cgroupfs path names no runtime; the CRI annotations refine it
// to Containerd or CriO. Nspawn and Lxc are known by their cgroup only.
// Unknown prints as null.
enum class Runtime : uint8_t { Unknown, Docker, Containerd, CriO, Podman, Runc, Cri, Nspawn, Lxc };
template <>
struct Vocab<Runtime> {
  static constexpr std::array<std::string_view, 9> names = {
      "", "docker", "containerd", "cri-o", "podman", "runc", "cri", "nspawn", "lxc"};
};

// A recorded `container.runtime`: "" (null) is Unknown; throws
// std::invalid_argument for a word that is not in the table.
Runtime parse_runtime(std::string_view s);

// A network namespace: its nsfs inode (u32 in the ABI) and how many births
// of that inode the pipeline has seen (0: born before the tracer). Inodes
// are reused at once, so state kept per namespace is keyed by both.
using NetnsInode = uint32_t;
struct NetnsId {
  NetnsInode inode = 0;
  uint32_t generation = 0;
  auto operator<=>(const NetnsId&) const = default;
};

}  // namespace sysctlscope
