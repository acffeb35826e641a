// SPDX-License-Identifier: Apache-2.0
#include "policy/audit.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <set>
#include <tuple>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "enrich/proc.hpp"
#include "model/actor.hpp"
#include "model/sysctl_path.hpp"
#include "netns/nsexec.hpp"
#include "netns/owners.hpp"

namespace sysctlscope::policy {

namespace {

// The audit's events have always said no pod uid (null): kept so.
ContainerInfo info_of(const netns::ContainerRef& c) {
  ContainerInfo ci = c.info;
  ci.pod_uid.clear();
  return ci;
}

// Bindings of one place from its values (dotted name -> value).
void bind_place(const Policy& pol, const netns::SysctlMap& values, bool host, NetnsInode netns,
                const std::optional<ContainerInfo>& owner, std::vector<Binding>& out) {
  std::set<const Rule*> present;
  for (const auto& [name, v] : values) {
    if (!host && scope_of(name) != SysctlScope::Net) continue;  // other netns hold net.* only
    const Rule* r = pol.rule_for(name, host, owner);
    if (!r || v.err) continue;  // write-only or unreadable entries are not judged
    present.insert(r);
    out.push_back(Binding{r, name, v.value, false, host, netns, owner});
  }
  // An explicit rule whose sysctl is absent here ("-name" lines excepted).
  for (const auto& r : pol.rules()) {
    if (r.glob || r.exclude || r.ignore_missing || present.count(&r)) continue;
    if (!(host ? r.scope.host
               : (scope_of(r.pattern) == SysctlScope::Net && r.scope.covers_netns(owner))))
      continue;
    if (values.count(r.pattern)) continue;  // governed by a later rule
    if (pol.rule_for(r.pattern, host, owner) != &r) continue;
    out.push_back(Binding{&r, r.pattern, "", true, host, netns, owner});
  }
}

// `names` as the host's namespaces hold them (init_net, the initial IPC and
// UTS namespaces), through pid 1's or, where pid 1 hides its namespaces,
// kthreadd's (kernel threads are always in the initial ones), each checked by
// its inode: the fixed ones of IPC/UTS, `host_net` for the netns.
Expected<netns::SysctlMap> read_in_host_namespaces(const std::vector<std::string>& names,
                                                   uint32_t host_net) {
  std::vector<Fd> fds;
  std::vector<std::pair<int, int>> ns;
  const std::tuple<const char*, int, uint32_t> kinds[] = {{"net", CLONE_NEWNET, host_net},
                                                          {"ipc", CLONE_NEWIPC, kHostIpcInode},
                                                          {"uts", CLONE_NEWUTS, kHostUtsInode}};
  for (const auto& [kind, type, inode] : kinds) {
    for (const char* pid : {"1", "2"}) {
      Fd fd(::open((std::string("/proc/") + pid + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC));
      struct stat st {};
      if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || st.st_ino != inode) continue;
      ns.emplace_back(type, fd.get());
      fds.push_back(std::move(fd));
      break;
    }
    if (ns.empty() || ns.back().first != type)  // neither pid shows the host's
      return Error(std::string("open the host's ") + kind + " namespace",
                   std::string("/proc/{1,2}/ns/") + kind, 0, "run with the host's pid namespace");
  }
  return netns::read_sysctls_in(ns, names);
}

}  // namespace

uint32_t enforce_ns(const Binding& b) {
  switch (scope_of(b.sysctl)) {
    case SysctlScope::Net:
      return b.netns;
    case SysctlScope::Ipc:
      return kHostIpcInode;  // bindings of IPC/UTS sysctls are the host's (bind_place)
    case SysctlScope::Uts:
      return kHostUtsInode;
    default:
      return 0;
  }
}

std::optional<uint32_t> live_writer_ns(const Event& e) {
  const SysctlScope s = scope_of(e.sysctl());
  if ((s != SysctlScope::Ipc && s != SysctlScope::Uts) || !e.tid) return std::nullopt;
  const std::string dir = "/proc/" + std::to_string(e.tid) + "/ns/";
  auto inode = [&](std::string_view kind) { return ns_inode(dir + std::string(kind)); };
  const uint32_t ns = inode(name_of(s));
  // Still the writer: same netns and mount namespace (a reused tid rarely has both).
  if (!ns || inode("net") != e.netns || (e.mntns && inode("mnt") != e.mntns)) return std::nullopt;
  return ns;
}

std::vector<Binding> bind_now(const Policy& pol) {
  std::vector<Binding> out;
  const NetnsInode host_ns = netns::host_netns_inode();
  // Host: only the names some rule may govern are read. Namespaced ones are
  // the host's namespaces': read from there when we run in our own (a
  // container, `unshare -n`, `ip netns exec`), so what is read is what the
  // drift's `netns` names. Where the host's netns cannot be entered, its
  // net.* values are ours, labelled with our netns: never the host's inode
  // on another namespace's value.
  netns::SysctlMap host_values;
  std::vector<std::string> in_host_ns;
  const uint32_t self_net = ns_inode("/proc/self/ns/net");
  const bool host_net = self_net == host_ns;
  const bool host_ipc = ns_inode("/proc/self/ns/ipc") == kHostIpcInode;
  const bool host_uts = ns_inode("/proc/self/ns/uts") == kHostUtsInode;
  for (const auto& name : netns::list_sysctl_names()) {
    if (!pol.rule_for(name, true, std::nullopt)) continue;
    const SysctlScope s = scope_of(name);
    if ((s == SysctlScope::Net && !host_net) || (s == SysctlScope::Ipc && !host_ipc) ||
        (s == SysctlScope::Uts && !host_uts))
      in_host_ns.push_back(name);
    else
      host_values.emplace(name, netns::read_sysctl_value(name));
  }
  std::set<std::string> own_net;  // host netns out of reach: our values, labelled as ours
  if (!in_host_ns.empty()) {
    if (auto m = read_in_host_namespaces(in_host_ns, host_ns); m) {
      host_values.merge(*m);
    } else {
      spdlog::warn("policy: sysctls of the host's namespaces not checked: {}", m.error().what());
      for (const auto& name : in_host_ns)
        if (scope_of(name) == SysctlScope::Net) {
          host_values.emplace(name, netns::read_sysctl_value(name));
          own_net.insert(name);
        }
    }
  }
  bind_place(pol, host_values, true, host_ns, std::nullopt, out);
  for (auto& b : out)
    if (own_net.count(b.sysctl)) b.netns = self_net;

  bool any_netns_scope = false;
  for (const auto& r : pol.rules()) any_netns_scope |= r.scope.any_netns || r.scope.containers;
  if (!any_netns_scope) return out;
  auto src = netns::make_runtime_source();
  for (const auto& ns : netns::list_netns(*src)) {
    if (ns.host || ns.inode == host_ns) continue;
    std::optional<ContainerInfo> owner;
    if (ns.owner) owner = info_of(*ns.owner);
    bool covered = false;
    for (const auto& r : pol.rules()) covered |= r.scope.covers_netns(owner);
    if (!covered) continue;
    auto fd = netns::open_listed_netns(ns);
    if (!fd) {
      spdlog::warn("policy: netns {}: {}", ns.inode, fd.error().what());
      continue;
    }
    auto values = netns::read_net_sysctls_in(fd->get());
    if (!values) {
      spdlog::warn("policy: netns {}: {}", ns.inode, values.error().what());
      continue;
    }
    bind_place(pol, *values, false, ns.inode, owner, out);
  }
  return out;
}

Event drift_event(const Binding& b, uint64_t time_ns) {
  Event e(SysctlDrift{.sysctl = b.sysctl,
                      .expected = b.rule->expected,
                      .value = b.value,
                      .policy = b.rule->where(),
                      .cause = "check",
                      .missing = b.missing});
  e.time_ns = time_ns;
  e.netns = b.netns;
  e.container = b.owner;
  e.netns_container = b.owner;
  return e;
}

std::vector<Event> Monitor::judge(const Event& e) {
  std::vector<Event> out;
  if (const auto* w = e.get_if<SysctlWrite>()) {
    const SysctlScope s = scope_of(w->sysctl);
    std::optional<uint32_t> wns;
    if (writer_ns_ && (s == SysctlScope::Ipc || s == SysctlScope::Uts)) wns = writer_ns_(e);
    const Place place = place_of(e, host_netns_, wns);
    // A container's own IPC/UTS namespace: no scope governs it.
    if (place == Place::Private) return out;
    const bool host = place == Place::Host;
    const Rule* r = pol_.rule_for(w->sysctl, host, host ? std::nullopt : e.netns_container);
    if (!r || w->value_truncated) return out;
    // A failed write changed nothing, unless the handler stored part of it
    // first (a vector refused at its second element: `stored`).
    const bool failed = !w->denied && w->result.failed();
    if (failed && w->stored.empty()) return out;
    const std::string& held = w->denied || w->stored.empty() ? w->value : w->stored;
    const bool old_ok = !w->old_truncated && value_satisfies(*r, w->old_value);
    const bool new_ok = value_satisfies(*r, held);
    // A refused write changes nothing but is reported: someone tried.
    const bool moved =
        !new_ok && (w->denied || normalize_value(w->old_value) != normalize_value(held));
    if (!moved && !(new_ok && !old_ok && !w->denied)) return out;
    Event d(SysctlDrift{.sysctl = w->sysctl,
                        .expected = r->expected,
                        .value = held,
                        .policy = r->where(),
                        .cause = "write",
                        .old_value = w->old_value,
                        .resolved = new_ok,
                        .denied = w->denied,
                        .would_deny = w->would_deny});
    copy_actor(e, d);
    out.push_back(std::move(d));
    return out;
  }
  if (const auto* b = e.get_if<NetnsCreate>(); b && b->defaults) {
    // At birth the owner is often not known yet: container-matched scopes
    // apply when it is (docs/policy.md).
    const auto& owner = e.netns_container ? e.netns_container : e.container;
    for (const auto& [name, value] : *b->defaults) {
      const Rule* r = pol_.rule_for(name, false, owner);
      if (!r) continue;
      Binding bd{r, name, value, false, false, e.netns, owner};
      if (on_binding_) on_binding_(bd);
      if (bd.satisfied()) continue;
      Event d = drift_event(bd, e.time_ns);
      d.as<SysctlDrift>().cause = "netns_create";
      d.boot_ns = e.boot_ns;
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace sysctlscope::policy
