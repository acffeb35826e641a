// SPDX-License-Identifier: Apache-2.0
// `netns list`, `diff` and `explain`: one document each, which the Output of
// `-o` renders (a single JSON document, an aligned table or text); see
// docs/commands.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "netns/diff.hpp"
#include "netns/explain.hpp"
#include "netns/nsexec.hpp"
#include "netns/owners.hpp"
#include "output/escape.hpp"

namespace sysctlscope::cli {

namespace {

using Json = nlohmann::ordered_json;
using namespace sysctlscope::netns;

// Terminal-safe cell; tabs in array values (tcp_rmem) shown as spaces.
std::string cell(const std::optional<std::string>& v) {
  if (!v) return "-";
  std::string s = *v;
  std::replace(s.begin(), s.end(), '\t', ' ');
  return terminal_safe(s);
}

Json container_json(const std::optional<ContainerRef>& c) {
  if (!c) return nullptr;
  auto opt = [](const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); };
  return Json{{"id", c->info.id},
              {"runtime", name_of(c->info.runtime)},
              {"name", opt(c->info.name)},
              {"pod", opt(c->info.pod)},
              {"namespace", opt(c->info.k8s_namespace)},
              {"pid", c->pid}};
}

std::string container_cell(const std::optional<ContainerRef>& c) {
  if (!c) return "-";
  // The name when known (what users type), else the id.
  const ContainerInfo& i = c->info;
  return terminal_safe(std::string(name_of(i.runtime)) + ":" + (i.name.empty() ? i.id : i.name));
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// ------------------------------------------------------------ netns list ---
class ListDoc final : public Document {
 public:
  explicit ListDoc(const std::vector<NetnsInfo>& all) : all_(all) {}
  void write(JsonOutput& o) const override {
    Json arr = Json::array();
    for (const auto& n : all_)
      arr.push_back(Json{{"netns", n.inode},
                         {"host", n.host},
                         {"names", n.names},
                         {"container", container_json(n.owner)},
                         {"processes", n.processes},
                         {"pid", n.pid ? Json(n.pid) : Json(nullptr)}});
    o.value(Json{{"namespaces", arr}});
  }
  void write(TextOutput& o) const override {
    std::vector<std::vector<std::string>> rows{{"NETNS", "PROCS", "PID", "OWNER", "NAMES"}};
    for (const auto& n : all_)
      rows.push_back({std::to_string(n.inode), std::to_string(n.processes),
                      n.pid ? std::to_string(n.pid) : "-",
                      n.host ? "host" : container_cell(n.owner),
                      n.names.empty() ? "-" : terminal_safe(join(n.names, ","))});
    o.table(rows);
  }

 private:
  const std::vector<NetnsInfo>& all_;
};

int run_list(const std::string& flag) {
  auto out = open_output(flag);
  auto src = make_runtime_source();
  auto all = list_netns(*src);
  out->document(ListDoc(all));
  out->finish("write", "stdout");
  return 0;
}

// ------------------------------------------------------------------ diff ---
struct DiffArgs {
  std::string target, from, output;
  bool all = false;
};

std::string why(const DiffRow& r) {
  if (r.verdict != Verdict::Changed) return r.rule.evidence;
  std::string s;
  if (r.last_write) {
    const Event& e = *r.last_write;
    const auto& w = e.as<SysctlWrite>();
    s = "last write by " + e.comm + "[" + std::to_string(e.pid) + "]";
    if (e.container)
      s += " in container " + (e.container->name.empty() ? e.container->id : e.container->name);
    s += " at " + format_rfc3339(e.time_ns) + ": '" + w.old_value + "' -> '" + w.value + "' (" +
         to_string(w.result) + ")";
  } else {
    s = "differs from what a new netns gets";
    if (r.born) s = "differs from its birth value '" + *r.born + "'";
  }
  if (r.born && r.last_write) s += "; born with '" + *r.born + "'";
  return s;
}

Json write_json(const Event& e) {
  const auto& w = e.as<SysctlWrite>();
  Json c = nullptr;
  if (e.container)
    c = Json{{"id", e.container->id},
             {"runtime", name_of(e.container->runtime)},
             {"name", e.container->name.empty() ? Json(nullptr) : Json(e.container->name)}};
  return Json{{"time", format_rfc3339(e.time_ns)},
              {"proc", Json{{"pid", e.pid}, {"comm", e.comm}}},
              {"container", c},
              {"old_value", w.old_value},
              {"value", w.value},
              {"result", to_string(w.result)}};
}

// What `diff` found: the target, the kernel's context and the compared rows.
struct DiffDoc final : public Document {
  const DiffArgs& a;
  const Target& t;
  NetnsInode self;
  const KernelContext& k;
  const Recording* rec;
  const std::vector<DiffRow>& rows;
  size_t differing;

  DiffDoc(const DiffArgs& args, const Target& target, NetnsInode self_ns,
          const KernelContext& kernel, const Recording* recording,
          const std::vector<DiffRow>& compared, size_t n_differing)
      : a(args),
        t(target),
        self(self_ns),
        k(kernel),
        rec(recording),
        rows(compared),
        differing(n_differing) {}

  void write(JsonOutput& o) const override {
    Json out;
    out["target"] = Json{{"spec", t.spec},   {"kind", t.kind},
                         {"netns", t.inode}, {"pid", t.pid ? Json(t.pid) : Json(nullptr)},
                         {"names", t.names}, {"container", container_json(t.container)}};
    out["host_netns"] = self;
    out["devconf_inherit_init_net"] = k.devconf_mode;
    out["default_congestion_control"] = k.default_cc ? Json(*k.default_cc) : Json(nullptr);
    if (rec)
      out["recording"] = Json{{"file", a.from},
                              {"events", rec->events},
                              {"target_born", rec->born_at.count(t.inode)
                                                  ? Json(format_rfc3339(rec->born_at.at(t.inode)))
                                                  : Json(nullptr)}};
    out["compared"] = rows.size();
    out["differing"] = differing;
    Json arr = Json::array();
    for (const auto& r : rows) {
      if (!a.all && !r.differs) continue;
      Json row{{"sysctl", r.sysctl},
               {"host", r.host ? Json(*r.host) : Json(nullptr)},
               {"target", r.target ? Json(*r.target) : Json(nullptr)},
               {"fresh", r.fresh ? Json(*r.fresh) : Json(nullptr)},
               {"verdict", std::string(to_string(r.verdict))},
               {"birth", std::string(to_string(r.rule.birth))},
               {"evidence", r.rule.evidence}};
      if (r.fresh_from_default) row["fresh_from"] = "conf.default";
      if (r.born) row["born"] = *r.born;
      if (r.last_write) row["last_write"] = write_json(*r.last_write);
      arr.push_back(std::move(row));
    }
    out["rows"] = std::move(arr);
    o.value(out);
  }

  void write(TextOutput& o) const override {
    std::string head = "netns " + std::to_string(t.inode);
    if (t.container)
      head += ", container " + std::string(name_of(t.container->info.runtime)) + ":" +
              t.container->info.id;
    if (t.pid) head += ", pid " + std::to_string(t.pid);
    if (!t.names.empty()) head += ", " + join(t.names, ",");
    std::vector<std::vector<std::string>> table_rows{
        {"SYSCTL", "HOST", "TARGET", "FRESH", "VERDICT", "WHY"}};
    for (const auto& r : rows)
      if (a.all || r.differs)
        table_rows.push_back({terminal_safe(r.sysctl), cell(r.host), cell(r.target),
                              cell(r.fresh), std::string(to_string(r.verdict)),
                              terminal_safe(why(r))});
    o.text("# " + terminal_safe(head) + ": " + std::to_string(rows.size()) +
           " per-netns sysctls, " + std::to_string(differing) +
           " differ from the host or were changed\n");
    o.table(table_rows);
  }
};

int run_diff(const DiffArgs& a) {
  auto out = open_output(a.output);
  std::optional<Recording> rec;
  if (!a.from.empty()) rec = load_recording(a.from);
  auto src = make_runtime_source();
  Target t = resolve_target(a.target, *src);
  NetnsInode self = netns_inode_of_pid(getpid()), init = host_netns_inode();
  if (self != init)
    std::fprintf(
        stderr,
        "sysctlscope: warning: not running in the host netns (init_net); 'host' means netns %llu\n",
        static_cast<unsigned long long>(self));

  if (t.inode == self)
    std::fprintf(
        stderr,
        "sysctlscope: note: %s is the host netns itself: 'changed' rows are host values that a new "
        "netns would not get\n",
        terminal_safe(t.spec).c_str());
  auto target = read_net_sysctls_in(t.fd.get());
  if (!target)
    throw Error(target.error().op(), target.error().object(), 0,
                target.error().hint() + "; run as root");
  auto fresh = read_net_sysctls_fresh();
  if (!fresh)
    throw Error(fresh.error().op(), fresh.error().object(), 0,
                fresh.error().hint() + "; run as root");
  SysctlMap host = read_sysctl_tree("/proc/sys/net");
  KernelContext k = read_kernel_context();
  auto rows = compute_diff(host, *target, *fresh, k, rec ? &*rec : nullptr, t.inode);
  size_t differing = 0;
  for (const auto& r : rows) differing += r.differs;

  out->document(DiffDoc(a, t, self, k, rec ? &*rec : nullptr, rows, differing));
  out->finish("write", "stdout");
  return 0;
}

// --------------------------------------------------------------- explain ---
struct ExplainDoc final : public Document {
  explicit ExplainDoc(Json j) : e(std::move(j)) {}
  Json e;
  void write(JsonOutput& o) const override { o.value(e); }
  void write(TextOutput& o) const override { o.text(explanation_text(e)); }
};

int run_explain(const std::string& name, const std::string& flag) {
  auto out = open_output(flag, {.words = {"json", "text", "table"}});
  out->document(ExplainDoc(explain_sysctl(name)));
  out->finish("write", "stdout");
  return 0;
}

}  // namespace

void register_netns(CLI::App& app, Registry& reg) {
  auto* ns = app.add_subcommand("netns", "Network namespaces on this host");
  ns->require_subcommand(1);
  auto list_out = std::make_shared<std::string>();
  auto* list = ns->add_subcommand(
      "list", "Every network namespace: inode, names, owning container, processes");
  list->add_option("-o,--output", *list_out,
                   "json or table (default: table on a terminal, JSON otherwise)");
  list->footer(
      "Example:\n  sysctlscope netns list -o json | jq '.namespaces[] | select(.container)'");
  // Registered as `netns` (main() checks argv[1] against registered names);
  // require_subcommand makes `list` the one that was parsed.
  reg.add(ns, [list, list_out]() {
    if (!list->parsed()) throw UsageError("netns: missing subcommand (list)");
    return run_list(*list_out);
  });

  auto d = std::make_shared<DiffArgs>();
  auto* diff =
      app.add_subcommand("diff", "Per-netns sysctls of a namespace vs the host and a fresh netns");
  diff->add_option("TARGET", d->target,
                   "Container id or unique prefix, pid, netns inode, or /run/netns name")
      ->required();
  diff->add_flag("--all", d->all, "Every per-netns sysctl, not only the ones that differ");
  diff->add_option(
      "--from", d->from,
      "Recorded session (JSON lines from trace -o json): who changed what, birth values");
  diff->add_option("-o,--output", d->output,
                   "json or table (default: table on a terminal, JSON otherwise)");
  diff->footer(R"(Verdicts:
  inherited  a new netns copies the host's value
  reset      a new netns gets the kernel default; host changes never propagate
  same       a new netns starts with the host's value; copied or an equal default cannot be told
             without changing the host
  changed    the target differs from what a new netns gets (with --from: by whom and when)
Examples:
  sysctlscope diff 3f2a                 # a container by id prefix
  sysctlscope diff blue --all           # /run/netns/blue, every row
  sysctlscope diff 4242 --from session.jsonl)");
  reg.add(diff, [d]() { return run_diff(*d); });

  auto name = std::make_shared<std::string>();
  auto ex_out = std::make_shared<std::string>();
  auto* ex = app.add_subcommand("explain",
                                "Which namespace holds a sysctl and how to set it for a container");
  ex->add_option("NAME", *name,
                 "Sysctl name, dotted or slash (net.ipv4.tcp_keepalive_time, net/ipv4/...)")
      ->required();
  ex->add_option("-o,--output", *ex_out,
                 "json or text (default: text on a terminal, JSON otherwise)");
  reg.add(ex, [name, ex_out]() { return run_explain(*name, *ex_out); });
}

}  // namespace sysctlscope::cli
