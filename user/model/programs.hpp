// SPDX-License-Identifier: Apache-2.0
// Which BPF programs make a kernel record, and their fallbacks where a kernel
// lacks what they need. The registry declares them: an event type in its
// TypeInfo::programs (model/event_types.hpp), a record that is not an event
// in its kPrograms (model/decode.hpp). The loader (bpf/tracer.cpp,
// plan_programs) asks the kernel's probe and picks; this layer stays pure
// (names and needs only, no probing).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sysctlscope {

// What the kernel must have beyond the floor (5.10; docs/kernels.md).
enum class KernelNeed : uint8_t {
  None,
  Fentry,       // fexit programs attach (BPF trampolines)
  TpBtf,        // BTF-typed tracepoints
  Atomics,      // BPF compare-and-swap
  TaskStorage,  // task storage from tracing programs (with the BTF task)
};

// One program of the object, loaded only where `tracepoint`
// ("<category>:<name>", "" for none) exists and the kernel has `needs`.
struct BpfProgram {
  std::string_view name;
  std::string_view tracepoint = {};
  KernelNeed needs = KernelNeed::None;
  std::string_view without = {};  // what is lost when `needs` is missing (-v)
};

// One way to make the records: its programs, where the kernel has `needs`
// and every one of `tracepoints` (all or none of the programs load).
struct ProgramChoice {
  KernelNeed needs = KernelNeed::None;
  std::span<const std::string_view> tracepoints = {};
  std::span<const BpfProgram> programs = {};
  std::string_view note = {};  // said with -v when this choice is taken
};

// Programs the owning records need: the first choice the kernel allows. An
// owner is a type or record whose entry lists the group (several may list
// one: the cgroup/sysctl hook makes reads and writes).
struct ProgramGroup {
  std::span<const ProgramChoice> choices;
  uint32_t with = 0;    // only when these records (SS_TYPE_BIT mask) are wanted too
  uint32_t unless = 0;  // and none of these
  std::string_view off = {};   // said with -v when not wanted
  std::string_view none = {};  // said with -v when no choice fits the kernel
};

// A group and the records (SS_TYPE_BIT mask) of the entries that list it.
struct ProgramUse {
  const ProgramGroup* group;
  uint32_t records;
};

// Every group of the registry once, in registry order (event types, then the
// records that are not events).
std::vector<ProgramUse> registered_programs();

}  // namespace sysctlscope
