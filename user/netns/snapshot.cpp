// SPDX-License-Identifier: Apache-2.0
#include "netns/snapshot.hpp"

#include <bpf/btf.h>
#include <linux/types.h>
#include <sched.h>
#include <sys/stat.h>

#include <cstring>
#include <iterator>
#include <set>
#include <sstream>

#include "core/btf_file.hpp"
#include "core/error.hpp"
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
bool find_path(const struct btf* b, uint32_t sid, const std::vector<std::string>& path, uint32_t* off,
               uint32_t* type_id) {
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
  if (l.elem_size != 1 && l.elem_size != 2 && l.elem_size != 4 && l.elem_size != 8) return std::nullopt;
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
};
// conf.{all,default}.<name> -> IPV4_DEVCONF_<value> (include/uapi/linux/ip.h).
const std::map<std::string, std::string> kDevconf4Aliases = {
    {"arp_filter", "ARPFILTER"}, {"disable_policy", "NOPOLICY"},
    {"disable_xfrm", "NOXFRM"},  {"src_valid_mark", "SRC_VMARK"}};
// conf.{all,default}.<name> -> struct ipv6_devconf member (net/ipv6/addrconf.c).
const std::map<std::string, std::string> kDevconf6Aliases = {
    {"mtu", "mtu6"},
    {"router_solicitations", "rtr_solicits"},
    {"router_solicitation_interval", "rtr_solicit_interval"},
    {"router_solicitation_max_interval", "rtr_solicit_max_interval"},
    {"router_solicitation_delay", "rtr_solicit_delay"},
    {"router_probe_interval", "rtr_probe_interval"}};

}  // namespace

BtfLocator::BtfLocator() {
  const std::string& file = btf_file();
  btf_ = file.empty() ? btf__load_vmlinux_btf() : btf__parse(file.c_str(), nullptr);
  if (!btf_) throw Error("load kernel BTF", file.empty() ? "/sys/kernel/btf/vmlinux" : file, errno);
}

BtfLocator::~BtfLocator() { btf__free(btf_); }

std::optional<FieldLoc> BtfLocator::locate(const std::string& dotted) const {
  auto parts = split(dotted, '.');
  if (parts.size() < 3 || parts[0] != "net") return std::nullopt;
  int net_id = btf__find_by_name_kind(btf_, "net", BTF_KIND_STRUCT);
  if (net_id < 0) return std::nullopt;
  uint32_t off, type;
  auto in_net = [&](std::vector<std::string> path) -> std::optional<FieldLoc> {
    if (!find_path(btf_, static_cast<uint32_t>(net_id), path, &off, &type)) return std::nullopt;
    return int_loc(btf_, SS_SNAP_NET, off, type);
  };
  if (auto a = kNetAliases.find(dotted); a != kNetAliases.end()) {
    for (const auto& path : a->second)
      if (auto l = in_net(split(path, '.'))) return l;
    return std::nullopt;
  }
  const std::string& sub = parts[1];
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
      (parts[3] == "all" || parts[3] == "default")) {
    bool all = parts[3] == "all";
    if (sub == "ipv4") {
      // data[IPV4_DEVCONF_<NAME> - 1] (include/linux/inetdevice.h)
      int dc = btf__find_by_name_kind(btf_, "ipv4_devconf", BTF_KIND_STRUCT);
      if (dc < 0 || !find_member(btf_, static_cast<uint32_t>(dc), "data", &off, &type)) return std::nullopt;
      auto alias = kDevconf4Aliases.find(parts[4]);
      std::string enumerator = "IPV4_DEVCONF_" + (alias != kDevconf4Aliases.end() ? alias->second : upper(parts[4]));
      for (uint32_t id = 1; id < btf__type_cnt(btf_); ++id) {
        const btf_type* t = btf__type_by_id(btf_, id);
        if (!btf_is_enum(t)) continue;
        const struct btf_enum* e = btf_enum(t);
        for (uint16_t i = 0; i < btf_vlen(t); ++i, ++e) {
          if (enumerator != btf__name_by_offset(btf_, e->name_off)) continue;
          auto l = int_loc(btf_, all ? SS_SNAP_DEVCONF4_ALL : SS_SNAP_DEVCONF4_DFLT, off, type);
          if (!l || e->val < 1 || static_cast<uint32_t>(e->val) > l->count) return std::nullopt;
          l->offset += static_cast<uint32_t>(e->val - 1) * l->elem_size;
          l->count = 1;
          return l;
        }
      }
      return std::nullopt;
    }
    int dc = btf__find_by_name_kind(btf_, "ipv6_devconf", BTF_KIND_STRUCT);
    auto alias = kDevconf6Aliases.find(parts[4]);
    const std::string& member = alias != kDevconf6Aliases.end() ? alias->second : parts[4];
    if (dc < 0 || !find_member(btf_, static_cast<uint32_t>(dc), member, &off, &type)) return std::nullopt;
    return int_loc(btf_, all ? SS_SNAP_DEVCONF6_ALL : SS_SNAP_DEVCONF6_DFLT, off, type);
  }
  if (sub == "core" && parts.size() == 3) {
    if (auto l = in_net({"core", "sysctl_" + parts[2]})) return l;
    return in_net({"core", parts[2]});
  }
  if (sub == "ipv6" && parts.size() == 3) {
    if (auto l = in_net({"ipv6", "sysctl", parts[2]})) return l;
    return in_net({"ipv6", "sysctl", "sysctl_" + parts[2]});
  }
  if (sub == "ipv6" && parts.size() == 4 && parts[2] == "route") return in_net({"ipv6", "sysctl", "ip6_rt_" + parts[3]});
  if (sub == "ipv6" && parts.size() == 4 && parts[2] == "icmp") return in_net({"ipv6", "sysctl", "icmpv6_" + parts[3]});
  if (sub == "unix" && parts.size() == 3) return in_net({"unx", "sysctl_" + parts[2]});
  return std::nullopt;
}

std::optional<std::vector<int64_t>> SnapshotDecoder::raw(const ss_netns_create_event& rec,
                                                         const FieldLoc& l) const {
  static constexpr uint32_t kOff[SS_SNAP_PARTS] = {SS_SNAP_NET_OFF,     SS_SNAP_DC4_ALL_OFF, SS_SNAP_DC4_DFLT_OFF,
                                                   SS_SNAP_DC6_ALL_OFF, SS_SNAP_DC6_DFLT_OFF, SS_SNAP_CC_OFF};
  uint64_t end = static_cast<uint64_t>(l.offset) + static_cast<uint64_t>(l.elem_size) * l.count;
  if (l.part < 0 || l.part >= SS_SNAP_PARTS || end > rec.part_len[l.part]) return std::nullopt;
  const uint8_t* p = rec.snap + kOff[l.part] + l.offset;
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < l.count; ++i, p += l.elem_size) {
    // Each arm widens to int64_t itself: `signed ? int32_t : uint32_t` would
    // make the conditional unsigned and turn -1 into 4294967295.
    int64_t v = 0;
    switch (l.elem_size) {
      case 1: { uint8_t x; std::memcpy(&x, p, 1); v = l.is_signed ? int64_t{static_cast<int8_t>(x)} : int64_t{x}; break; }
      case 2: { uint16_t x; std::memcpy(&x, p, 2); v = l.is_signed ? int64_t{static_cast<int16_t>(x)} : int64_t{x}; break; }
      case 4: { uint32_t x; std::memcpy(&x, p, 4); v = l.is_signed ? int64_t{static_cast<int32_t>(x)} : int64_t{x}; break; }
      case 8: { uint64_t x; std::memcpy(&x, p, 8); v = static_cast<int64_t>(x); break; }
      default: return std::nullopt;
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
    case Unit::Jiffies: return raw / static_cast<int64_t>(hz);
    case Unit::MsJiffies: return raw * 1000 / static_cast<int64_t>(hz);
    case Unit::UserHzJiffies: return raw * 100 / static_cast<int64_t>(hz);
    default: return raw;
  }
}
}  // namespace

std::optional<std::string> SnapshotDecoder::format(const ss_netns_create_event& rec, const Mapping& m) const {
  if (m.loc.kind == FieldLoc::Kind::CongestionControl) {
    uint32_t n = rec.part_len[SS_SNAP_CC_NAME];
    if (n == 0 || n >= SS_SNAP_CC_MAX) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(rec.snap + SS_SNAP_CC_OFF), n);
  }
  auto r = raw(rec, m.loc);
  if (!r) return std::nullopt;
  std::string s;
  for (size_t i = 0; i < r->size(); ++i) {
    if (m.unit == Unit::Unknown && (*r)[i] != 0) return std::nullopt;  // 0 is 0 in every unit
    if (i) s.push_back('\t');
    s += std::to_string(convert((*r)[i], m.unit, hz_));
  }
  return s;
}

void SnapshotDecoder::calibrate(const ss_netns_create_event& rec, const SysctlMap& proc, const FieldLocs& locs) {
  auto locate = [&](const std::string& n) -> std::optional<FieldLoc> {
    auto it = locs.find(n);
    if (it == locs.end()) return std::nullopt;
    return it->second;
  };
  mapped_.clear();
  unmapped_.clear();
  // HZ from a field known to be stored in jiffies and non-zero by default:
  // tcp_keepalive_time (proc_dointvec_jiffies, 7200 s in a fresh netns).
  hz_ = 0;
  if (auto l = locate("net.ipv4.tcp_keepalive_time"); l && proc.count("net.ipv4.tcp_keepalive_time")) {
    auto r = raw(rec, *l);
    auto p = parse_int(proc.at("net.ipv4.tcp_keepalive_time").value);
    if (r && p && *p > 0 && (*r)[0] % *p == 0) hz_ = static_cast<unsigned>((*r)[0] / *p);
  }
  for (const auto& [name, pv] : proc) {
    if (pv.err) continue;  // unreadable: nothing to compare with
    auto loc = locate(name);
    if (!loc) {
      unmapped_.push_back(name);
      continue;
    }
    Mapping m{*loc, Unit::Plain};
    if (loc->kind == FieldLoc::Kind::CongestionControl) {
      if (format(rec, m) == pv.value) mapped_.emplace(name, m);
      else unmapped_.push_back(name);
      continue;
    }
    auto r = raw(rec, *loc);
    auto texts = split(pv.value, '\t');
    if (!r || texts.size() != r->size()) {
      unmapped_.push_back(name);
      continue;
    }
    // The unit must explain every element; all-zero fields stay Unknown.
    std::optional<Unit> unit;
    bool all_zero = true, ok = true;
    for (size_t i = 0; i < r->size() && ok; ++i) {
      auto p = parse_int(texts[i]);
      if (!p) { ok = false; break; }
      if (*p == 0 && (*r)[i] == 0) continue;
      all_zero = false;
      std::optional<Unit> u;
      for (Unit c : {Unit::Plain, Unit::Jiffies, Unit::MsJiffies, Unit::UserHzJiffies}) {
        if (c != Unit::Plain && !hz_) continue;
        if (convert((*r)[i], c, hz_ ? hz_ : 1) == *p) { u = c; break; }
      }
      if (!u || (unit && *unit != *u)) ok = false;
      else unit = u;
    }
    if (!ok) {
      unmapped_.push_back(name);
      continue;
    }
    m.unit = all_zero ? Unit::Unknown : *unit;
    mapped_.emplace(name, m);
  }
  calibrated_ = true;
}

SnapshotDecoder::Result SnapshotDecoder::decode(const ss_netns_create_event& rec) const {
  const bool child_userns = rec.flags & SS_NETNS_F_CHILD_USERNS;
  auto hidden = [&](const std::string& n) { return child_userns && hidden_child_userns_.count(n) > 0; };
  Result res;
  for (const auto& n : unmapped_)
    if (!hidden(n)) res.unmapped.push_back(n);
  for (const auto& [name, m] : mapped_) {
    if (hidden(name)) continue;
    if (auto v = format(rec, m)) res.defaults.emplace(name, *v);
    else res.unmapped.push_back(name);
  }
  return res;
}

Expected<FreshNetns> probe_fresh_netns() {
  // Child output: "<inode>\n<n locs>\n" + n lines "name part off size count signed kind"
  // + the encoded value map.
  auto out = run_in_child(
      [] {
        if (::unshare(CLONE_NEWNET) != 0) throw std::runtime_error(std::string("unshare: ") + std::strerror(errno));
        struct stat st {};
        if (::stat("/proc/self/ns/net", &st) != 0) throw std::runtime_error("stat /proc/self/ns/net");
        SysctlMap values = read_sysctl_tree("/proc/sys/net");
        BtfLocator btf;
        std::string locs;
        size_t n = 0;
        for (const auto& [name, v] : values) {
          auto l = btf.locate(name);
          if (!l) continue;
          ++n;
          locs += name + " " + std::to_string(l->part) + " " + std::to_string(l->offset) + " " +
                  std::to_string(l->elem_size) + " " + std::to_string(l->count) + " " + (l->is_signed ? "1" : "0") +
                  " " + std::to_string(static_cast<int>(l->kind)) + "\n";
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
        return std::to_string(st.st_ino) + "\n" + std::to_string(n) + "\n" + locs + hidden + encode(values);
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
    int is_signed = 0, kind = 0;
    if (!(in >> name >> l.part >> l.offset >> l.elem_size >> l.count >> is_signed >> kind))
      return Error("read a fresh network namespace", "field locations", EPROTO);
    l.is_signed = is_signed;
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
