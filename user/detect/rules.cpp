// SPDX-License-Identifier: Apache-2.0
#include "detect/rules.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "detect/builtin_packs.hpp"
#include "model/actor.hpp"
#include "model/sysctl_path.hpp"

namespace sysctlscope::detect {

namespace {

Error bad(const std::string& source, const std::string& what) {
  return Error("load rule pack", source, 0, what);
}

// The pack schema (docs/rules.md): unknown keys are errors, so a typo in a
// user's pack is not a rule that silently never matches.
Expected<Rule> parse_rule(const nlohmann::json& j, const std::string& pack,
                          const std::string& source) {
  static const std::set<std::string> kKeys = {"id",      "severity", "technique", "description",
                                              "remediation", "sysctls", "scope", "origin",
                                              "changed_only", "safe"};
  if (!j.is_object()) return bad(source, "a rule is not an object");
  Rule r;
  r.pack = pack;
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) return bad(source, "unknown key \"" + k + "\"");
    (void)v;
  }
  auto str = [&](const char* k, std::string& out, bool required) -> std::optional<Error> {
    auto it = j.find(k);
    if (it == j.end()) {
      if (required) return bad(source, std::string("rule without \"") + k + "\"");
      return std::nullopt;
    }
    if (!it->is_string() || it->get<std::string>().empty())
      return bad(source, std::string("\"") + k + "\" must be a non-empty string");
    out = it->get<std::string>();
    return std::nullopt;
  };
  for (auto [k, out, req] : {std::tuple{"id", &r.id, true},
                             {"description", &r.description, true},
                             {"remediation", &r.remediation, true},
                             {"technique", &r.technique, false}})
    if (auto e = str(k, *out, req)) return *e;
  const std::string where = source + ": rule " + r.id;
  std::string sev;
  if (auto e = str("severity", sev, true)) return *e;
  auto s = parse_severity(sev);
  if (!s) return bad(where, "severity \"" + sev + "\" is not info, low, medium, high or critical");
  r.severity = *s;
  if (!r.technique.empty()) {
    // T1234 or T1234.001 (MITRE ATT&CK technique / sub-technique ids).
    const std::string& t = r.technique;
    bool ok = t.size() >= 5 && t[0] == 'T' &&
              std::all_of(t.begin() + 1, t.begin() + 5, [](char c) { return c >= '0' && c <= '9'; });
    if (ok && t.size() != 5)
      ok = t.size() == 9 && t[5] == '.' &&
           std::all_of(t.begin() + 6, t.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) return bad(where, "technique \"" + t + "\" is not an ATT&CK id (T1611, T1562.001)");
  }
  auto sy = j.find("sysctls");
  if (sy == j.end() || !sy->is_array() || sy->empty())
    return bad(where, "\"sysctls\" must be a non-empty list of names");
  for (const auto& n : *sy) {
    if (!n.is_string() || n.get<std::string>().empty())
      return bad(where, "\"sysctls\" entries must be non-empty strings");
    r.sysctls.push_back(normalize_sysctl_name(n.get<std::string>()));
  }
  if (auto it = j.find("scope"); it != j.end()) {
    if (*it != "host_global" && *it != "any")
      return bad(where, "\"scope\" must be \"host_global\" or \"any\"");
    r.host_global_only = *it == "host_global";
  }
  if (auto it = j.find("origin"); it != j.end()) {
    if (*it != "container" && *it != "any")
      return bad(where, "\"origin\" must be \"container\" or \"any\"");
    r.origin = *it == "container" ? Origin::Container : Origin::Any;
  }
  if (auto it = j.find("changed_only"); it != j.end()) {
    if (!it->is_boolean()) return bad(where, "\"changed_only\" must be true or false");
    r.changed_only = it->get<bool>();
  }
  if (auto it = j.find("safe"); it != j.end()) {
    if (!it->is_object() || it->empty())
      return bad(where, "\"safe\" must map sysctl names to their safe values");
    for (const auto& [name, vals] : it->items()) {
      const std::string n = normalize_sysctl_name(name);
      if (n.find_first_of("*?[") != std::string::npos)
        return bad(where, "\"safe\" names one sysctl, not a glob: \"" + name + "\"");
      if (!std::any_of(r.sysctls.begin(), r.sysctls.end(), [&](const std::string& p) {
            return ::fnmatch(p.c_str(), n.c_str(), 0) == 0;
          }))
        return bad(where, "\"safe\" names \"" + name + "\", which the rule's sysctls do not");
      std::vector<std::string> list;
      for (const auto& v : vals.is_array() ? vals : nlohmann::json::array({vals})) {
        if (!v.is_string()) return bad(where, "\"safe\" values must be strings");
        list.push_back(normalize_value(v.get<std::string>()));
      }
      if (list.empty()) return bad(where, "\"safe\": no value for \"" + name + "\"");
      r.safe.emplace_back(n, std::move(list));
    }
  }
  return r;
}

bool name_matches(const Rule& r, const std::string& sysctl) {
  if (r.host_global_only && scope_of(sysctl) != SysctlScope::Global) return false;
  for (const auto& p : r.sysctls)
    if (::fnmatch(p.c_str(), sysctl.c_str(), 0) == 0) return true;
  return false;
}

// From a container, or into a namespace the writer does not own.
bool from_container(const Event& e) { return e.container.has_value() || e.cross_namespace; }

}  // namespace

Expected<Pack> parse_pack(std::string_view text, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return bad(source, "not valid JSON");
  if (!j.is_object()) return bad(source, "a pack is an object");
  for (const auto& [k, v] : j.items()) {
    (void)v;
    if (k != "pack" && k != "description" && k != "rules")
      return bad(source, "unknown key \"" + k + "\"");
  }
  Pack p;
  p.source = source;
  if (!j.contains("pack") || !j["pack"].is_string() || j["pack"].get<std::string>().empty())
    return bad(source, "\"pack\" must name the pack");
  p.name = j["pack"].get<std::string>();
  if (j.contains("description")) {
    if (!j["description"].is_string()) return bad(source, "\"description\" must be a string");
    p.description = j["description"].get<std::string>();
  }
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty())
    return bad(source, "\"rules\" must be a non-empty list");
  std::set<std::string> ids;
  for (const auto& rj : j["rules"]) {
    auto r = parse_rule(rj, p.name, source);
    if (!r) return r.error();
    if (r->id.rfind(p.name + ".", 0) != 0)
      return bad(source, "rule id \"" + r->id + "\" must start with \"" + p.name + ".\"");
    if (!ids.insert(r->id).second) return bad(source, "rule id \"" + r->id + "\" repeated");
    p.rules.push_back(std::move(*r));
  }
  return p;
}

std::vector<std::string_view> builtin_pack_names() {
  std::vector<std::string_view> v;
  for (const auto& b : kBuiltinPacks) v.push_back(b.name);
  return v;
}

Expected<Pack> load_pack(const std::string& spec) {
  for (const auto& b : kBuiltinPacks)
    if (b.name == spec) return parse_pack(b.json, "builtin:" + spec);
  if (spec.find('/') == std::string::npos && spec.find('.') == std::string::npos) {
    std::string names;
    for (auto n : builtin_pack_names()) names += (names.empty() ? "" : ", ") + std::string(n);
    return bad(spec, "no such pack (built in: " + names + "; a file needs a path)");
  }
  std::ifstream f(spec);
  if (!f) return Error("open rule pack", spec, errno);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_pack(ss.str(), spec);
}

Expected<std::vector<Pack>> load_packs(const std::vector<std::string>& specs) {
  std::vector<Pack> out;
  std::set<std::string> names;
  for (const auto& spec : specs) {
    std::stringstream ss(spec);
    std::string one;
    while (std::getline(ss, one, ',')) {
      if (one.empty()) continue;
      auto p = load_pack(one);
      if (!p) return p.error();
      if (!names.insert(p->name).second) continue;  // "escape,escape"
      out.push_back(std::move(*p));
    }
  }
  if (out.empty()) return Error("load rule packs", "--rules", 0, "name at least one pack");
  return out;
}

std::string markdown_table(const std::vector<Pack>& packs) {
  std::string out =
      "| rule | severity | ATT&CK | sysctls | from | safe (`check --rules`) | description | "
      "remediation |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  auto cell = [](std::string s) {
    std::string o;
    for (char c : s) {
      if (c == '|') o += '\\';
      o += c;
    }
    return o;
  };
  for (const auto& p : packs)
    for (const auto& r : p.rules) {
      std::string names;
      for (const auto& n : r.sysctls) names += (names.empty() ? "`" : ", `") + n + "`";
      if (r.host_global_only) names += " (host-global only)";
      std::string from = r.origin == Origin::Container ? "container or foreign namespace" : "anyone";
      if (r.changed_only) from += ", value changed";
      std::string safe;
      for (const auto& [n, vals] : r.safe) {
        std::string alts;
        for (const auto& v : vals) alts += (alts.empty() ? "" : " or ") + v;
        safe += (safe.empty() ? "`" : ", `") + n + "` = " + alts;
      }
      out += "| `" + r.id + "` | " + std::string(severity_name(r.severity)) + " | " +
             (r.technique.empty() ? "-" : r.technique) + " | " + cell(names) + " | " + from +
             " | " + cell(safe.empty() ? "-" : safe) + " | " + cell(r.description) + " | " +
             cell(r.remediation) + " |\n";
    }
  return out;
}

size_t Detector::rule_count() const {
  size_t n = 0;
  for (const auto& p : packs_) n += p.rules.size();
  return n;
}

Detector::Audit Detector::audit(const ReadFn& read, uint64_t time_ns) const {
  Audit a;
  for (const auto& p : packs_)
    for (const auto& r : p.rules) {
      if (r.severity < min_) continue;
      for (const auto& [name, values] : r.safe) {
        auto now = read(name);
        if (!now) {
          ++a.absent;
          continue;
        }
        ++a.checked;
        const std::string v = normalize_value(*now);
        if (std::find(values.begin(), values.end(), v) != values.end()) continue;
        std::string want;
        for (const auto& s : values) want += (want.empty() ? "" : " or ") + s;
        Event d(Detection{.rule = r.id,
                          .pack = r.pack,
                          .severity = std::string(severity_name(r.severity)),
                          .technique = r.technique,
                          .description = r.description,
                          .remediation = r.remediation,
                          .sysctl = name,
                          .trigger = "check",
                          .value = *now,
                          .result = "unsafe (safe: " + want + ")"});
        d.time_ns = time_ns;
        a.detections.push_back(std::move(d));
      }
    }
  std::stable_sort(a.detections.begin(), a.detections.end(), [](const Event& x, const Event& y) {
    return *parse_severity(x.as<Detection>().severity) > *parse_severity(y.as<Detection>().severity);
  });
  return a;
}

std::vector<Event> Detector::match(const Event& e) const {
  std::vector<Event> out;
  const auto* w = e.get_if<SysctlWrite>();
  const auto* b = e.get_if<SysctlBlocked>();
  if (!w && !b) return out;
  const std::string& sysctl = w ? w->sysctl : b->sysctl;
  // A write that failed or was refused changed nothing: an attempt, caught.
  const bool blocked = b || w->denied || SysctlWrite::failed(*w);
  const bool changed = w && !w->old_truncated && !w->value_truncated &&
                       w->old_value != w->value;
  std::vector<const Rule*> hits;
  for (const auto& p : packs_)
    for (const auto& r : p.rules) {
      if (r.severity < min_ || !name_matches(r, sysctl)) continue;
      if (r.origin == Origin::Container && !from_container(e)) continue;
      if (r.changed_only && !blocked && !changed) continue;
      hits.push_back(&r);
    }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Rule* a, const Rule* c) { return a->severity > c->severity; });
  for (const Rule* r : hits) {
    Event d(Detection{.rule = r->id,
                      .pack = r->pack,
                      .severity = std::string(severity_name(r->severity)),
                      .technique = r->technique,
                      .description = r->description,
                      .remediation = r->remediation,
                      .sysctl = sysctl,
                      .trigger = std::string(to_string(e.type())),
                      .value = w ? w->value : std::string(),
                      .old_value = w ? w->old_value : std::string(),
                      .result = w ? to_string(w->result) : b->err,
                      .blocked = blocked});
    copy_actor(e, d);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace sysctlscope::detect
