// SPDX-License-Identifier: Apache-2.0
// The policy against the running system: `check` (every namespace in scope,
// now), the concrete entries `--enforce` loads into the kernel (globs
// expanded), and the judge of live events for `trace --policy`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/event.hpp"
#include "policy/policy.hpp"

namespace sysctlscope::policy {

// One sysctl a rule governs in one place, as it is now.
struct Binding {
  const Rule* rule = nullptr;
  std::string sysctl;  // dotted, concrete
  std::string value;   // as /proc prints it, newline removed ("" when missing)
  bool missing = false;
  bool host = true;
  uint32_t netns = 0;                  // the place's netns inode
  std::optional<ContainerInfo> owner;  // its owner (non-host netns)
  bool satisfied() const { return !missing && value_satisfies(*rule, value); }
};

// Every binding on the host and in every network namespace some rule's scope
// covers. A namespace that cannot be read is a warning (it may have gone).
std::vector<Binding> bind_now(const Policy& pol);

// The sysctl_drift event of a binding that is not satisfied (cause "check").
Event drift_event(const Binding& b, uint64_t time_ns);

// Judges live events (trace/record --policy). Not thread-safe; one per pipeline.
class Monitor {
 public:
  // `on_binding`: a namespace born after start got a governed sysctl
  // (--enforce adds it to the kernel map).
  using BindingFn = std::function<void(const Binding&)>;
  Monitor(const Policy& pol, uint32_t host_netns, BindingFn on_binding = {})
      : pol_(pol), host_netns_(host_netns), on_binding_(std::move(on_binding)) {}
  // The drift events an event causes (after enrichment): a write that moves a
  // governed sysctl away from its expected value, one that restores it, a
  // namespace born with values the policy rejects.
  std::vector<Event> judge(const Event& e);

 private:
  const Policy& pol_;
  uint32_t host_netns_;
  BindingFn on_binding_;
};

}  // namespace sysctlscope::policy
