// SPDX-License-Identifier: Apache-2.0
#include "netns/snapshot.hpp"

#include <bpf/btf.h>
#include <linux/types.h>
#include <sched.h>
#include <sys/stat.h>

#include <cstring>
#include <iterator>
#include <sstream>

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

}  // namespace

BtfLocator::BtfLocator() {
  btf_ = btf__load_vmlinux_btf();
  if (!btf_) throw Error("load kernel BTF", "/sys/kernel/btf/vmlinux", errno);
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
      std::string enumerator = "IPV4_DEVCONF_" + upper(parts[4]);
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
    if (dc < 0 || !find_member(btf_, static_cast<uint32_t>(dc), parts[4], &off, &type)) return std::nullopt;
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
    int64_t v = 0;
    switch (l.elem_size) {
      case 1: { uint8_t x; std::memcpy(&x, p, 1); v = l.is_signed ? static_cast<int8_t>(x) : x; break; }
      case 2: { uint16_t x; std::memcpy(&x, p, 2); v = l.is_signed ? static_cast<int16_t>(x) : x; break; }
      case 4: { uint32_t x; std::memcpy(&x, p, 4); v = l.is_signed ? static_cast<int32_t>(x) : x; break; }
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
  Result res;
  res.unmapped = unmapped_;
  for (const auto& [name, m] : mapped_) {
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
        return std::to_string(st.st_ino) + "\n" + std::to_string(n) + "\n" + locs + encode(values);
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
  in.get();  // the newline before the value map
  std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  f.values = decode_map(rest);
  return f;
}

}  // namespace sysctlscope::netns
