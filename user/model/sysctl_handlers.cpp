// SPDX-License-Identifier: Apache-2.0
// Hand-written on purpose: these are the kernel's parse rules, not a general
// number parser (strtol accepts '+', leading blanks and any trailer; the
// kernel does not), and no library carries them.
#include "model/sysctl_handlers.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <map>

#include "model/event.hpp"  // normalize_value

namespace sysctlscope {

namespace {

using F = HandlerFamily;

struct Row {
  std::string_view name;  // dotted; a '*' component matches any one component
  SysctlHandler h;
};

constexpr SysctlHandler plain(F f, const char* src) { return {f, false, {}, {}, 0, src}; }
// minmax with bounds that vary (or that this table does not carry).
constexpr SysctlHandler bounded(F f, const char* src) { return {f, true, {}, {}, 0, src}; }
constexpr SysctlHandler minmax(F f, int64_t lo, int64_t hi, const char* src) {
  return {f, true, lo, hi, 0, src};
}
constexpr SysctlHandler str(F f, unsigned maxlen, const char* src) {
  return {f, false, {}, {}, maxlen, src};
}

constexpr const char* kIpv4 = "net/ipv4/sysctl_net_ipv4.c";
constexpr const char* kDevinet = "net/ipv4/devinet.c";
constexpr const char* kAddrconf = "net/ipv6/addrconf.c";
constexpr const char* kNeigh = "net/core/neighbour.c";
constexpr const char* kCore = "net/core/sysctl_net_core.c";

// Handlers as of Linux 6.18 (checked against tests/corpus/kernel_writes.tsv
// on a 6.18 kernel). u8 sysctls are proc_dou8vec_minmax (Uint, 0..255 or
// narrower); which bounds a row omits, the model treats as unknown.
const std::array kTable = {
    Row{"net.ipv4.ip_local_port_range", plain(F::PortRange, kIpv4)},  // ipv4_local_port_range
    Row{"net.ipv4.ping_group_range", plain(F::GroupRange, kIpv4)},    // ipv4_ping_group_range
    Row{"net.ipv4.ip_local_reserved_ports", plain(F::Bitmap, kIpv4)},  // proc_do_large_bitmap
    // ipv4_privileged_ports: 0..65535 and not above the local port range.
    Row{"net.ipv4.ip_unprivileged_port_start", bounded(F::Int, kIpv4)},
    Row{"net.ipv4.tcp_rmem", minmax(F::Int, 1, INT_MAX, kIpv4)},  // extra1 = SYSCTL_ONE
    Row{"net.ipv4.tcp_wmem", minmax(F::Int, 1, INT_MAX, kIpv4)},
    Row{"net.ipv4.tcp_keepalive_time", plain(F::Jiffies, kIpv4)},
    Row{"net.ipv4.tcp_keepalive_intvl", plain(F::Jiffies, kIpv4)},
    Row{"net.ipv4.tcp_fin_timeout", plain(F::Jiffies, kIpv4)},
    Row{"net.ipv4.tcp_keepalive_probes", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_syn_retries", minmax(F::Uint, 1, 127, kIpv4)},  // MAX_TCP_SYNCNT
    Row{"net.ipv4.tcp_synack_retries", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_syncookies", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_retries1", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_retries2", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_orphan_retries", minmax(F::Uint, 0, 255, kIpv4)},
    Row{"net.ipv4.tcp_tw_reuse", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_sack", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_timestamps", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_window_scaling", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_slow_start_after_idle", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_ecn", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.ip_default_ttl", minmax(F::Uint, 1, 255, kIpv4)},
    Row{"net.ipv4.icmp_echo_ignore_all", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.fib_multipath_hash_policy", bounded(F::Uint, kIpv4)},
    Row{"net.ipv4.tcp_notsent_lowat", plain(F::Uint, kIpv4)},  // proc_douintvec
    Row{"net.ipv4.tcp_max_syn_backlog", plain(F::Int, kIpv4)},
    Row{"net.ipv4.tcp_reordering", plain(F::Int, kIpv4)},
    Row{"net.ipv4.tcp_fastopen", plain(F::Int, kIpv4)},
    Row{"net.ipv4.tcp_max_tw_buckets", plain(F::Int, kIpv4)},
    Row{"net.ipv4.tcp_adv_win_scale", minmax(F::Int, -31, 31, kIpv4)},
    Row{"net.ipv4.icmp_ratelimit", plain(F::MsJiffies, kIpv4)},
    Row{"net.ipv4.tcp_invalid_ratelimit", plain(F::MsJiffies, kIpv4)},
    Row{"net.ipv4.tcp_comp_sack_delay_ns", bounded(F::Ulong, kIpv4)},
    // proc_tcp_congestion_control: a proc_dostring of TCP_CA_NAME_MAX (16),
    // then tcp_set_default_congestion_control() (ENOENT for an unknown name).
    Row{"net.ipv4.tcp_congestion_control", str(F::NamedString, 16, kIpv4)},
    // devinet_conf_proc / devinet_sysctl_forward: proc_dointvec.
    Row{"net.ipv4.conf.*.*", plain(F::Int, kDevinet)},
    Row{"net.ipv6.conf.*.hop_limit", minmax(F::Int, 1, 255, kAddrconf)},
    Row{"net.ipv6.conf.*.forwarding", plain(F::Int, kAddrconf)},  // addrconf_sysctl_forward
    Row{"net.ipv6.conf.*.disable_ipv6", plain(F::Int, kAddrconf)},
    Row{"net.ipv4.neigh.*.locktime", plain(F::UserHz, kNeigh)},
    Row{"net.ipv4.neigh.*.retrans_time", plain(F::UserHz, kNeigh)},
    Row{"net.ipv4.neigh.*.anycast_delay", plain(F::UserHz, kNeigh)},
    Row{"net.ipv4.neigh.*.proxy_delay", plain(F::UserHz, kNeigh)},
    Row{"net.ipv4.neigh.*.retrans_time_ms", plain(F::MsJiffies, kNeigh)},
    Row{"net.ipv4.neigh.*.base_reachable_time_ms", plain(F::MsJiffies, kNeigh)},
    Row{"net.ipv4.neigh.*.base_reachable_time", plain(F::Jiffies, kNeigh)},
    Row{"net.ipv4.neigh.*.gc_stale_time", plain(F::Jiffies, kNeigh)},
    Row{"net.ipv4.neigh.*.delay_first_probe_time", plain(F::Jiffies, kNeigh)},
    Row{"net.core.somaxconn", minmax(F::Int, 0, INT_MAX, kCore)},
    // proc_do_uts_string on a __NEW_UTS_LEN + 1 (65) buffer.
    Row{"kernel.hostname", str(F::String, 65, "kernel/utsname_sysctl.c")},
    Row{"kernel.domainname", str(F::String, 65, "kernel/utsname_sysctl.c")},
    Row{"kernel.sysctl_writes_strict", minmax(F::Int, -1, 1, "kernel/sysctl.c")},
    Row{"vm.hugetlb_optimize_vmemmap", plain(F::Bool, "mm/hugetlb_vmemmap.c")},
};

bool name_matches(std::string_view pat, std::string_view name) {
  while (true) {
    const size_t pd = pat.find('.'), nd = name.find('.');
    const std::string_view pc = pat.substr(0, pd), nc = name.substr(0, nd);
    if (pc != "*" && pc != nc) return false;
    if (pd == std::string_view::npos || nd == std::string_view::npos)
      return pd == std::string_view::npos && nd == std::string_view::npos;
    pat.remove_prefix(pd + 1);
    name.remove_prefix(nd + 1);
  }
}

// lib/ctype.c: isspace() also holds for \v, \f, \r and 0xA0.
bool kspace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || static_cast<unsigned char>(c) == 0xA0;
}

// The bytes of a write being consumed, as the handlers walk them.
struct Cursor {
  std::string_view b;
  size_t i = 0;
  size_t left() const { return b.size() - i; }
  void skip_spaces() {
    while (i < b.size() && kspace(b[i])) ++i;
  }
  void skip_char(char c) {
    while (i < b.size() && b[i] == c) ++i;
  }
};

struct Num {
  bool neg = false;
  unsigned long long v = 0;
  std::optional<char> trailer;  // the byte after the number, if any
};

int digit_in(char c, unsigned base) {
  int d = -1;
  if (c >= '0' && c <= '9') d = c - '0';
  if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
  if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
  return d >= 0 && static_cast<unsigned>(d) < base ? d : -1;
}

// proc_get_long(): at most 21 bytes, an optional '-', a digit, strtoul base
// 0 (0x hex, 0 octal), then a byte from `allowed` or the end. nullopt:
// EINVAL.
std::optional<Num> get_long(Cursor& c, std::string_view allowed) {
  constexpr size_t kTmp = 21;  // TMPBUFLEN - 1
  const size_t size = c.left();
  if (!size) return std::nullopt;
  const std::string_view tmp = c.b.substr(c.i, std::min(size, kTmp));
  auto at = [&](size_t k) { return k < tmp.size() ? tmp[k] : '\0'; };
  Num n;
  size_t p = 0;
  if (tmp[0] == '-' && size > 1) {
    n.neg = true;
    p = 1;
  }
  if (at(p) < '0' || at(p) > '9') return std::nullopt;
  unsigned base = 10;
  if (at(p) == '0') {
    base = 8;
    if ((at(p + 1) == 'x' || at(p + 1) == 'X') && digit_in(at(p + 2), 16) >= 0) {
      base = 16;
      p += 2;
    }
  }
  bool overflow = false;
  for (int d; (d = digit_in(at(p), base)) >= 0; ++p) {
    if (n.v > (ULLONG_MAX - static_cast<unsigned>(d)) / base) overflow = true;
    n.v = n.v * base + static_cast<unsigned>(d);
  }
  if (overflow || p == kTmp) return std::nullopt;
  if (p < size) {
    if (allowed.find(c.b[c.i + p]) == std::string_view::npos) return std::nullopt;
    n.trailer = c.b[c.i + p];
  }
  c.i += p;
  return n;
}

constexpr std::string_view kWspace{" \t\n", 3};

std::vector<std::string> split_ws(std::string_view v) {
  std::vector<std::string> out;
  const std::string n = normalize_value(v);
  size_t s = 0;
  while (s < n.size()) {
    size_t e = n.find(' ', s);
    if (e == std::string::npos) e = n.size();
    out.push_back(n.substr(s, e - s));
    s = e + 1;
  }
  return out;
}

std::optional<long long> to_ll(std::string_view t) {
  if (t.empty()) return std::nullopt;
  bool neg = t[0] == '-';
  if (neg) t.remove_prefix(1);
  if (t.empty() || t.size() > 19) return std::nullopt;
  long long v = 0;
  for (char ch : t) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return neg ? -v : v;
}

// One element's conversion (the handler's conv function): the values /proc
// may print for it afterwards, and whether the handler may refuse it.
struct Conv {
  bool fails = false;                  // certainly refused
  bool may_fail = false;               // refused or not, depending on what we do not know
  long long lo = 0, hi = 0;            // the printed value afterwards (a range when rounded)
};

Conv convert(const SysctlHandler& h, const Num& n) {
  Conv c;
  constexpr unsigned long long kIntMax = INT_MAX;
  const long long sv = n.neg ? -static_cast<long long>(std::min(n.v, kIntMax + 1)) : 0;
  switch (h.family) {
    case F::Int:
    case F::Bool:
    case F::PortRange:
    case F::GroupRange:
      // do_proc_dointvec_conv: the int range.
      if (n.neg ? n.v > kIntMax + 1 : n.v > kIntMax) return {true, false, 0, 0};
      c.lo = c.hi = n.neg ? sv : static_cast<long long>(n.v);
      break;
    case F::Jiffies: {
      // do_proc_dointvec_jiffies_conv: refused above INT_MAX / HZ; HZ is
      // 100..1000, which userspace cannot read.
      if (n.v > kIntMax / 100) return {true, false, 0, 0};
      c.may_fail = n.v > kIntMax / 1000;
      c.lo = c.hi = n.neg ? -static_cast<long long>(n.v) : static_cast<long long>(n.v);
      break;
    }
    case F::UserHz: {
      // clock_t_to_jiffies then jiffies_to_clock_t: rounds down by up to one
      // USER_HZ tick when HZ is not a multiple of USER_HZ (HZ=250).
      if (n.v > kIntMax / 10) return {false, true, 0, 0};
      const long long v = n.neg ? -static_cast<long long>(n.v) : static_cast<long long>(n.v);
      c.lo = v - 1;
      c.hi = n.neg ? v + 1 : v;
      break;
    }
    case F::MsJiffies: {
      // msecs_to_jiffies rounds up to a jiffy (at most 10 ms at HZ=100); a
      // negative value becomes a huge jiffies count and is refused.
      if (n.neg && n.v) return {true, false, 0, 0};
      if (n.v > kIntMax) return {false, true, 0, 0};
      c.lo = static_cast<long long>(n.v);
      c.hi = c.lo + 9;
      break;
    }
    case F::Uint:
      // do_proc_douintvec_conv / the u8 variant: no sign, UINT_MAX.
      if (n.neg || n.v > UINT_MAX) return {true, false, 0, 0};
      c.lo = c.hi = static_cast<long long>(n.v);
      break;
    case F::Ulong:
      // __do_proc_doulongvec_minmax refuses a sign.
      if (n.neg || n.v > static_cast<unsigned long long>(LLONG_MAX)) return {true, false, 0, 0};
      c.lo = c.hi = static_cast<long long>(n.v);
      break;
    case F::String:
    case F::NamedString:
    case F::Bitmap:
      break;
  }
  if (h.bounded) {
    if (h.min && h.max) {
      if (c.hi < *h.min || c.lo > *h.max) return {true, false, 0, 0};
    } else {
      c.may_fail = true;
    }
  }
  if (h.family == F::Bool) c.lo = c.hi = c.lo != 0;
  return c;
}

std::string elem(long long lo, long long hi) {
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
}

std::optional<std::pair<long long, long long>> range_of(const std::string& e) {
  const size_t dots = e.find("..");
  if (dots == std::string::npos) {
    auto v = to_ll(e);
    if (!v) return std::nullopt;
    return std::pair{*v, *v};
  }
  auto a = to_ll(std::string_view(e).substr(0, dots)), b = to_ll(std::string_view(e).substr(dots + 2));
  if (!a || !b) return std::nullopt;
  return std::pair{*a, *b};
}

// The number of elements a numeric handler takes: what /proc printed.
size_t elements_of(const SysctlHandler& h, const std::vector<std::string>& old) {
  if (h.family == F::Uint || h.family == F::Bool) return 1;
  if (h.family == F::PortRange || h.family == F::GroupRange) return 2;
  return old.size();
}

// __do_proc_dointvec and __do_proc_doulongvec_minmax on a write (their
// shape is the same; do_proc_douintvec_w takes one value and the rest of the
// buffer): each element is converted and stored in turn, so a refusal
// leaves the elements before it stored. Partial outcomes are collected.
std::vector<KernelWrite> numeric(const SysctlHandler& h, const std::vector<std::string>& old,
                                 std::string_view bytes) {
  std::vector<KernelWrite> outs;
  const size_t n = elements_of(h, old);
  if (old.size() != n) return outs;
  for (const auto& t : old)
    if (!range_of(t)) return outs;
  // Handlers that parse into a temporary (or take one value) store nothing
  // when they refuse.
  const bool atomic = h.family == F::PortRange || h.family == F::GroupRange ||
                      h.family == F::Bool || h.family == F::Uint;
  std::vector<std::string> stored = old;
  auto refuse = [&] {
    KernelWrite w;
    w.ok = false;
    w.stored = atomic ? old : stored;
    outs.push_back(std::move(w));
  };
  Cursor c{bytes};
  size_t done = 0;
  for (; c.left() && done < n; ++done) {
    c.skip_spaces();
    if (!c.left()) break;
    auto num = get_long(c, kWspace);
    const Conv cv = num ? convert(h, *num) : Conv{true, false, 0, 0};
    if (cv.fails) {
      refuse();
      return outs;
    }
    if (cv.may_fail) refuse();
    stored[done] = elem(cv.lo, cv.hi);
    if (h.family == F::Uint) {
      ++done;
      break;
    }
  }
  if (!done) {  // nothing parsed: EINVAL
    refuse();
    return outs;
  }
  c.skip_spaces();
  KernelWrite ok;
  // do_proc_douintvec_w takes the whole buffer; the vector handlers return
  // what they consumed (a short write when numbers or text follow).
  ok.taken = h.family == F::Uint ? bytes.size() : c.i;
  ok.stored = std::move(stored);
  outs.push_back(std::move(ok));
  return outs;
}

// The custom checks after a successful parse (net/ipv4/sysctl_net_ipv4.c).
void ranges(const SysctlHandler& h, const std::vector<std::string>& old,
            std::vector<KernelWrite>& outs) {
  std::vector<KernelWrite> more;
  for (auto& o : outs) {
    if (!o.ok) continue;
    auto lo = range_of(o.stored[0]), hi = range_of(o.stored[1]);
    if (!lo || !hi) continue;
    if (h.family == F::GroupRange) {
      // ipv4_ping_group_range: an empty or invalid range is stored as "1 0".
      if (hi->first < lo->first) o.stored = {"1", "0"};
      continue;
    }
    // ipv4_local_port_range: 1..65535 each, lo <= hi, and lo not below
    // ip_unprivileged_port_start (which is at most the old lo).
    if (lo->first < 1 || hi->first > 65535 || hi->first < lo->first) {
      o.ok = false;
      o.stored = old;
      continue;
    }
    auto old_lo = to_ll(old[0]);
    if (!old_lo || lo->first < *old_lo) {
      KernelWrite f;
      f.ok = false;
      f.stored = old;
      more.push_back(f);
    }
  }
  outs.insert(outs.end(), more.begin(), more.end());
}

std::string print_bitmap(const std::vector<bool>& bits) {
  std::string out;
  for (size_t i = 0; i < bits.size();) {
    if (!bits[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < bits.size() && bits[j + 1]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(i);
    if (j > i) out += "-" + std::to_string(j);
    i = j + 1;
  }
  return out;
}

bool parse_bitmap_text(std::string_view v, std::vector<bool>& bits) {
  const std::string n = normalize_value(v);
  size_t s = 0;
  while (s < n.size()) {
    size_t e = n.find(',', s);
    if (e == std::string::npos) e = n.size();
    const std::string_view item = std::string_view(n).substr(s, e - s);
    const size_t dash = item.find('-');
    auto a = to_ll(item.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : to_ll(item.substr(dash + 1));
    if (!a || !b || *a < 0 || *b >= static_cast<long long>(bits.size()) || *a > *b) return false;
    for (long long k = *a; k <= *b; ++k) bits[static_cast<size_t>(k)] = true;
    s = e + 1;
  }
  return true;
}

// proc_do_large_bitmap: "a", "a-b", separated by ',' (trailing newlines
// allowed); all or nothing; at a non-zero offset the ports are added.
std::vector<KernelWrite> bitmap(std::string_view old, std::string_view bytes, int64_t pos) {
  constexpr size_t kBits = 65536;
  std::vector<bool> before(kBits), bits(kBits);
  if (!parse_bitmap_text(old, before)) return {};
  KernelWrite refused;
  refused.ok = false;
  refused.stored = {print_bitmap(before)};
  Cursor c{bytes};
  c.skip_char('\n');
  while (c.left()) {
    auto a = get_long(c, std::string_view("-,\n", 3));
    if (!a || a->neg || a->v >= kBits) return {refused};
    unsigned long long b = a->v;
    if (c.left()) ++c.i;
    if (a->trailer == '-') {
      auto e = get_long(c, std::string_view(",\n\0", 3));
      if (!e || e->neg || e->v >= kBits || a->v > e->v) return {refused};
      b = e->v;
      if (c.left()) ++c.i;
    }
    for (unsigned long long k = a->v; k <= b; ++k) bits[k] = true;
    c.skip_char('\n');
  }
  if (pos)
    for (size_t k = 0; k < kBits; ++k) bits[k] = bits[k] || before[k];
  KernelWrite ok;
  ok.taken = bytes.size();
  ok.stored = {print_bitmap(bits)};
  return {ok};
}

// _proc_do_string: bytes up to a NUL or newline, at most maxlen - 1; under
// sysctl_writes_strict=1 a write at an offset continues the string there
// (and is ignored past its end). Never fails by itself.
std::vector<KernelWrite> string_write(const SysctlHandler& h, std::string_view old,
                                      std::string_view bytes, int64_t pos, int strict) {
  if (h.maxlen == 0) return {};
  std::string data(old);
  size_t len = 0;
  if (strict == 1) {
    len = std::min(data.size(), static_cast<size_t>(h.maxlen - 1));
    if (pos < 0 || static_cast<size_t>(pos) > len) {
      KernelWrite same;
      same.taken = bytes.size();
      same.stored = {data};
      return {same};
    }
    len = static_cast<size_t>(pos);
  }
  data.resize(len);
  for (char ch : bytes) {
    if (ch == '\0' || ch == '\n' || data.size() >= h.maxlen - 1) break;
    data += ch;
  }
  KernelWrite ok;
  ok.taken = bytes.size();
  ok.stored = {data};
  std::vector<KernelWrite> outs = {ok};
  if (h.family == F::NamedString) {
    KernelWrite refused;
    refused.ok = false;
    refused.stored = {std::string(old)};
    outs.push_back(refused);
  }
  return outs;
}

bool matches(const KernelWrite& w, const std::string& now_norm, bool whole) {
  if (whole) return w.stored.size() == 1 && normalize_value(w.stored[0]) == now_norm;
  const auto got = split_ws(now_norm);
  if (got.size() != w.stored.size()) return false;
  for (size_t k = 0; k < got.size(); ++k) {
    if (got[k] == w.stored[k]) continue;
    auto r = range_of(w.stored[k]);
    auto v = to_ll(got[k]);
    if (!r || !v || *v < r->first || *v > r->second) return false;
  }
  return true;
}

bool whole_value(F f) { return f == F::String || f == F::NamedString || f == F::Bitmap; }

std::string strip_newline(std::string_view v) {
  if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
  return std::string(v);
}

// The table's row for a name, or the proc_dointvec guess for an untabled
// sysctl whose value is a list of integers (bounds unknown).
std::optional<SysctlHandler> model_for(std::string_view dotted, std::string_view old) {
  if (auto h = handler_of(dotted)) return h;
  const auto toks = split_ws(old);
  if (toks.empty()) return std::nullopt;
  for (const auto& t : toks)
    if (!to_ll(t)) return std::nullopt;
  return bounded(F::Int, "kernel/sysctl.c");
}

}  // namespace

std::optional<SysctlHandler> handler_of(std::string_view dotted) {
  for (const auto& r : kTable)
    if (name_matches(r.name, dotted)) return r.h;
  return std::nullopt;
}

std::vector<KernelWrite> kernel_write_outcomes(const SysctlHandler& h, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict) {
  if (h.family == F::Bitmap) return bitmap(old, bytes, pos);
  if (h.family == F::String || h.family == F::NamedString)
    return string_write(h, old, bytes, pos, writes_strict);
  const auto before = split_ws(old);
  // proc_first_pos_non_zero_ignore(): under sysctl_writes_strict=1 a
  // numeric write at an offset is taken whole and changes nothing; in the
  // other modes it is parsed from its first byte, wherever it lands.
  if (pos != 0 && writes_strict == 1) {
    KernelWrite same;
    same.taken = bytes.size();
    same.stored = before;
    return {same};
  }
  auto outs = numeric(h, before, bytes);
  if (h.family == F::PortRange || h.family == F::GroupRange) ranges(h, before, outs);
  for (auto& o : outs)
    o.approx = std::any_of(o.stored.begin(), o.stored.end(),
                           [](const std::string& e) { return e.find("..") != std::string::npos; });
  return outs;
}

std::optional<HandlerVerdict> judge_by_handler(std::string_view dotted, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict, std::string_view now) {
  auto h = model_for(dotted, old);
  if (!h) return std::nullopt;
  auto outs = kernel_write_outcomes(*h, old, bytes, pos, writes_strict);
  if (outs.empty()) return std::nullopt;
  // Any write may be refused before its handler runs (a cgroup/sysctl BPF
  // program: EPERM; permissions: EACCES), leaving the old value.
  KernelWrite before;
  before.ok = false;
  before.stored = whole_value(h->family) ? std::vector<std::string>{std::string(old)} : split_ws(old);
  outs.push_back(std::move(before));
  const std::string n = normalize_value(now);
  const bool whole = whole_value(h->family);
  // A success is preferred where both fit: a value equal to the old one was
  // accepted by the same handler before.
  for (const bool ok : {true, false})
    for (const auto& o : outs) {
      if (o.ok != ok || !matches(o, n, whole)) continue;
      HandlerVerdict v;
      v.result = {ok ? WriteStatus::Ok : WriteStatus::NotApplied};
      const std::string plain = normalize_value(ok ? strip_newline(bytes) : std::string(old));
      if (n != plain) v.stored = n;
      return v;
    }
  return HandlerVerdict{};
}

std::optional<std::string> stored_after_result(std::string_view dotted, std::string_view old,
                                               std::string_view bytes, int64_t pos,
                                               int writes_strict, WriteOutcome result) {
  // Only the handler stores anything; EPERM/EACCES/... come before it or
  // from a handler that parses into a temporary.
  const bool ok = result.ok();
  if (!ok && result != WriteOutcome::failed_with(EINVAL)) return std::nullopt;
  auto h = model_for(dotted, old);
  if (!h) return std::nullopt;
  std::optional<std::string> one;
  for (const auto& o : kernel_write_outcomes(*h, old, bytes, pos, writes_strict)) {
    if (o.ok != ok) continue;
    if (o.approx) return std::nullopt;
    std::string s;
    for (const auto& e : o.stored) s += (s.empty() ? "" : " ") + e;
    s = normalize_value(s);
    if (one && *one != s) return std::nullopt;  // depends on bounds we do not know
    one = s;
  }
  if (!one) return std::nullopt;
  const std::string plain = normalize_value(ok ? strip_newline(bytes) : std::string(old));
  if (*one == plain) return std::nullopt;
  return one;
}

}  // namespace sysctlscope
