// SPDX-License-Identifier: Apache-2.0
#include "netns/diff.hpp"

#include <zlib.h>

#include <fstream>
#include <set>

#include "core/error.hpp"
#include "output/json_lines.hpp"
#include "output/sink.hpp"

namespace sysctlscope::netns {

namespace {

std::optional<std::string> value_of(const SysctlMap& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end() || it->second.err) return std::nullopt;
  return it->second.value;
}

// net.ipv4.conf.eth0.rp_filter -> net.ipv4.conf.default.rp_filter
std::string default_twin(const std::string& name) {
  std::string prefix = name.substr(0, 14);  // "net.ipv4.conf." / "net.ipv6.conf."
  auto dot = name.find('.', 14);
  return prefix + "default" + name.substr(dot);
}

std::string read_gz(const std::string& path) {
  std::string out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

}  // namespace

std::optional<std::string> default_cc_from_config(const std::string& text) {
  const std::string key = "CONFIG_DEFAULT_TCP_CONG=\"";
  size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      auto start = pos + key.size();
      auto end = text.find('"', start);
      if (end != std::string::npos && end > start) return text.substr(start, end - start);
    }
    pos += key.size();
  }
  return std::nullopt;
}

KernelContext read_kernel_context() {
  KernelContext k;
  std::ifstream mode("/proc/sys/net/core/devconf_inherit_init_net");
  if (!(mode >> k.devconf_mode))
    k.devconf_mode = 0;  // absent before 5.1: IPv4 copied, IPv6 reset (mode 0)
  // The kernel's own build configuration; unreadable (no IKCONFIG, no /boot)
  // just means one less piece of evidence.
  std::string cfg = read_gz("/proc/config.gz");
  if (cfg.empty()) {
    std::ifstream rel("/proc/sys/kernel/osrelease");
    std::string r;
    rel >> r;
    std::ifstream boot("/boot/config-" + r);
    cfg.assign(std::istreambuf_iterator<char>(boot), std::istreambuf_iterator<char>());
  }
  k.default_cc = default_cc_from_config(cfg);
  return k;
}

Recording parse_recording(const std::string& text, const std::string& where) {
  Recording r;
  for_each_json_line(text, [&](const JsonLine& l, nlohmann::ordered_json& j) {
    // A last line cut by a killed writer is ignored, as `report` and
    // `replay` ignore it (forensics/recording.cpp): the rest is sound.
    if (l.damage == LineDamage::Cut) return;
    if (l.damage != LineDamage::None)
      throw UsageError(where + ":" + std::to_string(l.number) + ": not a JSON line");
    // `record` files also hold session records (session_start, baseline,
    // session_end: docs/recording.md); only event lines matter here.
    if (j.contains("record") && !j.contains("event")) return;
    Expected<Event> parsed = parse_event(j);
    if (!parsed)
      throw UsageError(where + ":" + std::to_string(l.number) + ": " + parsed.error().what());
    const Event& e = *parsed;
    ++r.events;
    if (const auto* w = e.get_if<SysctlWrite>(); w && !w->sysctl.empty()) {
      auto key = std::make_pair(e.netns, w->sysctl);
      auto it = r.last_write.find(key);
      if (it == r.last_write.end() || it->second.time_ns <= e.time_ns) r.last_write[key] = e;
    } else if (const auto* n = e.get_if<NetnsCreate>(); n && n->defaults) {
      std::map<std::string, std::string> host_then;
      if (n->differs_from_host)
        for (const auto& x : *n->differs_from_host) host_then[x.sysctl] = x.host;
      auto& defs = r.defaults[e.netns];
      r.born_at[e.netns] = e.time_ns;
      for (const auto& [name, v] : *n->defaults) {
        defs[name] = v;
        auto h = host_then.find(name);
        r.births[name].push_back({e.time_ns, e.netns, v, h == host_then.end() ? v : h->second});
      }
    }
  });
  return r;
}

Recording load_recording(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read --from file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_recording(text, path);
}

std::vector<DiffRow> compute_diff(const SysctlMap& host, const SysctlMap& target,
                                  const SysctlMap& fresh, const KernelContext& k,
                                  const Recording* rec, NetnsInode target_inode) {
  // Per-netns names: whatever a netns shows under /proc/sys/net. Entries that
  // only init_net registers (net.core.devconf_inherit_init_net, ...) are host-wide.
  std::set<std::string> names;
  for (const auto& [n, v] : target) names.insert(n);
  for (const auto& [n, v] : fresh) names.insert(n);
  static const std::vector<RecordedBirth> kNone;
  const std::map<std::string, std::string>* born_defaults = nullptr;
  if (rec)
    if (auto it = rec->defaults.find(target_inode); it != rec->defaults.end())
      born_defaults = &it->second;

  std::vector<DiffRow> rows;
  for (const auto& n : names) {
    DiffRow r;
    r.sysctl = n;
    r.host = value_of(host, n);
    r.target = value_of(target, n);
    r.fresh = value_of(fresh, n);
    Devconf dc = devconf_kind(n);
    if (!fresh.count(n) && (dc == Devconf::Ipv4Device || dc == Devconf::Ipv6Device)) {
      // A device a fresh netns does not have (eth0 of a container): a new
      // device starts from its netns's conf.default (inetdev_init / ipv6_add_dev).
      r.fresh = value_of(fresh, default_twin(n));
      r.fresh_from_default = r.fresh.has_value();
    }
    const auto& births = rec ? [&]() -> const std::vector<RecordedBirth>& {
      auto it = rec->births.find(n);
      return it == rec->births.end() ? kNone : it->second;
    }()
        : kNone;
    r.rule = birth_rule(n, r.host, r.fresh, k, births);
    if (born_defaults)
      if (auto it = born_defaults->find(n); it != born_defaults->end()) r.born = it->second;
    r.verdict = row_verdict(r.rule, r.target, r.fresh, r.born);
    if (rec)
      if (auto it = rec->last_write.find({target_inode, n}); it != rec->last_write.end())
        r.last_write = it->second;
    r.differs = row_differs(r.verdict, r.host, r.target);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace sysctlscope::netns
