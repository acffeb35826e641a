// SPDX-License-Identifier: Apache-2.0
// The user-visible event filter shared by trace, record and replay. Whatever
// can be decided in the kernel is also exported as knobs (kernel_type_mask).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/event.hpp"

namespace sysctlscope {

struct Filter {
  std::vector<EventType> types;           // empty: all
  std::vector<std::string> sysctl_globs;  // on dotted names; empty: all
  std::optional<uint32_t> pid;
  std::vector<std::string> comms;
  bool failed_only = false;
  // Container filters (after enrichment). A container matches by id prefix or
  // name, as the actor or as the owner of the netns touched.
  std::vector<std::string> containers;
  std::vector<std::string> pods;            // pod name, actor or netns owner
  std::vector<std::string> k8s_namespaces;  // Kubernetes namespace, same
  bool host_only = false;                   // actor not in a container

  // Throws UsageError for an unknown type name.
  static std::vector<EventType> parse_types(const std::vector<std::string>& names);
  // Throws UsageError for a malformed glob (unbalanced '[', trailing '\').
  static void validate_glob(const std::string& glob);

  bool wants(EventType t) const;
  bool matches(const Event& e) const;
  nlohmann::ordered_json to_json() const;  // for record's session_start
};

// What besides the filter decides which kernel records a session needs.
struct KernelNeeds {
  WriteResultMode write_results = WriteResultMode::Readback;
  bool policy = false;  // --policy judges every write and birth (sysctl_drift)
  bool rules = false;   // --rules judges every write and blocked open (detection)
};
// The SS_TYPE_BIT mask of kernel records (and so of programs, plan_programs)
// needed for the wanted events: the one place it is computed, from the
// registry's TypeInfo.
uint32_t kernel_type_mask(const Filter& f, KernelNeeds needs);

}  // namespace sysctlscope
