// SPDX-License-Identifier: Apache-2.0
#include "model/filter.hpp"

#include <fnmatch.h>
#include <linux/types.h>

#include <algorithm>
#include <type_traits>

#include "core/error.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope {

std::vector<EventType> Filter::parse_types(const std::vector<std::string>& names) {
  std::vector<EventType> out;
  for (const auto& n : names) {
    auto t = parse_event_type(n, /*public_only=*/true);
    if (!t) throw UsageError("unknown event type '" + n + "' (known: " + public_type_names() + ")");
    out.push_back(*t);
  }
  return out;
}

void Filter::validate_glob(const std::string& glob) {
  if (glob.empty()) throw UsageError("empty --sysctl glob");
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') {
      if (++i == glob.size()) throw UsageError("malformed glob '" + glob + "': trailing backslash");
    } else if (glob[i] == '[') {
      size_t j = i + 1;
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
      if (j < glob.size() && glob[j] == ']') ++j;  // "[]]" matches ']'
      while (j < glob.size() && glob[j] != ']') ++j;
      if (j == glob.size()) throw UsageError("malformed glob '" + glob + "': unbalanced '['");
      i = j;
    }
  }
}

bool Filter::wants(EventType t) const {
  return types.empty() || std::find(types.begin(), types.end(), t) != types.end();
}

bool Filter::matches(const Event& e) const {
  if (e.is<Lost>()) return true;  // never hide losses
  if (!wants(e.type())) return false;
  if (failed_only && !e.failed()) return false;
  if (pid && e.pid != *pid) return false;
  if (!comms.empty() && std::find(comms.begin(), comms.end(), e.comm) == comms.end()) return false;
  if (host_only && e.container) return false;
  if (!containers.empty() || !pods.empty() || !k8s_namespaces.empty()) {
    auto any_of = [&](const std::vector<std::string>& wanted, auto&& field_matches) {
      if (wanted.empty()) return true;
      for (const auto* c : {&e.container, &e.netns_container})
        if (*c)
          for (const auto& w : wanted)
            if (field_matches(**c, w)) return true;
      return false;
    };
    if (!any_of(containers, [](const ContainerInfo& c, const std::string& w) {
          return c.id.compare(0, w.size(), w) == 0 || (!c.name.empty() && c.name == w);
        }))
      return false;
    if (!any_of(pods, [](const ContainerInfo& c, const std::string& w) { return c.pod == w; }))
      return false;
    if (!any_of(k8s_namespaces,
                [](const ContainerInfo& c, const std::string& w) { return c.k8s_namespace == w; }))
      return false;
  }
  if (!sysctl_globs.empty()) {
    const std::string_view name = e.sysctl();
    if (name.empty()) return false;
    bool any = false;
    for (const auto& g : sysctl_globs) {
      // No FNM_PATHNAME: '*' spans dots, as users expect from 'net.ipv4.*'.
      // Every type's sysctl is a std::string: data() is NUL-terminated.
      if (fnmatch(g.c_str(), name.data(), 0) == 0) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

uint32_t kernel_type_mask(const Filter& f, KernelNeeds needs) {
  uint32_t m = 0;
  for_each_event_type([&](auto t) {
    using T = typename decltype(t)::type;
    constexpr TypeInfo i = T::kInfo;
    const bool wanted = f.wants(kTypeOf<T>) && (i.can_fail || !f.failed_only);
    if (wanted || (needs.policy && std::is_same_v<T, SysctlDrift>) ||
        (needs.rules && std::is_same_v<T, Detection>))
      m |= (i.record ? SS_TYPE_BIT(i.record) : 0) | i.also_needs;
  });
  // What the records needed so far need in turn, in this --write-results mode.
  for_each_event_type([&](auto t) {
    constexpr TypeInfo i = decltype(t)::type::kInfo;
    if (i.record && (m & SS_TYPE_BIT(i.record)))
      m |= i.needs_by_mode[static_cast<size_t>(needs.write_results)];
  });
  // Not events of their own: they keep cgroup id -> path current (enricher).
  if (m) m |= SS_TYPE_BIT(SS_EV_CGROUP_MKDIR) | SS_TYPE_BIT(SS_EV_CGROUP_RMDIR);
  return m;
}

nlohmann::ordered_json Filter::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!types.empty()) {
    auto& a = j["type"] = nlohmann::ordered_json::array();
    for (auto t : types) a.push_back(std::string(to_string(t)));
  }
  if (!sysctl_globs.empty()) j["sysctl"] = sysctl_globs;
  if (pid) j["pid"] = *pid;
  if (!comms.empty()) j["comm"] = comms;
  if (failed_only) j["failed"] = true;
  if (!containers.empty()) j["container"] = containers;
  if (!pods.empty()) j["pod"] = pods;
  if (!k8s_namespaces.empty()) j["k8s_namespace"] = k8s_namespaces;
  if (host_only) j["host"] = true;
  return j;
}

}  // namespace sysctlscope
