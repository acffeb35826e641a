// SPDX-License-Identifier: Apache-2.0
// What a new network namespace gets for each per-netns sysctl, and why a
// namespace's value differs from the host's. Pure logic: the observations
// (host, fresh-netns, target values; kernel config; recorded births) are
// gathered elsewhere, so every rule here is unit-testable without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysctlscope::netns {

// How a new netns initialises a sysctl.
//   Inherited: copies the host's (init_net's, or the creator's) value.
//   Reset:     gets the kernel's compiled default; host changes never propagate.
//   Same:      a new netns starts with the host's current value, but whether it
//              copied it or got a compiled default that happens to be equal
//              cannot be observed without changing the host (which we never do).
enum class Birth { Inherited, Reset, Same };
// Per row: Birth, or Changed when the namespace's value was altered after birth.
enum class Verdict { Inherited, Reset, Same, Changed };
std::string_view to_string(Birth b);
std::string_view to_string(Verdict v);

// Which part of the devconf machinery a name belongs to.
enum class Devconf { None, Ipv4Block, Ipv6Block, Ipv4Device, Ipv6Device };
// net.ipv4.conf.{all,default}.X -> Ipv4Block, net.ipv4.conf.<dev>.X -> Ipv4Device, same for ipv6.
Devconf devconf_kind(std::string_view dotted);

// What net.core.devconf_inherit_init_net makes a new netns do with the
// conf.all/conf.default blocks (devinet_init_net() in net/ipv4/devinet.c,
// addrconf_init_net() in net/ipv6/addrconf.c):
//   0: IPv4 copied from init_net, IPv6 compiled defaults
//   1: both copied from init_net
//   2: both compiled defaults
//   3: both copied from the creating task's netns
enum class DevconfSource { InitNet, Creator, Compiled };
DevconfSource devconf_source(int mode, bool ipv6);

// A netns_create seen in a recorded session: the value the new netns got and
// the host's value at that moment.
struct RecordedBirth {
  uint64_t time_ns = 0;
  uint64_t netns = 0;
  std::string born;  // defaults[name]
  std::string host;  // host value then (differs_from_host, else == born)
};

// Kernel facts read from the running system.
struct KernelContext {
  int devconf_mode = 0;                   // net.core.devconf_inherit_init_net
  std::optional<std::string> default_cc;  // CONFIG_DEFAULT_TCP_CONG, when the config is readable
};

// What the kernel's own code does with a sysctl when a netns is created, for
// the sysctls whose init function is known (kernel_birth_table() in
// verdict.cpp, with the function and file): Reset to a compiled constant,
// or Inherited (copied from init_net). nullopt: not in the table.
struct KernelBirth {
  Birth birth = Birth::Same;
  std::string_view where;  // "tcp_sk_init() in net/ipv4/tcp_ipv4.c"
  std::string_view value;  // the compiled default as /proc/sys prints it (Reset only)
};
std::optional<KernelBirth> kernel_birth(std::string_view dotted);

struct BirthRule {
  Birth birth = Birth::Same;
  std::string evidence;  // one sentence a user can check
};

// Decides Birth for one sysctl from the observations. `host`/`fresh` are the
// values in the tool's (host) netns and in a throwaway netns it created; absent
// when the name does not exist or could not be read there.
BirthRule birth_rule(std::string_view name, const std::optional<std::string>& host,
                     const std::optional<std::string>& fresh, const KernelContext& k,
                     const std::vector<RecordedBirth>& recorded = {});

// The row verdict: Changed when the target differs from what a new netns gets
// (`fresh`) unless its recorded birth value shows it still has what it was born with.
Verdict row_verdict(const BirthRule& rule, const std::optional<std::string>& target,
                    const std::optional<std::string>& fresh,
                    const std::optional<std::string>& born = std::nullopt);

// Rows shown without --all: the target differs from the host, or was changed.
bool row_differs(Verdict v, const std::optional<std::string>& host,
                 const std::optional<std::string>& target);

}  // namespace sysctlscope::netns
