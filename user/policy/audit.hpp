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
  NetnsInode netns = 0;                // the place's netns inode
  std::optional<ContainerInfo> owner;  // its owner (non-host netns)
  bool satisfied() const { return !missing && value_satisfies(*rule, value); }
};

// The namespace inode of b's --enforce entry, as the kernel program looks it
// up (the writer's netns, IPC and UTS namespace in turn, then 0): b's netns
// for net.*, the initial IPC/UTS namespace for those, 0 (any) for the rest.
uint32_t enforce_ns(const Binding& b);

// Every binding on the host and in every network namespace some rule's scope
// covers. A namespace that cannot be read is a warning (it may have gone).
std::vector<Binding> bind_now(const Policy& pol);

// The sysctl_drift event of a binding that is not satisfied (cause "check").
Event drift_event(const Binding& b, uint64_t time_ns);

// The inode of the IPC or UTS namespace (by scope_of(e.sysctl())) of e's
// task while it still runs: /proc/<tid>, checked against the event's netns
// and mount namespace so a reused tid is not taken for it. nullopt: gone.
std::optional<uint32_t> live_writer_ns(const Event& e);

// Judges live events (trace/record --policy). Not thread-safe; one per pipeline.
class Monitor {
 public:
  // `on_binding`: a namespace born after start got a governed sysctl
  // (--enforce adds it to the kernel map).
  using BindingFn = std::function<void(const Binding&)>;
  // Where an IPC/UTS write applied (place_of()); live_writer_ns by default.
  using WriterNsFn = std::function<std::optional<uint32_t>(const Event&)>;
  Monitor(const Policy& pol, NetnsInode host_netns, BindingFn on_binding = {},
          WriterNsFn writer_ns = live_writer_ns)
      : pol_(pol),
        host_netns_(host_netns),
        on_binding_(std::move(on_binding)),
        writer_ns_(std::move(writer_ns)) {}
  // The drift events an event causes (after enrichment): a write that moves a
  // governed sysctl away from its expected value, one that restores it, a
  // namespace born with values the policy rejects.
  std::vector<Event> judge(const Event& e);

 private:
  const Policy& pol_;
  NetnsInode host_netns_;
  BindingFn on_binding_;
  WriterNsFn writer_ns_;
};

}  // namespace sysctlscope::policy
