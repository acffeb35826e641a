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
#include <set>
#include <string>
#include <vector>

#include "netns/nsexec.hpp"

struct ss_netns_create_event;
struct btf;

namespace sysctlscope::netns {

// Location of one sysctl's storage inside a snapshot part.
struct FieldLoc {
  int part = 0;         // enum ss_snap_part
  uint32_t offset = 0;  // bytes from the start of the part
  uint32_t elem_size = 0;
  uint32_t count = 1;  // > 1 for arrays (tcp_rmem)
  bool is_signed = true;
  enum class Kind {
    Int,
    CongestionControl,
    PortRange16,
    PairU32,
    NullPointer,    // a pointer that is NULL at birth; its text is learned (tcp_fastopen_key)
    StaticPointer,  // a pointer to a static object; pointer -> text is learned (nf_log.N)
    HashEntries,    // mask + 1 of a hash table, negative when it is the shared one
    BitmapList,     // unsigned long bitmap printed as ranges (icmp.ratemask)
    QlenBytes,      // bytes / `div` (neigh unres_qlen from QUEUE_LEN_BYTES)
    CString,        // a char array printed up to its NUL (net.mptcp.scheduler)
    ZeroAtBirth,    // a live counter no birth can have started (nf_conntrack_count)
    EmptyAtBirth,   // a list allocated empty by the netns's init (ip_local_reserved_ports)
  } kind = Kind::Int;
  uint32_t div = 0;  // QlenBytes: SKB_TRUESIZE(ETH_FRAME_LEN)
  // A structure behind net_generic() (part SS_SNAP_GEN): `offset` is within
  // `gen_struct` (or, with gen_deref, within what its deref pointer points
  // to) until calibration finds the structure's slot and rebases it.
  std::string gen_struct;
  bool gen_deref = false;
  int gen_slot = -1;
};

// Sysctls that are one variable for every network namespace (a fresh netns
// shows the host's value), with the kernel source that says so; nullptr
// for a per-netns sysctl.
const char* global_sysctl_reason(const std::string& dotted);
// Why a per-netns sysctl cannot be decoded from a birth snapshot, or nullptr.
const char* unmapped_reason(const std::string& dotted);

enum class Unit { Plain, Jiffies, MsJiffies, UserHzJiffies, Unknown };

// Where each sysctl lives, from the kernel's BTF. The parsed BTF of a
// distribution kernel costs ~12 MiB of heap, so the tracer only uses this in
// the short-lived calibration child (probe_fresh_netns) and keeps the result.
class BtfLocator {
 public:
  // Reads `btf_file` ("": /sys/kernel/btf/vmlinux, and module BTF); throws
  // Error when BTF is unusable.
  explicit BtfLocator(const std::string& btf_file);
  ~BtfLocator();
  BtfLocator(const BtfLocator&) = delete;
  BtfLocator& operator=(const BtfLocator&) = delete;
  // nullopt: not a field we know how to find.
  std::optional<FieldLoc> locate(const std::string& dotted) const;

 private:
  // Struct `name` in vmlinux, else in a module's split BTF
  // (/sys/kernel/btf/<module>: br_netfilter, nf_conntrack, ... on
  // distribution kernels). {nullptr, -1} when no BTF has it.
  std::pair<const struct btf*, int> find_struct(const std::string& name) const;
  struct btf* btf_ = nullptr;
  mutable std::vector<struct btf*> modules_;  // loaded on first need
  mutable bool modules_loaded_ = false;
  // The running kernel's BTF (no --btf): module BTF splits on top of it.
  bool own_vmlinux_ = true;
};
using FieldLocs = std::map<std::string, FieldLoc>;

class SnapshotDecoder {
 public:
  // Learns the name set and units from a snapshot of a fresh netns, the
  // /proc values read inside that same netns and the BTF locations.
  void calibrate(const ss_netns_create_event& rec, const SysctlMap& proc, const FieldLocs& locs);
  bool calibrated() const { return calibrated_; }
  unsigned hz() const { return hz_; }
  // Names the kernel does not register in a netns owned by a non-initial
  // user namespace (learned from such a throwaway netns): decode() leaves
  // them out of records flagged SS_NETNS_F_CHILD_USERNS, since /proc/sys has
  // no such file there.
  void set_hidden_in_child_userns(std::set<std::string> names) {
    hidden_child_userns_ = std::move(names);
  }

  struct Result {
    std::map<std::string, std::string> defaults;  // dotted name -> /proc text
    std::vector<std::string> global;  // names to read from the host (global_sysctl_reason)
    std::vector<std::string> unmapped;
    std::map<std::string, std::string> unmapped_reasons;  // the known ones among `unmapped`
  };
  Result decode(const ss_netns_create_event& rec) const;
  // One name's value in `rec` (a writer's exit snapshot), or nullopt.
  std::optional<std::string> value(const ss_netns_create_event& rec,
                                   const std::string& dotted) const;

 private:
  struct Mapping {
    FieldLoc loc;
    Unit unit;
    std::map<uint64_t, std::string> ptr_text;  // NullPointer/StaticPointer
    std::optional<uint64_t> shared_addr;       // HashEntries: the table every netns shares
  };
  std::optional<std::vector<int64_t>> raw(const ss_netns_create_event& rec,
                                          const FieldLoc& l) const;
  std::optional<std::string> format(const ss_netns_create_event& rec, const Mapping& m) const;
  // The mapping under which `loc` in `rec` prints exactly /proc's `text`
  // (the unit learned), or nullopt.
  std::optional<Mapping> learn(const ss_netns_create_event& rec, const FieldLoc& loc,
                               const std::string& text) const;
  // Finds the slot of each net_generic structure in `locs` and rebases its
  // names there; names of a structure with no single matching slot leave
  // `locs` with the reason in gen_why_.
  void find_generic_slots(const ss_netns_create_event& rec, const SysctlMap& proc, FieldLocs& locs);

  bool calibrated_ = false;
  unsigned hz_ = 0;
  std::map<std::string, Mapping> mapped_;
  std::vector<std::string> unmapped_;
  std::vector<std::string> global_;
  std::set<std::string> hidden_child_userns_;
  std::map<std::string, std::string> gen_why_;  // unmapped net_generic names -> why
};

// The fresh-netns calibration: runs in a forked child that unshares a netns
// and reads /proc/sys/net there, and locates the names in BTF. Returns its
// netns inode, values and locations.
struct FreshNetns {
  uint32_t inode = 0;
  SysctlMap values;
  FieldLocs locs;  // BTF locations of the names in `values` that have one
  // Names of `values` absent from a netns owned by a new user namespace
  // (nullopt: user namespaces unavailable, then no such netns can be born).
  std::optional<std::set<std::string>> hidden_in_child_userns;
};
// `btf_file`: --btf ("": the running kernel's BTF).
Expected<FreshNetns> probe_fresh_netns(const std::string& btf_file);

}  // namespace sysctlscope::netns
