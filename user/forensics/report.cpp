// SPDX-License-Identifier: Apache-2.0
#include "forensics/report.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "detect/rules.hpp"
#include "model/sysctl_path.hpp"
#include "output/escape.hpp"
#include "policy/policy.hpp"

namespace sysctlscope::forensics {

using json = nlohmann::ordered_json;

namespace {

const char* const kSecurity[] = {"kernel.kptr_restrict",
                                 "kernel.randomize_va_space",
                                 "kernel.yama.ptrace_scope",
                                 "kernel.core_pattern",
                                 "kernel.modprobe",
                                 "kernel.unprivileged_bpf_disabled",
                                 "kernel.dmesg_restrict",
                                 "kernel.perf_event_paranoid",
                                 "kernel.kexec_load_disabled",
                                 "kernel.sysrq",
                                 "kernel.unprivileged_userns_clone",
                                 "kernel.io_uring_disabled",
                                 "kernel.core_uses_pid",
                                 "kernel.printk",
                                 "fs.suid_dumpable",
                                 "user.max_user_namespaces",
                                 "net.core.bpf_jit_harden",
                                 "net.core.bpf_jit_enable",
                                 "vm.mmap_min_addr",
                                 "vm.unprivileged_userfaultfd"};

// Sysctls that change with no write: their drift is noise, kept apart.
struct Volatile {
  const char* name;
  const char* reason;
};
const Volatile kVolatile[] = {
    {"fs.dentry-state", "dentry cache counters (fs/dcache.c)"},
    {"fs.file-nr", "count of allocated file handles (fs/file_table.c)"},
    {"fs.inode-nr", "inode cache counters (fs/inode.c)"},
    {"fs.inode-state", "inode cache counters (fs/inode.c)"},
    {"fs.aio-nr", "count of AIO contexts in use (fs/aio.c)"},
    {"fs.quota.allocated_dquots", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.cache_hits", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.drops", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.free_dquots", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.lookups", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.reads", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.syncs", "quota statistics (fs/quota/dquot.c)"},
    {"fs.quota.writes", "quota statistics (fs/quota/dquot.c)"},
    {"kernel.ns_last_pid",
     "the last PID allocated, moves with every fork (kernel/pid_namespace.c)"},
    {"kernel.random.uuid", "a new random UUID on every read (drivers/char/random.c)"},
    {"kernel.random.entropy_avail",
     "the entropy estimate of the input pool (drivers/char/random.c)"},
    {"kernel.pty.nr", "count of allocated pseudo-terminals (drivers/tty/pty.c)"},
    {"kernel.hung_task_detect_count", "count of hung tasks detected (kernel/hung_task.c)"},
    {"kernel.perf_event_max_sample_rate",
     "lowered by the kernel when perf interrupts take too long (kernel/events/core.c)"},
    {"net.netfilter.nf_conntrack_count",
     "count of tracked connections (nf_conntrack_standalone.c)"},
};

std::string short_id(const std::string& id) { return id.substr(0, 12); }

std::string container_label(const ContainerInfo& c) {
  std::string s = "container " + (c.id.empty() ? (c.name.empty() ? "?" : c.name) : short_id(c.id));
  if (!c.name.empty() && !c.id.empty() && c.name != c.id) s += " (" + c.name + ")";
  if (!c.pod.empty())
    s += " pod " + (c.k8s_namespace.empty() ? c.pod : c.k8s_namespace + "/" + c.pod);
  return s;
}

std::string group_of(const Event& e) {
  return e.container ? container_label(*e.container) : "host";
}

std::string who_of(const Event& e) {
  return group_of(e) + ": " + e.comm + "[" + std::to_string(e.pid) + "]";
}

struct Owners {
  NetnsInode host_netns = 0;
  std::map<NetnsInode, std::string> netns_owner;  // netns -> container label
  std::string where(const Event& e) const {
    if (e.netns_container) return container_label(*e.netns_container);
    if (auto it = netns_owner.find(e.netns); it != netns_owner.end()) return it->second;
    if (host_netns && e.netns == host_netns) return "host netns";
    return "netns " + std::to_string(e.netns);
  }
  // A host-side actor in a netns a container owns: the host-into-container
  // signal, also derived here for recordings made before attribution knew it.
  bool cross(const Event& e) const {
    if (e.cross_namespace) return true;
    if (e.container || e.netns_container) return false;
    return netns_owner.count(e.netns) && e.netns != host_netns;
  }
};

}  // namespace

std::string hms(uint64_t ns) {
  std::string t = format_rfc3339(ns);  // 2026-11-22T11:00:29.123456789Z
  return t.size() >= 23 ? t.substr(11, 12) : t;
}

std::string json_text(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* volatile_reason(const std::string& s) {
  for (const auto& v : kVolatile)
    if (s == v.name) return v.reason;
  return nullptr;
}

bool is_security_relevant(const std::string& s) {
  if (s.rfind("fs.protected_", 0) == 0) return true;
  return std::find(std::begin(kSecurity), std::end(kSecurity), s) != std::end(kSecurity);
}

namespace {

// Drift from the policy a recording carries: the values at the end (the
// baselines, birth defaults, then every recorded write and read) judged by
// the first session's policy. Scopes as in the baseline drift.
void policy_drift(const Recording& rec, const std::vector<const Event*>& evs,
                  const std::map<std::string, std::string>& host_base,
                  const std::map<NetnsInode, std::map<std::string, std::string>>& netns_base,
                  Report& r) {
  policy::Policy pol;
  bool found = false;
  for (const auto& s : rec.sessions) {
    auto it = s.start.find("policy");
    if (it == s.start.end() || !it->is_object()) continue;
    std::vector<std::pair<std::string, std::string>> files;  // file, text
    std::string bad;
    try {
      for (const auto& f : it->value("files", json::array()))
        files.emplace_back(f.value("file", ""), f.value("text", ""));
    } catch (const json::exception& e) {  // a recording with odd member types
      bad = e.what();
    }
    if (bad.empty()) {
      if (auto parsed = policy::Policy::parse(files))
        pol = std::move(*parsed);
      else
        bad = parsed.error().what();
    }
    if (!bad.empty()) {
      r.warnings.push_back(s.file + ": the recorded policy does not parse: " + bad);
      return;
    }
    std::vector<std::string> names;
    for (auto& [file, text] : files) names.push_back(std::move(file));
    r.policy_files = std::move(names);
    found = true;
    break;
  }
  if (!found) return;
  struct Val {
    std::string value, by;
    uint64_t time_ns = 0;
  };
  // netns 0: the host (global sysctls and the host's net.*).
  std::map<NetnsInode, std::map<std::string, Val>> vals;
  std::map<NetnsInode, ContainerInfo> owners;
  uint64_t host_ns = 0;
  for (const auto& s : rec.sessions)
    for (const auto& b : s.baselines) {
      if (b.scope == "host") host_ns = host_ns ? host_ns : b.netns;
      if (b.scope != "host" && b.container) owners.emplace(b.netns, *b.container);
    }
  for (const auto& [k, v] : host_base) vals[0][k] = {v, "before the session", 0};
  for (const auto& [ns, m] : netns_base)
    for (const auto& [k, v] : m) vals[ns][k] = {v, "before the session", 0};
  for (const Event* e : evs) {
    if (e->netns_container && e->netns) owners.emplace(e->netns, *e->netns_container);
    std::string value, by;
    if (const auto* w = e->get_if<SysctlWrite>()) {
      // What the kernel holds: `stored` when it is not the text written
      // (0x10 held as 16) or a failed vector write kept its first elements.
      if (!w->result.ok() && w->stored.empty()) continue;
      value = w->stored.empty() ? w->value : w->stored;
      by = e->comm + "[" + std::to_string(e->pid) + "]";
    } else if (const auto* rd = e->get_if<SysctlRead>()) {
      if (rd->truncated || rd->value_error) continue;
      value = rd->value;
      by = "unobserved change (seen by a read)";
    } else {
      continue;
    }
    const std::string name(e->sysctl());
    // A container's own IPC/UTS namespace is no place a rule governs.
    const policy::Place place = policy::place_of(*e, host_ns);
    if (place == policy::Place::Private) continue;
    const NetnsInode ns = place == policy::Place::Netns ? e->netns : 0;
    auto& slot = vals[ns][name];
    // A read only tells something when the value changed unseen.
    if (e->is<SysctlWrite>() || normalize_value(slot.value) != normalize_value(value))
      slot = {value, by, e->time_ns};
  }
  for (const auto& [ns, m] : vals) {
    std::optional<ContainerInfo> owner;
    if (auto o = owners.find(ns); o != owners.end()) owner = o->second;
    for (const auto& [name, v] : m) {
      if (ns && scope_of(name) != SysctlScope::Net) continue;
      const policy::Rule* rule = pol.rule_for(name, ns == 0, owner);
      if (!rule || policy::value_satisfies(*rule, v.value)) continue;
      PolicyDriftRow row;
      row.scope = ns == 0 ? "host"
                          : (owner ? "container " + container_label(*owner) + " (netns " +
                                         std::to_string(ns) + ")"
                                   : "netns " + std::to_string(ns));
      row.sysctl = name;
      row.expected = rule->expected;
      row.value = v.value;
      row.policy = rule->where();
      row.changed_by = v.by;
      row.time_ns = v.time_ns;
      r.policy_drift.push_back(std::move(row));
    }
  }
}

// ------------------------------------------------------- report sections ---
//
// What each event type adds to the report. build_report visits every
// event's payload (the registry's variant, model/event_types.hpp) and hands
// it to ReportSection<T>. A type without a specialization (netns_enter,
// sysctl_drift) is an activity with no section of its own: its actor's
// group is listed under "By container", nothing more. A type with a section
// is one specialization here: add() collects its rows; a section that
// stands alone (Detections) also renders them, at its place in each format
// (render_sections()).

struct Last {
  std::string value, by;
  uint64_t time_ns = 0;
  bool from_write = false;
};

// Where an activity (any event but a loss or a detection) happened.
struct Activity {
  std::string group;
  GroupSummary& g;
  std::string sysctl;
  std::string scope;  // where its value lives: "host", a container, a netns
};

// build_report's state while it walks the events.
struct Collector {
  Report& r;
  const Owners& own;
  std::map<NetnsInode, std::map<std::string, std::string>>& netns_base;
  std::map<std::pair<std::string, std::string>, Last> last;  // (scope, sysctl)
  // The latest write of unknown outcome per (scope, sysctl): a later read
  // showing its value is the only evidence that it took effect.
  std::map<std::pair<std::string, std::string>, Last> unknown;
  std::map<std::string, NetnsInode> scope_netns;
  std::map<std::tuple<uint32_t, std::string, std::string>, ReconRow> recon;

  Activity activity(const Event& e) {
    std::string group = group_of(e);
    auto& g = r.groups[group];
    // Scope of a value: net.* lives in a netns; other namespaced sysctls
    // (ipc, uts) follow the container; the rest is the host's.
    std::string sysctl(e.sysctl());
    std::string scope;
    if (sysctl.rfind("net.", 0) == 0) {
      std::string w = own.where(e);
      if (own.host_netns && e.netns == own.host_netns)
        scope = "host";
      else
        scope = w.rfind("netns ", 0) == 0 ? w : w + " (netns " + std::to_string(e.netns) + ")";
      scope_netns[scope] = e.netns;
    } else {
      scope = e.container ? group : "host";
    }
    return Activity{std::move(group), g, std::move(sysctl), std::move(scope)};
  }
  TimelineRow timeline_row(const Event& e, const Activity& a) const {
    TimelineRow t;
    t.time_ns = e.time_ns;
    t.who = who_of(e);
    t.group = a.group;
    t.where = own.where(e);
    t.sysctl = a.sysctl;
    t.cross_namespace = own.cross(e);
    return t;
  }
  void add_row(TimelineRow t) {
    if (t.cross_namespace) {
      r.groups[t.where].cross_in++;
      r.cross.push_back(t);
    }
    r.timeline.push_back(std::move(t));
  }
};

// No specialization: an activity with nothing more to say.
template <class T>
struct ReportSection {
  static constexpr bool kActivity = true;
  static void add(const Event&, const T&, Collector&, Activity&) {}
};

template <>
struct ReportSection<Lost> {
  static constexpr bool kActivity = false;
  static void add(const Event& e, const Lost& l, Collector& c) {
    c.r.lost += l.count;
    c.r.lost_events++;
    c.r.losses.emplace_back(e.time_ns, l.count);
  }
};

template <>
struct ReportSection<SysctlWrite> {
  static constexpr bool kActivity = true;
  static void add(const Event& e, const SysctlWrite& w, Collector& c, Activity& a) {
    TimelineRow t = c.timeline_row(e, a);
    t.kind = "write";
    t.old_value = w.old_value;
    t.value = w.value;
    t.result = to_string(w.result);
    t.stored = w.stored;
    t.failed = SysctlWrite::failed(w);
    a.g.writes++;
    if (t.failed) a.g.failed_writes++;
    // Only an `ok` write changed the value: a refused write is a finding
    // of its own, an unknown one is shown as unknown, neither as drift.
    // A refused vector write that stored its first elements (`stored`)
    // did change it: a failed write and drift both.
    const std::string held = w.stored.empty() ? w.value : w.stored;
    const auto key = std::make_pair(a.scope, a.sysctl);
    if (t.applied() || (t.failed && !w.stored.empty())) {
      c.last[key] = Last{held, t.who + " at " + hms(e.time_ns), e.time_ns, true};
      c.unknown.erase(key);
    } else if (w.result.unknown()) {
      c.unknown[key] = Last{w.value, t.who + " at " + hms(e.time_ns), e.time_ns, true};
    }
    if (w.result.unknown())
      c.r.unknown_writes.push_back(t);
    else if (t.failed)
      c.r.failed_writes.push_back(t);
    c.add_row(std::move(t));
  }
};

template <>
struct ReportSection<SysctlBlocked> {
  static constexpr bool kActivity = true;
  static void add(const Event& e, const SysctlBlocked& bl, Collector& c, Activity& a) {
    TimelineRow t = c.timeline_row(e, a);
    t.kind = "blocked";
    t.failed = true;
    t.result = bl.err;
    t.detail = std::string(name_of(bl.blocked_by)) + " path=" + bl.path;
    a.g.blocked++;
    c.add_row(std::move(t));
  }
};

template <>
struct ReportSection<SysctlRead> {
  static constexpr bool kActivity = true;
  static void add(const Event& e, const SysctlRead& rd, Collector& c, Activity& a) {
    const auto key = std::make_pair(a.scope, a.sysctl);
    if (!rd.value_error && !rd.truncated) {
      auto& l = c.last[key];
      if (auto u = c.unknown.find(key); u != c.unknown.end()) {
        if (normalize_value(u->second.value) == normalize_value(rd.value)) {
          l = u->second;
          l.by += " (write result unknown; its value was seen by a read at " + hms(e.time_ns) + ")";
        }
        c.unknown.erase(u);  // the read settles it either way
      }
      // A read showing a different value than the last known one means a change we did not see.
      if (l.value != rd.value || l.time_ns == 0) {
        if (!l.from_write || normalize_value(l.value) != normalize_value(rd.value))
          l = Last{rd.value, "", e.time_ns, false};
      }
    }
    if (is_security_relevant(a.sysctl)) {
      auto& rr = c.recon[{e.pid, e.comm, a.group}];
      if (!rr.reads) {
        rr.who = who_of(e);
        rr.group = a.group;
        rr.pid = e.pid;
        rr.first_ns = e.time_ns;
        a.g.recon++;
      }
      rr.reads++;
      rr.last_ns = e.time_ns;
      if (std::find(rr.sysctls.begin(), rr.sysctls.end(), a.sysctl) == rr.sysctls.end())
        rr.sysctls.push_back(a.sysctl);
    }
  }
};

template <>
struct ReportSection<NetnsCreate> {
  static constexpr bool kActivity = true;
  static void add(const Event& e, const NetnsCreate& n, Collector& c, Activity& a) {
    BirthRow b;
    b.time_ns = e.time_ns;
    b.netns = e.netns;
    b.parent_netns = n.parent_netns;
    b.who = who_of(e);
    b.group = a.group;
    b.via = n.via;
    std::map<std::string, std::string> defaults;
    if (n.defaults) {
      b.defaults = n.defaults->size();
      defaults.insert(n.defaults->begin(), n.defaults->end());
    }
    if (n.differs_from_host)
      for (const auto& x : *n.differs_from_host) b.differs.push_back({x.sysctl, x.value, x.host});
    a.g.births++;
    // Birth values are the baseline of a namespace born during the session.
    if (!c.netns_base.count(e.netns) && !defaults.empty())
      c.netns_base[e.netns] = std::move(defaults);
    c.r.births.push_back(std::move(b));
  }
};

// A section that stands alone: its rows and their rendering in each format.
template <>
struct ReportSection<Detection> {
  static constexpr bool kActivity = false;
  static constexpr SectionPlace kPlace = SectionPlace::First;
  static void add(const Event& e, const Detection& d, Collector& c) {
    c.r.detections.push_back(DetectionRow{e.time_ns, d.rule, d.severity, d.technique, d.sysctl,
                                          who_of(e), group_of(e), d.result, d.description,
                                          d.remediation, d.blocked});
  }
  // Worst severity first, then in time order.
  static void finish(Report& r) {
    auto rank = [](const std::string& s) {
      auto v = detect::parse_severity(s);
      return v ? static_cast<int>(*v) : -1;
    };
    std::stable_sort(r.detections.begin(), r.detections.end(),
                     [&](const DetectionRow& a, const DetectionRow& b) {
                       return rank(a.severity) > rank(b.severity);
                     });
  }
  static void json_of(const Report& r, json& j) {
    auto& rows = j["detections"] = json::array();
    for (const auto& d : r.detections)
      rows.push_back({{"time", format_rfc3339(d.time_ns)},
                      {"severity", d.severity},
                      {"rule", d.rule},
                      {"technique", d.technique},
                      {"sysctl", d.sysctl},
                      {"who", d.who},
                      {"group", d.group},
                      {"result", d.result},
                      {"blocked", d.blocked},
                      {"description", d.description},
                      {"remediation", d.remediation}});
  }
  static void text_of(const Report& r, std::string& o) {
    if (r.detections.empty()) return;
    auto ts = [](std::string_view s) { return terminal_safe(s); };
    o += "== Detections (" + std::to_string(r.detections.size()) + ", worst first)\n";
    for (const auto& d : r.detections)
      o += "  " + hms(d.time_ns) + "  [" + d.severity + "] " + ts(d.rule) +
           (d.technique.empty() ? "" : " " + ts(d.technique)) + "  " + ts(d.sysctl) + " by " +
           ts(d.who) + (d.blocked ? " (blocked: " : " (") + ts(d.result) + ")\n    " +
           ts(d.description) + "\n    fix: " + ts(d.remediation) + "\n";
    o += "\n";
  }
  static void html_of(const Report& r, std::string& o) {
    if (r.detections.empty()) return;
    o += "<h2>Detections (" + std::to_string(r.detections.size()) +
         ", worst first)</h2>\n<table id=\"detections\"><tr><th>time</th><th>severity</th>"
         "<th>rule</th><th>ATT&amp;CK</th><th>sysctl</th><th>who</th><th>result</th>"
         "<th>description</th><th>remediation</th></tr>\n";
    for (const auto& d : r.detections)
      o += "<tr><td>" + hms(d.time_ns) + "</td><td>" + html_escape(d.severity) + "</td><td>" +
           html_escape(d.rule) + "</td><td>" + html_escape(d.technique) + "</td><td class=\"v\">" +
           html_escape(d.sysctl) + "</td><td>" + html_escape(d.who) + "</td><td>" +
           html_escape(d.result) + (d.blocked ? " (blocked)" : "") + "</td><td>" +
           html_escape(d.description) + "</td><td>" + html_escape(d.remediation) + "</td></tr>\n";
    o += "</table>\n";
  }
};

// Calls f(ReportSection<T>{}) for every registered type whose section
// renders itself at `place`, in the registry's order.
template <class F>
void for_each_section_at(SectionPlace place, F&& f) {
  for_each_event_type([&](auto t) {
    using S = ReportSection<typename decltype(t)::type>;
    if constexpr (requires { S::kPlace; })
      if (S::kPlace == place) f(S{});
  });
}

}  // namespace

Report build_report(const Recording& rec) {
  Report r;
  r.warnings = rec.warnings;
  Owners own;
  // Host baseline values and per-netns baselines, from the first session that has them.
  std::map<std::string, std::string> host_base;
  std::set<std::string> base_volatile;  // changed between the baseline's two reads
  std::map<NetnsInode, std::map<std::string, std::string>> netns_base;
  for (const auto& s : rec.sessions) {
    json f = json::object();
    f["file"] = s.file;
    for (const char* k : {"tool_version", "hostname", "kernel_release", "boot_id", "time",
                          "command_line", "filters", "host_netns"})
      if (auto it = s.start.find(k); it != s.start.end())
        f[k == std::string("time") ? "start" : k] = *it;
    if (!own.host_netns)
      if (auto it = s.start.find("host_netns"); it != s.start.end() && it->is_number_unsigned())
        own.host_netns = it->get<NetnsInode>();
    if (s.end) {
      f["end"] = json_text(*s.end, "time");
      f["end_reason"] = json_text(*s.end, "reason");
      if (auto it = s.end->find("lost"); it != s.end->end() && it->is_number_unsigned()) {
        f["lost"] = *it;
      }
    } else {
      f["end"] = nullptr;
      f["end_reason"] = "incomplete: no session_end (recorder killed or crashed)";
    }
    f["events"] = s.events;
    f["incomplete_last_line"] = s.incomplete_tail;
    size_t ns_count = 0;
    for (const auto& b : s.baselines) {
      base_volatile.insert(b.volatile_names.begin(), b.volatile_names.end());
      if (b.scope == "host") {
        if (host_base.empty()) host_base = b.values;
        if (!own.host_netns) own.host_netns = b.netns;
      } else {
        ++ns_count;
        if (!netns_base.count(b.netns)) netns_base[b.netns] = b.values;
        if (b.container) own.netns_owner.emplace(b.netns, container_label(*b.container));
      }
    }
    f["baseline_namespaces"] = ns_count;
    auto start = parse_rfc3339(json_text(s.start, "time"));
    if (start && (!r.start_ns || *start < r.start_ns)) r.start_ns = *start;
    if (s.end)
      if (auto end = parse_rfc3339(json_text(*s.end, "time")); end && *end > r.end_ns)
        r.end_ns = *end;
    r.sessions.push_back(std::move(f));
  }

  // Events in time order (several files may interleave).
  std::vector<const Event*> evs;
  evs.reserve(rec.events.size());
  for (const auto& e : rec.events) evs.push_back(&e);
  std::stable_sort(evs.begin(), evs.end(),
                   [](const Event* a, const Event* b) { return a->time_ns < b->time_ns; });
  for (const Event* e : evs)
    if (e->netns_container && e->netns)
      own.netns_owner.emplace(e->netns, container_label(*e->netns_container));

  Collector c{r, own, netns_base};
  for (const Event* ep : evs) {
    const Event& e = *ep;
    r.events++;
    if (r.end_ns < e.time_ns) r.end_ns = e.time_ns;
    if (!r.start_ns || e.time_ns < r.start_ns) r.start_ns = e.time_ns;
    std::visit(
        [&](const auto& p) {
          using S = ReportSection<std::decay_t<decltype(p)>>;
          if constexpr (S::kActivity) {
            Activity act = c.activity(e);
            S::add(e, p, c, act);
          } else {
            S::add(e, p, c);
          }
        },
        e.data);
  }
  auto& last = c.last;
  auto& scope_netns = c.scope_netns;
  auto& recon = c.recon;

  // Drift: the last known value of each (scope, sysctl) against its baseline.
  for (const auto& [key, l] : last) {
    const auto& [scope, sysctl] = key;
    const std::map<std::string, std::string>* base = nullptr;
    if (scope == "host" || (scope_netns.count(scope) && scope_netns[scope] == own.host_netns)) {
      base = &host_base;
    } else if (auto n = scope_netns.find(scope); n != scope_netns.end()) {
      if (auto b = netns_base.find(n->second); b != netns_base.end()) base = &b->second;
    }
    DriftRow d;
    d.scope = scope;
    d.sysctl = sysctl;
    d.final_value = l.value;
    d.time_ns = l.time_ns;
    d.changed_by =
        l.from_write ? l.by : "unobserved change (seen by a read at " + hms(l.time_ns) + ")";
    if (base) {
      auto it = base->find(sysctl);
      if (it == base->end()) {
        if (!l.from_write) continue;  // a read of something the baseline could not read
        d.has_baseline = false;
      } else {
        if (normalize_value(it->second) == normalize_value(l.value)) continue;
        d.baseline = it->second;
      }
    } else {
      if (!l.from_write) continue;
      d.has_baseline = false;  // no baseline for this scope (namespace born without a snapshot)
    }
    // A change nobody wrote, of a sysctl that changes by itself, is noise.
    if (!l.from_write) {
      if (const char* why = volatile_reason(sysctl))
        d.volatile_reason = why;
      else if (base_volatile.count(sysctl))
        d.volatile_reason = "changed between two reads of the baseline with no write";
    }
    (d.volatile_reason.empty() ? r.drift : r.volatile_drift).push_back(std::move(d));
  }
  auto by_time = [](const DriftRow& a, const DriftRow& b) { return a.time_ns < b.time_ns; };
  std::sort(r.drift.begin(), r.drift.end(), by_time);
  std::sort(r.volatile_drift.begin(), r.volatile_drift.end(), by_time);
  policy_drift(rec, evs, host_base, netns_base, r);
  for_each_event_type([&](auto t) {
    using S = ReportSection<typename decltype(t)::type>;
    if constexpr (requires { S::finish(r); }) S::finish(r);
  });
  for (auto& [k, v] : recon) r.recon.push_back(std::move(v));
  std::sort(r.recon.begin(), r.recon.end(),
            [](const ReconRow& a, const ReconRow& b) { return a.first_ns < b.first_ns; });
  return r;
}

void sections_json(const Report& r, SectionPlace place, json& j) {
  for_each_section_at(place, [&](auto s) { s.json_of(r, j); });
}
void sections_text(const Report& r, SectionPlace place, std::string& o) {
  for_each_section_at(place, [&](auto s) { s.text_of(r, o); });
}
void sections_html(const Report& r, SectionPlace place, std::string& o) {
  for_each_section_at(place, [&](auto s) { s.html_of(r, o); });
}

// ------------------------------------------------------------------ JSON ---

namespace {

json report_json(const Report& r) {
  json j = json::object();
  j["sessions"] = r.sessions;
  j["warnings"] = r.warnings;
  j["events"] = r.events;
  j["lost"] = {{"total", r.lost}, {"events", r.lost_events}};
  sections_json(r, SectionPlace::First, j);
  auto& losses = j["lost"]["at"] = json::array();
  for (auto& [t, c] : r.losses) losses.push_back({{"time", format_rfc3339(t)}, {"count", c}});
  auto row = [](const TimelineRow& t) {
    json x = {{"time", format_rfc3339(t.time_ns)},
              {"kind", t.kind},
              {"who", t.who},
              {"group", t.group},
              {"where", t.where},
              {"sysctl", t.sysctl},
              {"result", t.result},
              {"failed", t.failed},
              {"cross_namespace", t.cross_namespace}};
    if (t.kind == "write") {
      x["old_value"] = t.old_value;
      x["value"] = t.value;
      x["applied"] = t.result == "unknown" ? json(nullptr) : json(t.applied());
      if (!t.stored.empty()) x["stored"] = t.stored;
    } else {
      x["detail"] = t.detail;
    }
    return x;
  };
  auto& tl = j["timeline"] = json::array();
  for (const auto& t : r.timeline) tl.push_back(row(t));
  auto& cr = j["cross_namespace"] = json::array();
  for (const auto& t : r.cross) cr.push_back(row(t));
  auto& bi = j["netns_births"] = json::array();
  for (const auto& b : r.births) {
    json d = json::array();
    for (const auto& x : b.differs)
      d.push_back({{"sysctl", x.sysctl}, {"value", x.value}, {"host", x.host}});
    bi.push_back({{"time", format_rfc3339(b.time_ns)},
                  {"netns", b.netns},
                  {"parent_netns", b.parent_netns},
                  {"via", b.via},
                  {"who", b.who},
                  {"group", b.group},
                  {"defaults", b.defaults},
                  {"differs_from_host", std::move(d)}});
  }
  auto& fw = j["failed_writes"] = json::array();
  for (const auto& t : r.failed_writes) fw.push_back(row(t));
  auto& uw = j["unknown_writes"] = json::array();
  for (const auto& t : r.unknown_writes) uw.push_back(row(t));
  auto drift_row = [](const DriftRow& d) {
    json x = {{"scope", d.scope},
              {"sysctl", d.sysctl},
              {"baseline", d.has_baseline ? json(d.baseline) : json(nullptr)},
              {"final", d.final_value},
              {"changed_by", d.changed_by},
              {"time", format_rfc3339(d.time_ns)}};
    if (!d.volatile_reason.empty()) x["reason"] = d.volatile_reason;
    return x;
  };
  auto& dr = j["drift"] = json::array();
  for (const auto& d : r.drift) dr.push_back(drift_row(d));
  auto& vo = j["volatile"] = json::array();
  for (const auto& d : r.volatile_drift) vo.push_back(drift_row(d));
  if (r.policy_files) {
    auto& pj = j["policy"] = json::object();
    pj["files"] = *r.policy_files;
    auto& pd = pj["drift"] = json::array();
    for (const auto& d : r.policy_drift)
      pd.push_back({{"scope", d.scope},
                    {"sysctl", d.sysctl},
                    {"expected", d.expected},
                    {"value", d.value},
                    {"policy", d.policy},
                    {"changed_by", d.changed_by},
                    {"time", d.time_ns ? json(format_rfc3339(d.time_ns)) : json(nullptr)}});
  }
  auto& rc = j["reconnaissance"] = json::array();
  for (const auto& x : r.recon)
    rc.push_back({{"who", x.who},
                  {"group", x.group},
                  {"pid", x.pid},
                  {"sysctls", x.sysctls},
                  {"reads", x.reads},
                  {"first", format_rfc3339(x.first_ns)},
                  {"last", format_rfc3339(x.last_ns)}});
  sections_json(r, SectionPlace::Last, j);
  auto& gr = j["by_container"] = json::object();
  for (const auto& [k, g] : r.groups)
    gr[k] = {{"writes", g.writes},
             {"failed_writes", g.failed_writes},
             {"blocked", g.blocked},
             {"netns_births", g.births},
             {"cross_namespace_in", g.cross_in},
             {"recon_processes", g.recon}};
  return j;
}

}  // namespace

void ReportDocument::write(JsonOutput& o) const { o.value(report_json(r_), 2); }

// ------------------------------------------------------------------ text ---

namespace {

std::string ts(std::string_view s) { return terminal_safe(s); }

std::string report_text(const Report& r) {
  std::string o;
  o += "sysctlscope forensic report\n\n";
  if (r.lost)
    o += "!! " + std::to_string(r.lost) + " EVENTS LOST (kernel ring buffer full, " +
         std::to_string(r.lost_events) + " loss reports): the timeline below is incomplete !!\n\n";
  else
    o += "Lost events: 0\n\n";
  for (const auto& w : r.warnings) o += "warning: " + ts(w) + "\n";
  if (!r.warnings.empty()) o += "\n";
  sections_text(r, SectionPlace::First, o);
  o += "== Sessions\n";
  for (const auto& s : r.sessions) {
    o += "  " + ts(json_text(s, "file")) + ": host " + ts(json_text(s, "hostname")) + ", kernel " +
         ts(json_text(s, "kernel_release")) + ", boot " + ts(json_text(s, "boot_id")) + "\n";
    o += "    " + ts(json_text(s, "start")) + " .. " +
         (s["end"].is_null() ? "?" : ts(json_text(s, "end"))) + " (" +
         ts(json_text(s, "end_reason")) + "), " + json_text(s, "events") + " events\n";
    o += "    command: " + ts(json_text(s, "command_line")) + "\n";
  }
  auto row = [&](const TimelineRow& t) {
    std::string s = "  " + hms(t.time_ns) + "  " + (t.kind == "write" ? "WRITE  " : "BLOCKED") +
                    "  " + ts(t.who) + "  in " + ts(t.where) + "  " + ts(t.sysctl);
    if (t.applied())
      s += ": " + ts(t.old_value) + " -> " + ts(t.value) +
           (t.stored.empty() ? "" : " (stored " + ts(t.stored) + ")") + " [ok]";
    else if (t.kind == "write" && t.result == "unknown")
      s += ": wrote " + ts(t.value) + " (was " + ts(t.old_value) + "), outcome unknown [unknown]";
    else if (t.kind == "write" && !t.stored.empty())
      s += ": refused " + ts(t.value) + " (was " + ts(t.old_value) + ", stored " + ts(t.stored) +
           ") [" + ts(t.result) + "]";
    else if (t.kind == "write")
      s += ": refused " + ts(t.value) + " (stays " + ts(t.old_value) + ") [" + ts(t.result) + "]";
    else
      s += ": " + ts(t.result) + " " + ts(t.detail);
    if (t.cross_namespace) s += "  (host into container)";
    return s + "\n";
  };
  o += "\n== Timeline of writes and blocked writes (" + std::to_string(r.timeline.size()) + ")\n";
  for (const auto& t : r.timeline) o += row(t);
  o += "\n== Host-into-container writes (" + std::to_string(r.cross.size()) + ")\n";
  for (const auto& t : r.cross) o += row(t);
  o += "\n== Network namespace births (" + std::to_string(r.births.size()) + ")\n";
  for (const auto& b : r.births) {
    o += "  " + hms(b.time_ns) + "  netns " + std::to_string(b.netns) + " via " + ts(b.via) +
         " by " + ts(b.who) + " (parent " + std::to_string(b.parent_netns) + ", " +
         std::to_string(b.defaults) + " defaults)\n";
    for (const auto& d : b.differs)
      o += "      " + ts(d.sysctl) + " = " + ts(d.value) + " (host: " + ts(d.host) + ")\n";
  }
  o += "\n== Failed writes: refused, the value did not change (" +
       std::to_string(r.failed_writes.size()) + ")\n";
  for (const auto& t : r.failed_writes) o += row(t);
  o += "\n== Writes of unknown outcome: not counted as changes (" +
       std::to_string(r.unknown_writes.size()) + ")\n";
  for (const auto& t : r.unknown_writes) o += row(t);
  o += "\n== Drift from the baseline (" + std::to_string(r.drift.size()) + ")\n";
  for (const auto& d : r.drift)
    o += "  " + ts(d.scope) + "  " + ts(d.sysctl) + ": " +
         (d.has_baseline ? ts(d.baseline) : "(no baseline)") + " -> " + ts(d.final_value) +
         "  by " + ts(d.changed_by) + "\n";
  // Collapsed to one line each: these change by themselves.
  o += "\n== Volatile sysctls: changed by themselves, not drift (" +
       std::to_string(r.volatile_drift.size()) + ")\n";
  for (const auto& d : r.volatile_drift)
    o += "  " + ts(d.scope) + "  " + ts(d.sysctl) + "  (" + ts(d.volatile_reason) + ")\n";
  if (r.policy_files) {
    o += "\n== Drift from the recorded policy (" + std::to_string(r.policy_drift.size()) + ")\n";
    for (const auto& d : r.policy_drift)
      o += "  " + ts(d.scope) + "  " + ts(d.sysctl) + " = " + ts(d.value) + " (expected " +
           ts(d.expected) + " by " + ts(d.policy) + ")  by " + ts(d.changed_by) + "\n";
  }
  o += "\n== Reconnaissance: reads of security-relevant sysctls (" +
       std::to_string(r.recon.size()) + ")\n";
  for (const auto& x : r.recon) {
    // Appended piece by piece: `"  " + hms(...)` makes GCC 12 at -O3 emit a
    // false -Wrestrict (PR 105329), which breaks Release builds with -Werror.
    o += "  ";
    o += hms(x.first_ns);
    o += "  ";
    o += ts(x.who);
    o += "  ";
    o += std::to_string(x.reads);
    o += " reads:";
    for (const auto& s : x.sysctls) {
      o += " ";
      o += ts(s);
    }
    o += "\n";
  }
  sections_text(r, SectionPlace::Last, o);
  o += "\n== By container\n";
  for (const auto& [k, g] : r.groups) {
    o += "  " + ts(k) + ": " + std::to_string(g.writes) + " writes (" +
         std::to_string(g.failed_writes) + " failed), " + std::to_string(g.blocked) + " blocked, " +
         std::to_string(g.births) + " netns births, " + std::to_string(g.cross_in) +
         " host writes into it, " + std::to_string(g.recon) + " recon processes\n";
    for (const auto& t : r.timeline)
      if (t.group == k) o += "  " + row(t);
  }
  return o;
}

}  // namespace

void ReportDocument::write(TextOutput& o) const { o.text(report_text(r_)); }

std::string render_text(const Report& r) { return render(ReportDocument(r), Format::Text); }
std::string render_json(const Report& r) { return render(ReportDocument(r), Format::Json); }
std::string render_html(const Report& r) { return render(ReportDocument(r), Format::Html); }

}  // namespace sysctlscope::forensics
