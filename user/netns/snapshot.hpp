// SPDX-License-Identifier: Apache-2.0
// Decoding of netns_create birth snapshots: raw bytes of the new namespace's
// per-netns sysctl storage (bpf/netns.bpf.c) -> the values /proc/sys/net
// would print inside it.
//
// Where each sysctl lives comes from the running kernel's BTF (member names,
// offsets, sizes, the IPV4_DEVCONF_* enum), never from hard-coded offsets.
// How /proc converts it (plain, jiffies, ms-jiffies, USER_HZ jiffies) is
// learned once per run by calibration: the tool creates a throwaway netns
// after attaching, takes its snapshot and compares each decoded raw value with
// what /proc/sys prints in that same netns. A name whose storage or unit could
// not be established is reported as unmapped, never guessed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netns/nsexec.hpp"

struct ss_netns_create_event;
struct btf;

namespace sysctlscope::netns {

// Location of one sysctl's storage inside a snapshot part.
struct FieldLoc {
  int part = 0;          // enum ss_snap_part
  uint32_t offset = 0;   // bytes from the start of the part
  uint32_t elem_size = 0;
  uint32_t count = 1;    // > 1 for arrays (tcp_rmem)
  bool is_signed = true;
  enum class Kind { Int, CongestionControl, PortRange16, PairU32 } kind = Kind::Int;
};

enum class Unit { Plain, Jiffies, MsJiffies, UserHzJiffies, Unknown };

class SnapshotDecoder {
 public:
  // Reads /sys/kernel/btf/vmlinux; throws Error when BTF is unusable.
  SnapshotDecoder();
  ~SnapshotDecoder();
  SnapshotDecoder(const SnapshotDecoder&) = delete;
  SnapshotDecoder& operator=(const SnapshotDecoder&) = delete;

  // Where the sysctl `dotted` lives, from BTF (nullopt: not a field we know).
  std::optional<FieldLoc> locate(const std::string& dotted) const;

  // Learns the name set and units from a snapshot of a fresh netns and the
  // /proc values read inside that same netns.
  void calibrate(const ss_netns_create_event& rec, const SysctlMap& proc);
  bool calibrated() const { return calibrated_; }
  unsigned hz() const { return hz_; }

  struct Result {
    std::map<std::string, std::string> defaults;  // dotted name -> /proc text
    std::vector<std::string> unmapped;
  };
  Result decode(const ss_netns_create_event& rec) const;

 private:
  struct Mapping {
    FieldLoc loc;
    Unit unit;
  };
  std::optional<std::vector<int64_t>> raw(const ss_netns_create_event& rec, const FieldLoc& l) const;
  std::optional<std::string> format(const ss_netns_create_event& rec, const Mapping& m) const;

  struct btf* btf_ = nullptr;
  bool calibrated_ = false;
  unsigned hz_ = 0;
  std::map<std::string, Mapping> mapped_;
  std::vector<std::string> unmapped_;
};

// The fresh-netns calibration: runs in a forked child that unshares a netns
// and reads /proc/sys/net there. Returns its netns inode and values.
struct FreshNetns {
  uint32_t inode = 0;
  SysctlMap values;
};
Expected<FreshNetns> probe_fresh_netns();

}  // namespace sysctlscope::netns
