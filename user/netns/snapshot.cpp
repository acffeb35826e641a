// SPDX-License-Identifier: Apache-2.0
#include "netns/snapshot.hpp"

#include <bpf/btf.h>
#include <linux/types.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope::netns {

namespace {

// Skips typedef/const/volatile/restrict to the underlying type.
const btf_type* resolve(const struct btf* b, uint32_t id, uint32_t* out_id = nullptr) {
  const btf_type* t = btf__type_by_id(b, id);
  while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t))) {
    id = t->type;
    t = btf__type_by_id(b, id);
  }
  if (out_id) *out_id = id;
  return t;
}

// Finds member `name` of struct/union `sid`, descending into anonymous members.
bool find_member(const struct btf* b, uint32_t sid, const std::string& name, uint32_t* off_bytes,
                 uint32_t* type_id) {
  const btf_type* t = resolve(b, sid, &sid);
  if (!t || !(btf_is_struct(t) || btf_is_union(t))) return false;
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
    uint32_t bit = btf_member_bit_offset(t, i);
    if (btf_member_bitfield_size(t, i) || bit % 8) continue;  // no bitfield sysctls
    const char* n = btf__name_by_offset(b, m->name_off);
    if (n && *n) {
      if (name == n) {
        *off_bytes = bit / 8;
        *type_id = m->type;
        return true;
      }
    } else {
      uint32_t inner_off, inner_type;
      if (find_member(b, m->type, name, &inner_off, &inner_type)) {
        *off_bytes = bit / 8 + inner_off;
        *type_id = inner_type;
        return true;
      }
    }
  }
  return false;
}

// Follows "a.b.c" from struct `sid`.
bool find_path(const struct btf* b, uint32_t sid, const std::vector<std::string>& path,
               uint32_t* off, uint32_t* type_id) {
  uint32_t total = 0, cur = sid;
  for (const auto& p : path) {
    uint32_t o, t;
    if (!find_member(b, cur, p, &o, &t)) return false;
    total += o;
    cur = t;
  }
  *off = total;
  *type_id = cur;
  return true;
}

// Integer (or array of integers) -> FieldLoc.
std::optional<FieldLoc> int_loc(const struct btf* b, int part, uint32_t off, uint32_t type_id) {
  FieldLoc l;
  l.part = part;
  l.offset = off;
  const btf_type* t = resolve(b, type_id, &type_id);
  if (t && btf_is_array(t)) {
    const struct btf_array* a = btf_array(t);
    l.count = a->nelems;
    t = resolve(b, a->type, &type_id);
    const char* n = t && btf_is_int(t) ? btf__name_by_offset(b, t->name_off) : nullptr;
    if (n && std::string_view(n) == "char") {  // a string, printed up to its NUL
      l.elem_size = 1;
      l.is_signed = false;
      l.kind = FieldLoc::Kind::CString;
      return l;
    }
  }
  if (!t) return std::nullopt;
  if (btf_is_enum(t)) {
    l.elem_size = t->size;
    l.is_signed = true;
  } else if (btf_is_int(t)) {
    l.elem_size = t->size;
    l.is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
  } else if (btf_is_struct(t) && btf_vlen(t) == 1) {
    // Wrapper structs such as kgid_t { gid_t val; } hold one integer.
    uint32_t o, inner;
    const char* n = btf__name_by_offset(b, btf_members(t)->name_off);
    if (!n || !find_member(b, type_id, n, &o, &inner)) return std::nullopt;
    auto x = int_loc(b, part, off + o, inner);
    if (!x || x->count != 1) return std::nullopt;
    x->count = l.count;
    return x;
  } else {
    return std::nullopt;
  }
  if (l.elem_size != 1 && l.elem_size != 2 && l.elem_size != 4 && l.elem_size != 8)
    return std::nullopt;
  if (l.count == 0 || l.count > 64) return std::nullopt;
  return l;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t pos;
    long long v = std::stoll(s, &pos, 10);
    if (pos != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The value of enumerator `name` in any enum of the kernel's BTF.
std::optional<int64_t> enum_value(const struct btf* b, const std::string& name) {
  for (uint32_t id = 1; id < btf__type_cnt(b); ++id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!btf_is_enum(t)) continue;
    const struct btf_enum* e = btf_enum(t);
    for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e)
      if (name == btf__name_by_offset(b, e->name_off)) return e->val;
  }
  return std::nullopt;
}

// Element `idx` of an array location.
std::optional<FieldLoc> element(std::optional<FieldLoc> l, std::optional<int64_t> idx) {
  if (!l || !idx || *idx < 0 || static_cast<uint64_t>(*idx) >= l->count) return std::nullopt;
  l->offset += static_cast<uint32_t>(*idx) * l->elem_size;
  l->count = 1;
  return l;
}

struct Global {
  const char* name;
  const char* reason;
};
// Read by a fresh netns from one kernel variable: the host's value.
const Global kGlobal[] = {
    {"net.core.rmem_default",
     "sysctl_rmem_default, one variable for all namespaces (net/core/sock.c)"},
    {"net.core.rmem_max", "sysctl_rmem_max, one variable for all namespaces (net/core/sock.c)"},
    {"net.core.wmem_default",
     "sysctl_wmem_default, one variable for all namespaces (net/core/sock.c)"},
    {"net.core.wmem_max", "sysctl_wmem_max, one variable for all namespaces (net/core/sock.c)"},
    {"net.ipv4.tcp_available_congestion_control",
     "the registered congestion controls (tcp_get_available_congestion_control, "
     "net/ipv4/tcp_cong.c)"},
    {"net.ipv4.tcp_allowed_congestion_control",
     "TCP_CONG_NON_RESTRICTED of each registered algorithm (net/ipv4/tcp_cong.c)"},
    {"net.netfilter.nf_conntrack_max",
     "nf_conntrack_max, read-only outside init_net (net/netfilter/nf_conntrack_standalone.c)"},
    {"net.netfilter.nf_conntrack_buckets",
     "nf_conntrack_htable_size (net/netfilter/nf_conntrack_standalone.c)"},
    {"net.netfilter.nf_conntrack_expect_max",
     "nf_ct_expect_max, read-only outside init_net (net/netfilter/nf_conntrack_standalone.c)"},
    {"net.netfilter.nf_hooks_lwtunnel",
     "the nf_hooks_lwtunnel_enabled static key (net/netfilter/nf_hooks_lwtunnel.c)"},
    {"net.mptcp.available_path_managers", "the registered path managers (net/mptcp/ctrl.c)"},
    {"net.mptcp.available_schedulers", "the registered schedulers (net/mptcp/ctrl.c)"},
};

struct Why {
  const char* prefix;  // a name or a name prefix ending in '.' or '_'
  const char* reason;
};
// Per-netns values the snapshot does not hold, and why.
const Why kUnmappedWhy[] = {
    {"net.ipv4.ip_local_reserved_ports",
     "no net->ipv4.sysctl_local_reserved_ports in this kernel's BTF"},
    {"net.mptcp.",
     "struct mptcp_pernet (net_generic slot mptcp_pernet_id) was not found in BTF, "
     "or no net_generic slot of the calibration netns held its values"},
    {"net.bridge.",
     "no net_generic slot of the calibration netns held struct brnf_net (module br_netfilter) "
     "with its values"},
    {"net.netfilter.nf_conntrack_count",
     "neither net->ct.count (before 5.13) nor struct nf_conntrack_net (module nf_conntrack) "
     "was found in BTF"},
    {"net.netfilter.nf_conntrack_frag6_",
     "neither net->nf_frag.fqdir (before 5.16) nor struct nft_ct_frag6_pernet "
     "(net_generic slot nf_frag_pernet_id, module nf_defrag_ipv6) was found in BTF, "
     "or no net_generic slot of the calibration netns pointed to its fqdir"},
};

// net.bridge.<name> -> struct brnf_net member (net/bridge/br_netfilter_hooks.c
// brnf_table), and the member's offset where no BTF types the structure
// (5.10: its modules carry no BTF). The layout is the kernel source's, the
// same from 5.3 (when brnf_net appeared) to 6.18 on LP64: { bool enabled;
// struct ctl_table_header *ctl_hdr; int call_iptables, call_ip6tables,
// call_arptables, filter_vlan_tagged, filter_pppoe_tagged, pass_vlan_indev; }.
// It is only a hypothesis: calibration accepts it only if exactly one slot
// prints every name as /proc did.
struct BridgeNf {
  const char* member;
  uint32_t offset;
};
const std::map<std::string, BridgeNf> kBridgeNf = {
    {"bridge-nf-call-iptables", {"call_iptables", 16}},
    {"bridge-nf-call-ip6tables", {"call_ip6tables", 20}},
    {"bridge-nf-call-arptables", {"call_arptables", 24}},
    {"bridge-nf-filter-vlan-tagged", {"filter_vlan_tagged", 28}},
    {"bridge-nf-filter-pppoe-tagged", {"filter_pppoe_tagged", 32}},
    {"bridge-nf-pass-vlan-input-dev", {"pass_vlan_indev", 36}},
};

// neigh.<dev>.<name> -> NEIGH_VAR_<value> (net/core/neighbour.c neigh_sysctl_template).
const std::map<std::string, std::string> kNeighVars = {
    {"mcast_solicit", "MCAST_PROBES"},
    {"ucast_solicit", "UCAST_PROBES"},
    {"app_solicit", "APP_PROBES"},
    {"mcast_resolicit", "MCAST_REPROBES"},
    {"retrans_time", "RETRANS_TIME"},
    {"retrans_time_ms", "RETRANS_TIME"},
    {"base_reachable_time", "BASE_REACHABLE_TIME"},
    {"base_reachable_time_ms", "BASE_REACHABLE_TIME"},
    {"delay_first_probe_time", "DELAY_PROBE_TIME"},
    {"interval_probe_time_ms", "INTERVAL_PROBE_TIME_MS"},
    {"gc_stale_time", "GC_STALETIME"},
    {"unres_qlen_bytes", "QUEUE_LEN_BYTES"},
    {"unres_qlen", "QUEUE_LEN_BYTES"},
    {"proxy_qlen", "PROXY_QLEN"},
    {"anycast_delay", "ANYCAST_DELAY"},
    {"proxy_delay", "PROXY_DELAY"},
    {"locktime", "LOCKTIME"},
};

// Sysctls whose storage is not named after them. From the ctl_table .data of
// net/ipv4/sysctl_net_ipv4.c, net/ipv4/route.c, net/ipv6/sysctl_net_ipv6.c,
// net/ipv6/route.c, net/ipv6/icmp.c, net/xfrm/xfrm_sysctl.c and the
// DEVINET_SYSCTL_* / addrconf_sysctl tables. Each path (below struct net) is
// still resolved in the running kernel's BTF (a kernel without the member
// leaves the name unmapped) and calibration still checks every value against
// /proc, so a stale entry cannot produce a wrong value.
const std::map<std::string, std::vector<std::string>> kNetAliases = {
    {"net.ipv4.tcp_max_syn_backlog", {"ipv4.sysctl_max_syn_backlog"}},
    {"net.ipv4.tcp_max_tw_buckets", {"ipv4.tcp_death_row.sysctl_max_tw_buckets"}},
    {"net.ipv4.tcp_no_metrics_save", {"ipv4.sysctl_tcp_nometrics_save"}},
    {"net.ipv4.igmp_link_local_mcast_reports", {"ipv4.sysctl_igmp_llm_reports"}},
    {"net.ipv4.ip_forward_update_priority", {"ipv4.sysctl_ip_fwd_update_priority"}},
    {"net.ipv4.ip_forward_use_pmtu", {"ipv4.sysctl_ip_fwd_use_pmtu"}},
    {"net.ipv4.ip_unprivileged_port_start", {"ipv4.sysctl_ip_prot_sock"}},
    {"net.ipv4.tcp_fastopen_blackhole_timeout_sec", {"ipv4.sysctl_tcp_fastopen_blackhole_timeout"}},
    {"net.ipv4.route.min_pmtu", {"ipv4.ip_rt_min_pmtu"}},
    {"net.ipv4.route.mtu_expires", {"ipv4.ip_rt_mtu_expires"}},
    {"net.ipv4.route.min_adv_mss", {"ipv4.ip_rt_min_advmss"}},
    {"net.ipv4.xfrm4_gc_thresh", {"xfrm.xfrm4_dst_ops.gc_thresh"}},
    {"net.ipv6.xfrm6_gc_thresh", {"xfrm.xfrm6_dst_ops.gc_thresh"}},
    {"net.core.xfrm_aevent_etime", {"xfrm.sysctl_aevent_etime"}},
    {"net.core.xfrm_aevent_rseqth", {"xfrm.sysctl_aevent_rseqth"}},
    {"net.core.xfrm_larval_drop", {"xfrm.sysctl_larval_drop"}},
    {"net.core.xfrm_acq_expires", {"xfrm.sysctl_acq_expires"}},
    {"net.ipv6.fib_multipath_hash_fields", {"ipv6.sysctl.multipath_hash_fields"}},
    {"net.ipv6.fib_multipath_hash_policy", {"ipv6.sysctl.multipath_hash_policy"}},
    {"net.ipv6.max_dst_opts_number", {"ipv6.sysctl.max_dst_opts_cnt"}},
    {"net.ipv6.max_hbh_opts_number", {"ipv6.sysctl.max_hbh_opts_cnt"}},
    {"net.ipv6.max_dst_opts_length", {"ipv6.sysctl.max_dst_opts_len"}},
    {"net.ipv6.max_hbh_length", {"ipv6.sysctl.max_hbh_opts_len"}},
    {"net.ipv6.route.gc_min_interval_ms", {"ipv6.sysctl.ip6_rt_gc_min_interval"}},
    {"net.ipv6.route.min_adv_mss", {"ipv6.sysctl.ip6_rt_min_advmss"}},
    {"net.ipv6.route.skip_notify_on_dev_down", {"ipv6.sysctl.skip_notify_on_dev_down"}},
    {"net.ipv6.icmp.ratelimit", {"ipv6.sysctl.icmpv6_time"}},
    {"net.ipv4.fib_multipath_hash_seed", {"ipv4.sysctl_fib_multipath_hash_seed.user_seed"}},
    {"net.ipv6.route.gc_thresh", {"ipv6.ip6_dst_ops.gc_thresh"}},
    // net/netfilter/nf_conntrack_standalone.c nf_ct_sysctl_table
    {"net.netfilter.nf_conntrack_acct", {"ct.sysctl_acct"}},
    {"net.netfilter.nf_conntrack_checksum", {"ct.sysctl_checksum"}},
    {"net.netfilter.nf_conntrack_events", {"ct.sysctl_events"}},
    {"net.netfilter.nf_conntrack_log_invalid", {"ct.sysctl_log_invalid"}},
    {"net.netfilter.nf_conntrack_timestamp", {"ct.sysctl_tstamp"}},
    {"net.netfilter.nf_conntrack_generic_timeout", {"ct.nf_ct_proto.generic.timeout"}},
    {"net.netfilter.nf_conntrack_icmp_timeout", {"ct.nf_ct_proto.icmp.timeout"}},
    {"net.netfilter.nf_conntrack_icmpv6_timeout", {"ct.nf_ct_proto.icmpv6.timeout"}},
    {"net.netfilter.nf_conntrack_tcp_loose", {"ct.nf_ct_proto.tcp.tcp_loose"}},
    {"net.netfilter.nf_conntrack_tcp_be_liberal", {"ct.nf_ct_proto.tcp.tcp_be_liberal"}},
    {"net.netfilter.nf_conntrack_tcp_max_retrans", {"ct.nf_ct_proto.tcp.tcp_max_retrans"}},
    {"net.netfilter.nf_conntrack_tcp_ignore_invalid_rst",
     {"ct.nf_ct_proto.tcp.tcp_ignore_invalid_rst"}},
    {"net.netfilter.nf_conntrack_dccp_loose", {"ct.nf_ct_proto.dccp.dccp_loose"}},
    {"net.netfilter.nf_conntrack_helper", {"ct.sysctl_auto_assign_helper"}},  // before 6.0
    {"net.netfilter.nf_flowtable_tcp_timeout", {"ct.nf_ct_proto.tcp.offload_timeout"}},
    {"net.netfilter.nf_flowtable_udp_timeout", {"ct.nf_ct_proto.udp.offload_timeout"}},
};
// net.netfilter.nf_conntrack_<proto>_timeout[_<state>] -> an element of
// ct.nf_ct_proto.<proto>.timeouts[] indexed by the named enumerator.
struct CtTimeout {
  const char* proto;
  const char* enum_prefix;
  const char* array = "timeouts";
};
const std::map<std::string, CtTimeout> kCtTimeoutProtos = {
    {"tcp", {"tcp", "TCP_CONNTRACK_"}},
    {"sctp", {"sctp", "SCTP_CONNTRACK_"}},
    {"dccp", {"dccp", "CT_DCCP_", "dccp_timeout"}},  // before 6.16
};
const std::map<std::string, std::pair<std::string, std::string>> kCtTimeoutSpecial = {
    {"net.netfilter.nf_conntrack_tcp_timeout_max_retrans", {"tcp", "TCP_CONNTRACK_RETRANS"}},
    {"net.netfilter.nf_conntrack_tcp_timeout_unacknowledged", {"tcp", "TCP_CONNTRACK_UNACK"}},
    {"net.netfilter.nf_conntrack_udp_timeout", {"udp", "UDP_CT_UNREPLIED"}},
    {"net.netfilter.nf_conntrack_udp_timeout_stream", {"udp", "UDP_CT_REPLIED"}},
    {"net.netfilter.nf_conntrack_gre_timeout", {"gre", "GRE_CT_UNREPLIED"}},
    {"net.netfilter.nf_conntrack_gre_timeout_stream", {"gre", "GRE_CT_REPLIED"}},
};
// conf.{all,default}.<name> -> IPV4_DEVCONF_<value> (include/uapi/linux/ip.h).
const std::map<std::string, std::string> kDevconf4Aliases = {{"arp_filter", "ARPFILTER"},
                                                             {"disable_policy", "NOPOLICY"},
                                                             {"disable_xfrm", "NOXFRM"},
                                                             {"src_valid_mark", "SRC_VMARK"}};
// conf.{all,default}.<name> -> struct ipv6_devconf member (net/ipv6/addrconf.c).
const std::map<std::string, std::string> kDevconf6Aliases = {
    {"mtu", "mtu6"},
    {"router_solicitations", "rtr_solicits"},
    {"router_solicitation_interval", "rtr_solicit_interval"},
    {"router_solicitation_max_interval", "rtr_solicit_max_interval"},
    {"router_solicitation_delay", "rtr_solicit_delay"},
    {"router_probe_interval", "rtr_probe_interval"}};

}  // namespace

const char* global_sysctl_reason(const std::string& dotted) {
  for (const auto& g : kGlobal)
    if (dotted == g.name) return g.reason;
  return nullptr;
}

const char* unmapped_reason(const std::string& dotted) {
  for (const auto& w : kUnmappedWhy) {
    std::string_view p = w.prefix;
    bool prefix = p.back() == '.' || p.back() == '_';
    if (prefix ? dotted.rfind(p, 0) == 0 : dotted == p) return w.reason;
  }
  return nullptr;
}

BtfLocator::BtfLocator(const std::string& file) : own_vmlinux_(file.empty()) {
  btf_ = file.empty() ? btf__load_vmlinux_btf() : btf__parse(file.c_str(), nullptr);
  if (!btf_) throw Error("load kernel BTF", file.empty() ? "/sys/kernel/btf/vmlinux" : file, errno);
}

BtfLocator::~BtfLocator() {
  for (auto* m : modules_) btf__free(m);
  btf__free(btf_);
}

std::pair<const struct btf*, int> BtfLocator::find_struct(const std::string& name) const {
  int id = btf__find_by_name_kind(btf_, name.c_str(), BTF_KIND_STRUCT);
  if (id >= 0) return {btf_, id};
  if (!modules_loaded_) {
    modules_loaded_ = true;
    // Module BTF is split BTF on top of vmlinux's (kernels 5.11+); with
    // --btf FILE there is none to match it.
    if (own_vmlinux_) {
      Dir d("/sys/kernel/btf");
      while (dirent* e = d.next()) {
        std::string n = e->d_name;
        if (n == "." || n == ".." || n == "vmlinux") continue;
        if (struct btf* m = btf__parse_split(("/sys/kernel/btf/" + n).c_str(), btf_))
          modules_.push_back(m);
      }
    }
  }
  for (const auto* m : modules_) {
    id = btf__find_by_name_kind(m, name.c_str(), BTF_KIND_STRUCT);
    if (id >= 0) return {m, id};
  }
  return {nullptr, -1};
}

std::optional<FieldLoc> BtfLocator::locate(const std::string& dotted) const {
  auto parts = split(dotted, '.');
  if (parts.size() < 3 || parts[0] != "net") return std::nullopt;
  const std::string& sub = parts[1];
  int net_id = btf__find_by_name_kind(btf_, "net", BTF_KIND_STRUCT);
  if (net_id < 0) return std::nullopt;
  uint32_t off, type;
  auto in_net = [&](std::vector<std::string> path) -> std::optional<FieldLoc> {
    if (!find_path(btf_, static_cast<uint32_t>(net_id), path, &off, &type)) return std::nullopt;
    return int_loc(btf_, SS_SNAP_NET, off, type);
  };
  // A member path of another struct, copied into `part` at `base`.
  auto in_struct = [&](const char* sname, std::vector<std::string> path, int part,
                       uint32_t base = 0) -> std::optional<FieldLoc> {
    auto [b, sid] = find_struct(sname);
    if (sid < 0 || !find_path(b, static_cast<uint32_t>(sid), path, &off, &type))
      return std::nullopt;
    return int_loc(b, part, base + off, type);
  };
  // A member of a structure behind net_generic(): its slot is calibrated.
  // `deref`: a member of struct `sname`, reached through the pointer the
  // BPF side follows (nft_ct_frag6_pernet.fqdir).
  auto in_generic = [&](const char* gen, const char* sname, const std::string& member,
                        bool deref) -> std::optional<FieldLoc> {
    if (find_struct(gen).second < 0) return std::nullopt;
    auto l = in_struct(sname, {member}, SS_SNAP_GEN);
    const uint32_t room = deref ? SS_GEN_DEREF : SS_GEN_HEAD;
    if (!l || l->offset + l->elem_size * l->count > room) return std::nullopt;
    l->gen_struct = gen;
    l->gen_deref = deref;
    return l;
  };
  if (sub == "mptcp" && parts.size() == 3)
    return in_generic("mptcp_pernet", "mptcp_pernet",
                      parts[2] == "enabled" ? "mptcp_enabled" : parts[2], false);
  if (sub == "bridge" && parts.size() == 3) {
    auto m = kBridgeNf.find(parts[2]);
    if (m == kBridgeNf.end()) return std::nullopt;
    if (find_struct("brnf_net").second >= 0)
      return in_generic("brnf_net", "brnf_net", m->second.member, false);
    FieldLoc l{SS_SNAP_GEN, m->second.offset, 4, 1, true, FieldLoc::Kind::Int, 0};
    l.gen_struct = "brnf_net";
    return l;
  }
  if (dotted == "net.netfilter.nf_conntrack_count") {
    // A count of this namespace's tracked connections: none can exist
    // before the creating syscall returns (nf_conntrack_pernet_init).
    if (auto l = in_net({"ct", "count"})) return l;  // before 5.13: a field of struct net
    uint32_t o, t;
    auto [b, sid] = find_struct("nf_conntrack_net");
    if (sid < 0 || !find_member(b, static_cast<uint32_t>(sid), "count", &o, &t))
      return std::nullopt;
    FieldLoc l;
    l.kind = FieldLoc::Kind::ZeroAtBirth;
    return l;
  }
  if (sub == "netfilter" && parts.size() == 3 && parts[2].rfind("nf_conntrack_frag6_", 0) == 0) {
    static const std::map<std::string, std::string> m = {
        {"nf_conntrack_frag6_high_thresh", "high_thresh"},
        {"nf_conntrack_frag6_low_thresh", "low_thresh"},
        {"nf_conntrack_frag6_timeout", "timeout"}};
    auto it = m.find(parts[2]);
    if (it == m.end()) return std::nullopt;
    if (find_path(btf_, static_cast<uint32_t>(net_id), {"nf_frag", "fqdir"}, &off,
                  &type))  // before 5.16
      return in_struct("fqdir", {it->second}, SS_SNAP_FQDIR6NF);
    return in_generic("nft_ct_frag6_pernet", "fqdir", it->second, true);
  }
  if (dotted == "net.ipv4.ip_local_reserved_ports") {
    if (!find_path(btf_, static_cast<uint32_t>(net_id), {"ipv4", "sysctl_local_reserved_ports"},
                   &off, &type))
      return std::nullopt;
    // Allocated zeroed by ipv4_sysctl_init_net: empty at every birth (8 KiB
    // a record would carry for nothing; checked against the calibration netns).
    FieldLoc l;
    l.kind = FieldLoc::Kind::EmptyAtBirth;
    return l;
  }
  // A pointer member: its 8 bytes as an unsigned integer.
  auto pointer_in_net = [&](std::vector<std::string> path,
                            FieldLoc::Kind kind) -> std::optional<FieldLoc> {
    if (!find_path(btf_, static_cast<uint32_t>(net_id), path, &off, &type)) return std::nullopt;
    const btf_type* t = resolve(btf_, type);
    FieldLoc l;
    l.part = SS_SNAP_NET;
    l.offset = off;
    if (t && btf_is_array(t)) {
      // an array of pointers: the caller picks the element
      l.count = btf_array(t)->nelems;
      t = resolve(btf_, btf_array(t)->type);
    }
    if (!t || !btf_is_ptr(t)) return std::nullopt;
    l.elem_size = 8;
    l.is_signed = false;
    l.kind = kind;
    return l;
  };
  if (auto a = kNetAliases.find(dotted); a != kNetAliases.end()) {
    for (const auto& path : a->second)
      if (auto l = in_net(split(path, '.'))) return l;
    return std::nullopt;
  }
  if (sub == "netfilter") {
    if (auto sp = kCtTimeoutSpecial.find(dotted); sp != kCtTimeoutSpecial.end())
      return element(in_net({"ct", "nf_ct_proto", sp->second.first, "timeouts"}),
                     enum_value(btf_, sp->second.second));
    const std::string pre = "nf_conntrack_";
    const std::string& x = parts[2];
    if (parts.size() == 3 && x.rfind(pre, 0) == 0) {
      auto rest = x.substr(pre.size());  // tcp_timeout_syn_sent
      auto us = rest.find("_timeout_");
      if (us != std::string::npos)
        if (auto p = kCtTimeoutProtos.find(rest.substr(0, us)); p != kCtTimeoutProtos.end())
          return element(in_net({"ct", "nf_ct_proto", p->second.proto, p->second.array}),
                         enum_value(btf_, p->second.enum_prefix + upper(rest.substr(us + 9))));
    }
    if (parts.size() == 4 && x == "nf_log") {  // nf_log.<NFPROTO>
      auto idx = parse_int(parts[3]);
      return element(pointer_in_net({"nf", "nf_loggers"}, FieldLoc::Kind::StaticPointer), idx);
    }
    return std::nullopt;
  }
  // conf.lo.* and neigh.lo.*: the loopback device's in_device / inet6_dev.
  if ((sub == "ipv4" || sub == "ipv6") && parts.size() == 5 && parts[2] == "neigh" &&
      parts[3] == "lo") {
    auto v = kNeighVars.find(parts[4]);
    if (v == kNeighVars.end()) return std::nullopt;
    auto l = element(
        in_struct("neigh_parms", {"data"}, sub == "ipv4" ? SS_SNAP_NEIGH4_LO : SS_SNAP_NEIGH6_LO),
        enum_value(btf_, "NEIGH_VAR_" + v->second));
    if (l && parts[4] == "unres_qlen") {
      // QUEUE_LEN_BYTES / SKB_TRUESIZE(ETH_FRAME_LEN) (neigh_proc_dointvec_unres_qlen):
      // ETH_FRAME_LEN + SKB_DATA_ALIGN(sk_buff) + SKB_DATA_ALIGN(skb_shared_info),
      // SMP_CACHE_BYTES = 64 on x86_64 and arm64; calibration checks the quotient.
      int skb = btf__find_by_name_kind(btf_, "sk_buff", BTF_KIND_STRUCT);
      int shi = btf__find_by_name_kind(btf_, "skb_shared_info", BTF_KIND_STRUCT);
      if (skb < 0 || shi < 0) return std::nullopt;
      auto align = [](int64_t n) { return (n + 63) & ~int64_t{63}; };
      l->div =
          static_cast<uint32_t>(1514 + align(btf__resolve_size(btf_, static_cast<uint32_t>(skb))) +
                                align(btf__resolve_size(btf_, static_cast<uint32_t>(shi))));
      l->kind = FieldLoc::Kind::QlenBytes;
    }
    return l;
  }
  if (sub == "ipv4" && parts.size() == 3 &&
      (parts[2] == "ipfrag_high_thresh" || parts[2] == "ipfrag_low_thresh" ||
       parts[2] == "ipfrag_time" || parts[2] == "ipfrag_max_dist")) {
    static const std::map<std::string, std::string> m = {{"ipfrag_high_thresh", "high_thresh"},
                                                         {"ipfrag_low_thresh", "low_thresh"},
                                                         {"ipfrag_time", "timeout"},
                                                         {"ipfrag_max_dist", "max_dist"}};
    return in_struct("fqdir", {m.at(parts[2])}, SS_SNAP_FQDIR4);
  }
  if (sub == "ipv6" && parts.size() == 3 &&
      (parts[2] == "ip6frag_high_thresh" || parts[2] == "ip6frag_low_thresh" ||
       parts[2] == "ip6frag_time")) {
    static const std::map<std::string, std::string> m = {{"ip6frag_high_thresh", "high_thresh"},
                                                         {"ip6frag_low_thresh", "low_thresh"},
                                                         {"ip6frag_time", "timeout"}};
    return in_struct("fqdir", {m.at(parts[2])}, SS_SNAP_FQDIR6);
  }
  if (dotted == "net.ipv4.tcp_ehash_entries" || dotted == "net.ipv4.udp_hash_entries") {
    bool tcp = dotted == "net.ipv4.tcp_ehash_entries";
    auto l = tcp ? in_struct("inet_hashinfo", {"ehash_mask"}, SS_SNAP_TCP_HASH, 8)
                 : in_struct("udp_table", {"mask"}, SS_SNAP_UDP_TABLE, 8);
    if (l && l->count == 1) l->kind = FieldLoc::Kind::HashEntries;
    return l && l->count == 1 ? l : std::nullopt;
  }
  if (dotted == "net.ipv4.tcp_fastopen_key")
    return pointer_in_net({"ipv4", "tcp_fastopen_ctx"}, FieldLoc::Kind::NullPointer);
  if (dotted == "net.core.rps_default_mask")
    return pointer_in_net({"core", "rps_default_mask"}, FieldLoc::Kind::NullPointer);
  if (dotted == "net.ipv6.icmp.ratemask") {
    auto l = in_net({"ipv6", "sysctl", "icmpv6_ratemask"});
    if (l && l->elem_size == 8 && !l->is_signed) l->kind = FieldLoc::Kind::BitmapList;
    return l && l->kind == FieldLoc::Kind::BitmapList ? l : std::nullopt;
  }
  if (sub == "ipv4" && parts.size() == 3) {
    const std::string& x = parts[2];
    if (x == "tcp_congestion_control") {
      FieldLoc l;
      l.part = SS_SNAP_CC_NAME;
      l.kind = FieldLoc::Kind::CongestionControl;
      return l;
    }
    if (x == "ip_forward") return locate("net.ipv4.conf.all.forwarding");  // the same storage
    if (x == "ip_local_port_range") {
      // 6.3+: u32 range = high << 16 | low; before: int range[2].
      auto l = in_net({"ipv4", "ip_local_ports", "range"});
      if (l && l->count == 1 && l->elem_size == 4) l->kind = FieldLoc::Kind::PortRange16;
      return l;
    }
    if (x == "ping_group_range") {
      auto l = in_net({"ipv4", "ping_group_range", "range"});
      if (l && l->count == 2) l->kind = FieldLoc::Kind::PairU32;
      return l;
    }
    if (auto l = in_net({"ipv4", "sysctl_" + x})) return l;
    return in_net({"ipv4", x});
  }
  if ((sub == "ipv4" || sub == "ipv6") && parts.size() == 5 && parts[2] == "conf" &&
      (parts[3] == "all" || parts[3] == "default" || parts[3] == "lo")) {
    const int part4 = parts[3] == "all"  ? SS_SNAP_DEVCONF4_ALL
                      : parts[3] == "lo" ? SS_SNAP_DEVCONF4_LO
                                         : SS_SNAP_DEVCONF4_DFLT;
    const int part6 = parts[3] == "all"  ? SS_SNAP_DEVCONF6_ALL
                      : parts[3] == "lo" ? SS_SNAP_DEVCONF6_LO
                                         : SS_SNAP_DEVCONF6_DFLT;
    if (sub == "ipv4") {
      // data[IPV4_DEVCONF_<NAME> - 1] (include/linux/inetdevice.h)
      int dc = btf__find_by_name_kind(btf_, "ipv4_devconf", BTF_KIND_STRUCT);
      if (dc < 0 || !find_member(btf_, static_cast<uint32_t>(dc), "data", &off, &type))
        return std::nullopt;
      auto alias = kDevconf4Aliases.find(parts[4]);
      auto val =
          enum_value(btf_, "IPV4_DEVCONF_" +
                               (alias != kDevconf4Aliases.end() ? alias->second : upper(parts[4])));
      if (!val) return std::nullopt;
      return element(int_loc(btf_, part4, off, type), *val - 1);
    }
    int dc = btf__find_by_name_kind(btf_, "ipv6_devconf", BTF_KIND_STRUCT);
    auto alias = kDevconf6Aliases.find(parts[4]);
    const std::string& member = alias != kDevconf6Aliases.end() ? alias->second : parts[4];
    if (dc < 0 || !find_member(btf_, static_cast<uint32_t>(dc), member, &off, &type))
      return std::nullopt;
    return int_loc(btf_, part6, off, type);
  }
  if (sub == "core" && parts.size() == 3) {
    if (auto l = in_net({"core", "sysctl_" + parts[2]})) return l;
    return in_net({"core", parts[2]});
  }
  if (sub == "ipv6" && parts.size() == 3) {
    if (auto l = in_net({"ipv6", "sysctl", parts[2]})) return l;
    return in_net({"ipv6", "sysctl", "sysctl_" + parts[2]});
  }
  if (sub == "ipv6" && parts.size() == 4 && parts[2] == "route")
    return in_net({"ipv6", "sysctl", "ip6_rt_" + parts[3]});
  if (sub == "ipv6" && parts.size() == 4 && parts[2] == "icmp")
    return in_net({"ipv6", "sysctl", "icmpv6_" + parts[3]});
  if (sub == "unix" && parts.size() == 3) return in_net({"unx", "sysctl_" + parts[2]});
  return std::nullopt;
}

namespace {
// An integer of the record as int64_t. Each type widens itself: `signed ?
// int32_t : uint32_t` would make the conditional unsigned and turn -1 into
// 4294967295.
template <typename U, typename S>
int64_t widen(const uint8_t* p, bool is_signed) {
  U x;
  std::memcpy(&x, p, sizeof x);
  return is_signed ? int64_t{static_cast<S>(x)} : static_cast<int64_t>(x);
}
}  // namespace

std::optional<std::vector<int64_t>> SnapshotDecoder::raw(const ss_netns_create_event& rec,
                                                         const FieldLoc& l) const {
  static constexpr uint32_t kOff[SS_SNAP_PARTS] = {
      SS_SNAP_NET_OFF,       SS_SNAP_DC4_ALL_OFF,   SS_SNAP_DC4_DFLT_OFF, SS_SNAP_DC6_ALL_OFF,
      SS_SNAP_DC6_DFLT_OFF,  SS_SNAP_CC_OFF,        SS_SNAP_DC4_LO_OFF,   SS_SNAP_DC6_LO_OFF,
      SS_SNAP_NEIGH4_LO_OFF, SS_SNAP_NEIGH6_LO_OFF, SS_SNAP_FQDIR4_OFF,   SS_SNAP_FQDIR6_OFF,
      SS_SNAP_TCP_HASH_OFF,  SS_SNAP_UDP_TABLE_OFF, SS_SNAP_GEN_OFF,      SS_SNAP_FQDIR6NF_OFF};
  static_assert(SS_SNAP_PARTS == 16, "a new part needs its offset here");
  uint64_t end = static_cast<uint64_t>(l.offset) + static_cast<uint64_t>(l.elem_size) * l.count;
  if (l.part < 0 || l.part >= SS_SNAP_PARTS || end > rec.part_len[l.part]) return std::nullopt;
  if (l.part == SS_SNAP_GEN) {
    // Only a slot the kernel read: a failed read left zeros, not values.
    if (l.gen_slot < 0 || l.gen_slot >= SS_GEN_SLOTS || rec.part_len[SS_SNAP_GEN] < SS_GEN_MASKS)
      return std::nullopt;
    uint64_t mask;
    std::memcpy(&mask, rec.snap + SS_SNAP_GEN_OFF + (l.gen_deref ? 8 : 0), sizeof(mask));
    if (!((mask >> l.gen_slot) & 1)) return std::nullopt;
  }
  const uint8_t* p = rec.snap + kOff[l.part] + l.offset;
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < l.count; ++i, p += l.elem_size) {
    int64_t v = 0;
    switch (l.elem_size) {
      case 1:
        v = widen<uint8_t, int8_t>(p, l.is_signed);
        break;
      case 2:
        v = widen<uint16_t, int16_t>(p, l.is_signed);
        break;
      case 4:
        v = widen<uint32_t, int32_t>(p, l.is_signed);
        break;
      case 8:
        v = widen<uint64_t, int64_t>(p, true);
        break;
      default:
        return std::nullopt;
    }
    out.push_back(v);
  }
  if (l.kind == FieldLoc::Kind::PortRange16 && out.size() == 1) {
    uint32_t r = static_cast<uint32_t>(out[0]);
    out = {static_cast<int64_t>(r & 0xffff), static_cast<int64_t>(r >> 16)};
  }
  return out;
}

namespace {
int64_t convert(int64_t raw, Unit u, unsigned hz) {
  // The inverse of what the handlers print: jiffies_to_clock_t etc.
  switch (u) {
    case Unit::Jiffies:
      return raw / static_cast<int64_t>(hz);
    case Unit::MsJiffies:
      return raw * 1000 / static_cast<int64_t>(hz);
    case Unit::UserHzJiffies:
      return raw * 100 / static_cast<int64_t>(hz);
    default:
      return raw;
  }
}
}  // namespace

namespace {
// "0-1,3-127" (bitmap_print_list_to_buf / proc_do_large_bitmap's format).
std::string bitmap_list(const std::vector<int64_t>& words) {
  std::string s;
  const size_t bits = words.size() * 64;
  auto bit = [&](size_t i) { return (static_cast<uint64_t>(words[i / 64]) >> (i % 64)) & 1; };
  for (size_t i = 0; i < bits;) {
    if (!bit(i)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < bits && bit(j + 1)) ++j;
    if (!s.empty()) s.push_back(',');
    s += std::to_string(i);
    if (j > i) s += "-" + std::to_string(j);
    i = j + 1;
  }
  return s;
}
}  // namespace

std::optional<std::string> SnapshotDecoder::format(const ss_netns_create_event& rec,
                                                   const Mapping& m) const {
  using K = FieldLoc::Kind;
  if (m.loc.kind == K::ZeroAtBirth || m.loc.kind == K::EmptyAtBirth) {
    // Known at birth only: a writer's exit snapshot does not hold them.
    if (rec.hdr.type != SS_EV_NETNS_CREATE) return std::nullopt;
    return m.loc.kind == K::ZeroAtBirth ? "0" : "";
  }
  if (m.loc.kind == K::CString) {
    FieldLoc bytes = m.loc;
    bytes.kind = K::Int;
    auto r = raw(rec, bytes);
    if (!r) return std::nullopt;
    std::string s;
    for (int64_t c : *r) {
      if (c == 0) return s;
      s.push_back(static_cast<char>(c));
    }
    return std::nullopt;  // no NUL: cut, not the whole value
  }
  if (m.loc.kind == K::CongestionControl) {
    uint32_t n = rec.part_len[SS_SNAP_CC_NAME];
    if (n == 0 || n >= SS_SNAP_CC_MAX) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(rec.snap + SS_SNAP_CC_OFF), n);
  }
  auto r = raw(rec, m.loc);
  if (!r) return std::nullopt;
  switch (m.loc.kind) {
    case K::NullPointer:
    case K::StaticPointer: {
      auto it = m.ptr_text.find(static_cast<uint64_t>((*r)[0]));
      if (it == m.ptr_text.end()) return std::nullopt;  // a pointer calibration never saw
      return it->second;
    }
    case K::HashEntries: {
      FieldLoc addr{m.loc.part, 0, 8, 1, false, K::Int, 0};
      auto a = raw(rec, addr);
      if (!a || !m.shared_addr) return std::nullopt;
      // proc_tcp_ehash_entries / proc_udp_hash_entries: negative when the
      // netns shares the host's table, positive for a table of its own.
      int64_t n = (*r)[0] + 1;
      return std::to_string(static_cast<uint64_t>((*a)[0]) == *m.shared_addr ? -n : n);
    }
    case K::BitmapList:
      return bitmap_list(*r);
    case K::QlenBytes:
      if (!m.loc.div) return std::nullopt;
      return std::to_string((*r)[0] / static_cast<int64_t>(m.loc.div));
    default:
      break;
  }
  std::string s;
  for (size_t i = 0; i < r->size(); ++i) {
    if (m.unit == Unit::Unknown && (*r)[i] != 0) return std::nullopt;  // 0 is 0 in every unit
    if (i) s.push_back('\t');
    s += std::to_string(convert((*r)[i], m.unit, hz_));
  }
  return s;
}

std::optional<SnapshotDecoder::Mapping> SnapshotDecoder::learn(const ss_netns_create_event& rec,
                                                               const FieldLoc& loc,
                                                               const std::string& text) const {
  Mapping m{loc, Unit::Plain, {}, std::nullopt};
  using K = FieldLoc::Kind;
  if (loc.kind != K::Int && loc.kind != K::PortRange16 && loc.kind != K::PairU32) {
    // Learned where needed, then the text must come out exactly as /proc printed it.
    auto r = loc.kind == K::ZeroAtBirth || loc.kind == K::EmptyAtBirth || loc.kind == K::CString
                 ? std::nullopt
                 : raw(rec, loc);
    if (r && (loc.kind == K::NullPointer || loc.kind == K::StaticPointer)) {
      uint64_t ptr = static_cast<uint64_t>((*r)[0]);
      // A NULL pointer prints the same in every netns; a non-NULL one only
      // when it points to a static object (a logger), never to a per-netns one.
      if (ptr == 0 || loc.kind == K::StaticPointer) m.ptr_text[ptr] = text;
    }
    if (r && loc.kind == K::HashEntries) {
      FieldLoc addr{loc.part, 0, 8, 1, false, K::Int, 0};
      auto a = raw(rec, addr);
      // Negative in the calibration netns: its address is the shared table.
      if (a && parse_int(text) == -((*r)[0] + 1)) m.shared_addr = static_cast<uint64_t>((*a)[0]);
    }
    if (format(rec, m) == text) return m;
    return std::nullopt;
  }
  auto r = raw(rec, loc);
  auto texts = split(text, '\t');
  if (!r || texts.size() != r->size()) return std::nullopt;
  // The unit must explain every element; all-zero fields stay Unknown.
  std::optional<Unit> unit;
  bool all_zero = true;
  for (size_t i = 0; i < r->size(); ++i) {
    auto p = parse_int(texts[i]);
    if (!p) return std::nullopt;
    if (*p == 0 && (*r)[i] == 0) continue;
    all_zero = false;
    std::optional<Unit> u;
    for (Unit c : {Unit::Plain, Unit::Jiffies, Unit::MsJiffies, Unit::UserHzJiffies}) {
      if (c != Unit::Plain && !hz_) continue;
      if (convert((*r)[i], c, hz_ ? hz_ : 1) == *p) {
        u = c;
        break;
      }
    }
    if (!u || (unit && *unit != *u)) return std::nullopt;
    unit = u;
  }
  m.unit = all_zero ? Unit::Unknown : *unit;
  return m;
}

void SnapshotDecoder::find_generic_slots(const ss_netns_create_event& rec, const SysctlMap& proc,
                                         FieldLocs& locs) {
  std::map<std::string, std::vector<std::string>> groups;  // structure -> its names in /proc
  for (const auto& [name, l] : locs)
    if (!l.gen_struct.empty() && proc.count(name) && !proc.at(name).err)
      groups[l.gen_struct].push_back(name);
  const uint32_t len = rec.part_len[SS_SNAP_GEN];
  const int slots =
      len >= SS_GEN_MASKS ? static_cast<int>((len - SS_GEN_MASKS) / SS_GEN_SLOT_BYTES) : 0;
  // A structure-relative location rebased into slot `slot` of the part.
  auto in_slot = [](FieldLoc l, int slot) {
    l.gen_slot = slot;
    l.offset += SS_GEN_MASKS + static_cast<uint32_t>(slot) * SS_GEN_SLOT_BYTES +
                (l.gen_deref ? SS_GEN_HEAD : 0);
    return l;
  };
  for (const auto& [gen, names] : groups) {
    // A slot matches when every name decodes to /proc's text and at least
    // one of them is not 0 or empty (zeros would match any zeroed slot).
    std::vector<int> hits;
    for (int slot = 0; slot < slots; ++slot) {
      bool all = true, evidence = false;
      for (const auto& n : names) {
        const FieldLoc l = in_slot(locs.at(n), slot);
        auto m = learn(rec, l, proc.at(n).value);
        if (!m) {
          all = false;
          break;
        }
        if (l.kind == FieldLoc::Kind::CString ? !proc.at(n).value.empty()
                                              : m->unit != Unit::Unknown)
          evidence = true;
      }
      if (all && evidence) hits.push_back(slot);
    }
    for (const auto& n : names) {
      if (hits.size() == 1) {
        locs.at(n) = in_slot(locs.at(n), hits[0]);
        continue;
      }
      gen_why_[n] =
          "struct " + gen + " is behind a net_generic() slot whose id no BTF or kallsyms gives; " +
          (hits.empty() ? std::string("no slot") : std::to_string(hits.size()) + " slots") +
          " of the calibration netns held its /proc values" +
          (rec.truncated & (1u << SS_SNAP_GEN)
               ? " (more slots than the " + std::to_string(SS_GEN_SLOTS) + " copied)"
               : "");
      locs.erase(n);
    }
  }
}

void SnapshotDecoder::calibrate(const ss_netns_create_event& rec, const SysctlMap& proc,
                                const FieldLocs& given) {
  mapped_.clear();
  unmapped_.clear();
  global_.clear();
  gen_why_.clear();
  // HZ from a field known to be stored in jiffies and non-zero by default:
  // tcp_keepalive_time (proc_dointvec_jiffies, 7200 s in a fresh netns).
  hz_ = 0;
  if (auto l = given.find("net.ipv4.tcp_keepalive_time");
      l != given.end() && proc.count("net.ipv4.tcp_keepalive_time")) {
    auto r = raw(rec, l->second);
    auto p = parse_int(proc.at("net.ipv4.tcp_keepalive_time").value);
    if (r && p && *p > 0 && (*r)[0] % *p == 0) hz_ = static_cast<unsigned>((*r)[0] / *p);
  }
  FieldLocs locs = given;
  find_generic_slots(rec, proc, locs);
  for (const auto& [name, pv] : proc) {
    if (pv.err) continue;  // unreadable: nothing to compare with
    if (global_sysctl_reason(name)) {
      global_.push_back(name);
      continue;
    }
    auto loc = locs.find(name);
    auto m = loc == locs.end() ? std::nullopt : learn(rec, loc->second, pv.value);
    if (m)
      mapped_.emplace(name, std::move(*m));
    else
      unmapped_.push_back(name);
  }
  calibrated_ = true;
}

std::optional<std::string> SnapshotDecoder::value(const ss_netns_create_event& rec,
                                                  const std::string& dotted) const {
  if ((rec.flags & SS_NETNS_F_CHILD_USERNS) && hidden_child_userns_.count(dotted))
    return std::nullopt;
  auto it = mapped_.find(dotted);
  if (it == mapped_.end()) return std::nullopt;
  return format(rec, it->second);
}

SnapshotDecoder::Result SnapshotDecoder::decode(const ss_netns_create_event& rec) const {
  const bool child_userns = rec.flags & SS_NETNS_F_CHILD_USERNS;
  auto hidden = [&](const std::string& n) {
    return child_userns && hidden_child_userns_.count(n) > 0;
  };
  Result res;
  for (const auto& n : unmapped_)
    if (!hidden(n)) res.unmapped.push_back(n);
  for (const auto& n : global_)
    if (!hidden(n)) res.global.push_back(n);
  for (const auto& [name, m] : mapped_) {
    if (hidden(name)) continue;
    if (auto v = format(rec, m))
      res.defaults.emplace(name, *v);
    else
      res.unmapped.push_back(name);
  }
  std::sort(res.unmapped.begin(), res.unmapped.end());
  for (const auto& n : res.unmapped)
    if (auto g = gen_why_.find(n); g != gen_why_.end())
      res.unmapped_reasons.emplace(n, g->second);
    else if (const char* why = unmapped_reason(n))
      res.unmapped_reasons.emplace(n, why);
  return res;
}

Expected<FreshNetns> probe_fresh_netns(const std::string& btf_file) {
  // Child output: "<inode>\n<n locs>\n" + n lines "name part off size count signed kind div
  // gen_struct|- deref"
  // + the encoded value map.
  auto out = run_in_child(
      [&btf_file] {
        if (::unshare(CLONE_NEWNET) != 0)
          throw std::runtime_error(std::string("unshare: ") + std::strerror(errno));
        struct stat st {};
        if (::stat("/proc/self/ns/net", &st) != 0)
          throw std::runtime_error("stat /proc/self/ns/net");
        SysctlMap values = read_sysctl_tree("/proc/sys/net");
        BtfLocator btf(btf_file);
        std::string locs;
        size_t n = 0;
        for (const auto& [name, v] : values) {
          auto l = btf.locate(name);
          if (!l) continue;
          ++n;
          locs += name + " " + std::to_string(l->part) + " " + std::to_string(l->offset) + " " +
                  std::to_string(l->elem_size) + " " + std::to_string(l->count) + " " +
                  (l->is_signed ? "1" : "0") + " " + std::to_string(static_cast<int>(l->kind)) +
                  " " + std::to_string(l->div) + " " +
                  (l->gen_struct.empty() ? "-" : l->gen_struct) + " " + (l->gen_deref ? "1" : "0") +
                  "\n";
        }
        // Last (it leaves this child in a new user namespace): which of these
        // names a netns owned by a non-initial user namespace lacks. Both
        // namespaces are born in this child, so the tracer drops both records.
        std::string hidden = "-\n";
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
          auto there = list_sysctl_names("/proc/sys/net");
          std::set<std::string> present(there.begin(), there.end());
          std::string names;
          size_t h = 0;
          for (const auto& [name, v] : values)
            if (!present.count(name)) {
              names += name + "\n";
              ++h;
            }
          hidden = std::to_string(h) + "\n" + names;
        }
        return std::to_string(st.st_ino) + "\n" + std::to_string(n) + "\n" + locs + hidden +
               encode(values);
      },
      "read a fresh network namespace");
  if (!out) return out.error();
  std::istringstream in(*out);
  FreshNetns f;
  size_t n = 0;
  if (!(in >> f.inode >> n)) return Error("read a fresh network namespace", "", EPROTO);
  for (size_t i = 0; i < n; ++i) {
    std::string name;
    FieldLoc l;
    int is_signed = 0, kind = 0, deref = 0;
    std::string gen;
    if (!(in >> name >> l.part >> l.offset >> l.elem_size >> l.count >> is_signed >> kind >>
          l.div >> gen >> deref))
      return Error("read a fresh network namespace", "field locations", EPROTO);
    l.is_signed = is_signed;
    if (gen != "-") l.gen_struct = gen;
    l.gen_deref = deref;
    l.kind = static_cast<FieldLoc::Kind>(kind);
    f.locs.emplace(name, l);
  }
  std::string hidden_count;
  if (!(in >> hidden_count)) return Error("read a fresh network namespace", "hidden names", EPROTO);
  if (hidden_count != "-") {
    auto h = parse_int(hidden_count);
    if (!h || *h < 0) return Error("read a fresh network namespace", "hidden names", EPROTO);
    f.hidden_in_child_userns.emplace();
    for (int64_t i = 0; i < *h; ++i) {
      std::string name;
      if (!(in >> name)) return Error("read a fresh network namespace", "hidden names", EPROTO);
      f.hidden_in_child_userns->insert(name);
    }
  }
  in.get();  // the newline before the value map
  std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  f.values = decode_map(rest);
  return f;
}

}  // namespace sysctlscope::netns
