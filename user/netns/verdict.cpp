// SPDX-License-Identifier: Apache-2.0
//
// How inherited vs reset is decided (and why not by a list of names).
//
// A new netns gets each per-netns value from one of three sources, all in the
// kernel's pernet init functions:
//   - a compiled constant (tcp_sk_init() for keepalive, syn retries, ...;
//     inet_init_net() for ip_local_port_range; ...) -> "reset";
//   - init_net's current value (tcp_sk_init(): tcp_rmem/tcp_wmem and the
//     congestion control; devinet_init_net(): conf.all/default in modes 0/1)
//     -> "inherited";
//   - the creating task's netns (devconf_inherit_init_net = 3 only).
// Observation 1 (always): the tool creates a throwaway netns from the host
// netns and compares. fresh != host proves the new netns did not take the
// host's value: reset.
// fresh == host is ambiguous: either it copied the host, or the host still has
// the compiled default. A nested experiment (change the value in a throwaway
// netns, create a grandchild from it) cannot settle this: every non-devconf
// copy reads init_net, never the creator, so the grandchild shows the host's
// value either way; the only copy from the creator is devconf mode 3, which the
// mode rule below covers. Settling it for real needs init_net's value to
// change, i.e. changing the host, which this tool never does. So for equal
// values we use the evidence that exists without touching the host:
//   - devconf blocks: the live devconf_inherit_init_net mode and the kernel's
//     rule for it (copy is wholesale, per block, not per value);
//   - tcp_congestion_control: the kernel's own CONFIG_DEFAULT_TCP_CONG; when
//     the host runs another algorithm and a fresh netns still shows the host's,
//     it was copied;
//   - recorded netns_create birth snapshots (--from): a birth whose value
//     differed from the host's at that moment proves reset; one that matched an
//     earlier, different host value while a fresh netns now matches the current
//     host value proves the value tracks the host: inherited;
// and otherwise say "same" rather than guess.
#include "netns/verdict.hpp"

#include "netns/snapshot.hpp"

namespace sysctlscope::netns {

std::string_view to_string(Birth b) {
  switch (b) {
    case Birth::Inherited:
      return "inherited";
    case Birth::Reset:
      return "reset";
    case Birth::Same:
      return "same";
  }
  return "same";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::Inherited:
      return "inherited";
    case Verdict::Reset:
      return "reset";
    case Verdict::Same:
      return "same";
    case Verdict::Changed:
      return "changed";
  }
  return "same";
}

Devconf devconf_kind(std::string_view n) {
  bool v6;
  if (n.rfind("net.ipv4.conf.", 0) == 0) {
    v6 = false;
    n.remove_prefix(14);
  } else if (n.rfind("net.ipv6.conf.", 0) == 0) {
    v6 = true;
    n.remove_prefix(14);
  } else {
    return Devconf::None;
  }
  auto dot = n.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == n.size()) return Devconf::None;
  auto dev = n.substr(0, dot);
  bool block = dev == "all" || dev == "default";
  if (v6) return block ? Devconf::Ipv6Block : Devconf::Ipv6Device;
  return block ? Devconf::Ipv4Block : Devconf::Ipv4Device;
}

DevconfSource devconf_source(int mode, bool ipv6) {
  switch (mode) {
    case 1:
      return DevconfSource::InitNet;
    case 2:
      return DevconfSource::Compiled;
    case 3:
      return DevconfSource::Creator;
    default:
      return ipv6 ? DevconfSource::Compiled : DevconfSource::InitNet;  // 0 and unknown
  }
}

namespace {

std::string q(const std::string& v) { return "'" + v + "'"; }

struct KnownBirth {
  std::string_view name;
  Birth birth;
  std::string_view where;
  std::string_view value;
};

// From the kernel's per-netns init functions (5.10 to 6.18 agree on these).
// Only entries whose behaviour does not depend on configuration: the
// conf.all/conf.default blocks follow devconf_inherit_init_net (below).
constexpr std::string_view kTcpSkInit = "tcp_sk_init() in net/ipv4/tcp_ipv4.c";
constexpr std::string_view kInetInitNet = "inet_init_net() in net/ipv4/af_inet.c";
constexpr KnownBirth kKernelBirths[] = {
    {"net.core.somaxconn", Birth::Reset, "net_defaults_init_net() in net/core/net_namespace.c",
     "4096"},
    {"net.ipv4.ip_local_port_range", Birth::Reset, kInetInitNet, "32768\t60999"},
    {"net.ipv4.ip_unprivileged_port_start", Birth::Reset, kInetInitNet, "1024"},
    {"net.ipv4.ping_group_range", Birth::Reset, kInetInitNet, "1\t0"},
    {"net.ipv4.ip_local_reserved_ports", Birth::Reset,
     "ipv4_sysctl_init_net() in net/ipv4/sysctl_net_ipv4.c", ""},
    {"net.ipv4.tcp_congestion_control", Birth::Inherited, kTcpSkInit, ""},
    {"net.ipv4.tcp_ecn", Birth::Reset, kTcpSkInit, "2"},
    {"net.ipv4.tcp_fin_timeout", Birth::Reset, kTcpSkInit, "60"},
    {"net.ipv4.tcp_keepalive_intvl", Birth::Reset, kTcpSkInit, "75"},
    {"net.ipv4.tcp_keepalive_probes", Birth::Reset, kTcpSkInit, "9"},
    {"net.ipv4.tcp_keepalive_time", Birth::Reset, kTcpSkInit, "7200"},
    {"net.ipv4.tcp_orphan_retries", Birth::Reset, kTcpSkInit, "0"},
    {"net.ipv4.tcp_retries1", Birth::Reset, kTcpSkInit, "3"},
    {"net.ipv4.tcp_retries2", Birth::Reset, kTcpSkInit, "15"},
    {"net.ipv4.tcp_rmem", Birth::Inherited, kTcpSkInit, ""},
    {"net.ipv4.tcp_sack", Birth::Reset, kTcpSkInit, "1"},
    {"net.ipv4.tcp_syn_retries", Birth::Reset, kTcpSkInit, "6"},
    {"net.ipv4.tcp_synack_retries", Birth::Reset, kTcpSkInit, "5"},
    {"net.ipv4.tcp_syncookies", Birth::Reset, kTcpSkInit, "1"},
    {"net.ipv4.tcp_timestamps", Birth::Reset, kTcpSkInit, "1"},
    {"net.ipv4.tcp_tw_reuse", Birth::Reset, kTcpSkInit, "2"},
    {"net.ipv4.tcp_window_scaling", Birth::Reset, kTcpSkInit, "1"},
    {"net.ipv4.tcp_wmem", Birth::Inherited, kTcpSkInit, ""},
};

std::string kernel_says(const KernelBirth& kb) {
  if (kb.birth == Birth::Inherited)
    return "the kernel copies init_net's value (" + std::string(kb.where) + ")";
  std::string v(kb.value);
  return "the kernel sets it to " + (v.empty() ? std::string("its empty default") : q(v)) +
         " in every new netns (" + std::string(kb.where) + ")";
}

// Evidence from recorded births (see the header comment); nullopt if none decides.
std::optional<BirthRule> from_recorded(const std::string& host,
                                       const std::vector<RecordedBirth>& rec) {
  for (const auto& r : rec)
    if (r.born != r.host)
      return BirthRule{Birth::Reset, "a namespace recorded at netns_create got " + q(r.born) +
                                         " while the host had " + q(r.host)};
  for (const auto& r : rec)
    if (r.host != host)
      return BirthRule{Birth::Inherited, "a namespace recorded at netns_create got the host's " +
                                             q(r.host) + " then, and a fresh one gets the host's " +
                                             q(host) + " now: it tracks the host"};
  return std::nullopt;
}

// Compiled conf.all / conf.default values (the static ipv4_devconf,
// ipv4_devconf_dflt in net/ipv4/devinet.c; ipv6_devconf, ipv6_devconf_dflt in
// net/ipv6/addrconf.c), for the entries a responder asks about; equal in 5.10..6.18.
std::optional<std::string> compiled_devconf(const std::string& name) {
  static const std::pair<std::string_view, std::string_view> kCompiled[] = {
      {"net.ipv4.conf.all.rp_filter", "0"},          {"net.ipv4.conf.default.rp_filter", "0"},
      {"net.ipv4.conf.all.forwarding", "0"},         {"net.ipv4.conf.default.forwarding", "0"},
      {"net.ipv4.conf.all.accept_redirects", "1"},   {"net.ipv4.conf.default.accept_redirects", "1"},
      {"net.ipv4.conf.all.send_redirects", "1"},     {"net.ipv4.conf.default.send_redirects", "1"},
      {"net.ipv4.conf.all.accept_source_route", "0"}, {"net.ipv4.conf.default.accept_source_route", "1"},
      {"net.ipv4.conf.all.log_martians", "0"},       {"net.ipv4.conf.default.log_martians", "0"},
      {"net.ipv4.conf.all.proxy_arp", "0"},          {"net.ipv4.conf.default.proxy_arp", "0"},
      {"net.ipv6.conf.all.forwarding", "0"},         {"net.ipv6.conf.default.forwarding", "0"},
      {"net.ipv6.conf.all.disable_ipv6", "0"},       {"net.ipv6.conf.default.disable_ipv6", "0"},
      {"net.ipv6.conf.all.accept_ra", "1"},          {"net.ipv6.conf.default.accept_ra", "1"},
      {"net.ipv6.conf.all.hop_limit", "64"},         {"net.ipv6.conf.default.hop_limit", "64"},
  };
  for (const auto& [n, v] : kCompiled)
    if (n == name) return std::string(v);
  return std::nullopt;
}

}  // namespace

std::optional<KernelBirth> kernel_birth(std::string_view dotted) {
  for (const auto& k : kKernelBirths)
    if (k.name == dotted) return KernelBirth{k.birth, k.where, k.value};
  return std::nullopt;
}

BirthRule birth_rule(std::string_view name_sv, const std::optional<std::string>& host,
                     const std::optional<std::string>& fresh, const KernelContext& k,
                     const std::vector<RecordedBirth>& recorded) {
  std::string name(name_sv);
  if (!fresh) return {Birth::Same, "not readable in a fresh netns"};
  if (!host)
    return {Birth::Reset, "the host netns has no such entry; a fresh netns gets " + q(*fresh)};

  Devconf dc = devconf_kind(name);
  if (dc == Devconf::Ipv4Block || dc == Devconf::Ipv6Block) {
    bool v6 = dc == Devconf::Ipv6Block;
    std::string mode = "devconf_inherit_init_net=" + std::to_string(k.devconf_mode);
    std::string src = std::string("kernel source: ") +
                      (v6 ? "addrconf_init_net() in net/ipv6/addrconf.c" : "devinet_init_net() in net/ipv4/devinet.c");
    auto compiled = compiled_devconf(name);
    switch (devconf_source(k.devconf_mode, v6)) {
      case DevconfSource::Compiled:
        if (*host != *fresh)
          return {Birth::Reset, src + " gives a new netns the compiled defaults (" + mode +
                                    "); measured: a fresh netns gets " + q(*fresh) + ", the host has " + q(*host)};
        return {Birth::Reset, src + " gives a new netns the compiled defaults (" + mode +
                                  "); not confirmed here: the host has that value too"};
      case DevconfSource::InitNet:
      case DevconfSource::Creator: {
        const char* from = devconf_source(k.devconf_mode, v6) == DevconfSource::InitNet
                               ? "copies the host's (init_net's) block"
                               : "copies the creating task's netns's block";
        std::string says = src + " " + from + " (" + mode + ")";
        if (*host == *fresh) {
          if (compiled && *compiled != *host)
            return {Birth::Inherited, says + "; measured: a fresh netns got the host's " + q(*host) +
                                          ", not the compiled default " + q(*compiled)};
          return {Birth::Inherited,
                  says + "; not confirmed here: a fresh netns got the host's " + q(*fresh) +
                      (compiled ? ", which is also the compiled default" : ", which may equal the compiled default")};
        }
        // The observation wins over the rule; say so.
        return {Birth::Reset, says + ", but a fresh netns got " + q(*fresh) + " while the host has " + q(*host)};
      }
    }
  }

  // One kernel variable for every netns: a new netns cannot differ.
  if (const char* g = global_sysctl_reason(name)) {
    std::string says = std::string("kernel source: not per netns, ") + g;
    if (*host == *fresh) return {Birth::Inherited, says + "; a fresh netns shows the host's " + q(*host)};
    return {Birth::Reset, says + ", but a fresh netns showed " + q(*fresh) + " while the host has " + q(*host)};
  }

  // The kernel's code, where known; confirmed by measurement when the host
  // differs from what it predicts, said to be unconfirmable here otherwise.
  if (auto kb = kernel_birth(name)) {
    std::string says = "kernel source: " + kernel_says(*kb);
    if (kb->birth == Birth::Reset && *host != *fresh)
      return {Birth::Reset, says + "; measured: a fresh netns gets " + q(*fresh) +
                                ", the host has " + q(*host)};
    if (kb->birth == Birth::Reset)
      return {Birth::Reset, says + "; not confirmed here: the host has that value too"};
    if (*host == *fresh) {
      bool confirmed = name == "net.ipv4.tcp_congestion_control" && k.default_cc &&
                       *k.default_cc != *host;
      return {Birth::Inherited,
              says + (confirmed ? "; measured: a fresh netns got the host's " + q(*host) +
                                      ", not the compiled default " + q(*k.default_cc)
                                : "; not confirmed here: a fresh netns got the host's " +
                                      q(*host) + ", which may equal the compiled default")};
    }
    // Inherited by the code, yet different: the observation wins; say so.
    return {Birth::Reset, says + ", but a fresh netns got " + q(*fresh) + " while the host has " +
                              q(*host)};
  }

  if (*host != *fresh) {
    std::string e = "a fresh netns gets " + q(*fresh) + ", the host has " + q(*host);
    if (dc == Devconf::Ipv4Device)
      e += " (kernel source: inetdev_init() in net/ipv4/devinet.c starts a device from its own netns's "
           "conf.default)";
    if (dc == Devconf::Ipv6Device)
      e += " (kernel source: ipv6_add_dev() in net/ipv6/addrconf.c starts a device from its own netns's "
           "conf.default)";
    return {Birth::Reset, e};
  }
  if (name == "net.ipv4.tcp_congestion_control" && k.default_cc) {
    if (*k.default_cc != *host)
      return {Birth::Inherited,
              "the kernel default is " + q(*k.default_cc) +
                  " (CONFIG_DEFAULT_TCP_CONG), yet a fresh netns got the host's " + q(*host)};
  }
  if (auto r = from_recorded(*host, recorded)) return *r;
  return {Birth::Same,
          "a fresh netns gets the host's value " + q(*host) +
              "; copied or a default equal to it cannot be told without changing the host"};
}

Verdict row_verdict(const BirthRule& rule, const std::optional<std::string>& target,
                    const std::optional<std::string>& fresh,
                    const std::optional<std::string>& born) {
  auto base = [&] {
    switch (rule.birth) {
      case Birth::Inherited:
        return Verdict::Inherited;
      case Birth::Reset:
        return Verdict::Reset;
      case Birth::Same:
        return Verdict::Same;
    }
    return Verdict::Same;
  };
  if (!target) return base();
  if (born) return *target == *born ? base() : Verdict::Changed;
  if (fresh && *target != *fresh) return Verdict::Changed;
  return base();
}

bool row_differs(Verdict v, const std::optional<std::string>& host,
                 const std::optional<std::string>& target) {
  if (v == Verdict::Changed) return true;
  return host != target;
}

}  // namespace sysctlscope::netns
