// SPDX-License-Identifier: Apache-2.0
// Self-contained HTML report: inline CSS and SVG, no script, no external
// resource, every recorded string escaped (values are attacker-controlled).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "forensics/report.hpp"
#include "output/escape.hpp"

namespace sysctlscope::forensics {

std::string html_escape(std::string_view bytes) {
  // terminal_safe() first: invalid UTF-8 and control/bidi characters become
  // visible escapes, so nothing can reorder or hide text in the page.
  std::string safe = terminal_safe(bytes), out;
  out.reserve(safe.size());
  for (char c : safe) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {

std::string hm(uint64_t ns) {
  std::string t = format_rfc3339(ns);
  return t.size() >= 19 ? t.substr(11, 8) : t;
}
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

const char* kCss =
    R"(body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a202c;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #cbd5e0}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#edf2f7}td.v{font-family:monospace;overflow-wrap:anywhere;min-width:4ch}tr.failed td{background:#fff5f5}tr.unknown td{background:#f7fafc;color:#4a5568}tr.cross td{background:#fffaf0}
.lost{background:#c53030;color:#fff;padding:10px;font-weight:bold;font-size:16px}.ok{background:#f0fff4;border:1px solid #9ae6b4;padding:8px}
.warn{background:#fffbeb;border:1px solid #f6e05e;padding:6px;margin:4px 0;font-family:monospace}
svg text{font:12px system-ui,sans-serif}.legend span{margin-right:16px})";

std::string page(const Report& r) {
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'\">"
       "<title>sysctlscope forensic report</title><style>";
  o += kCss;
  o += "</style></head><body>\n<h1>sysctlscope forensic report</h1>\n";
  if (r.lost)
    o += "<div class=\"lost\" id=\"lost\">" + std::to_string(r.lost) + " events LOST (" +
         std::to_string(r.lost_events) +
         " loss reports): the kernel ring buffer was full; the timeline is incomplete.</div>\n";
  else
    o += "<div class=\"ok\" id=\"lost\">No events lost.</div>\n";
  for (const auto& w : r.warnings)
    o += "<div class=\"warn\">warning: " + html_escape(w) + "</div>\n";

  sections_html(r, SectionPlace::First, o);
  o += "<h2>Sessions</h2>\n<table "
       "id=\"sessions\"><tr><th>file</th><th>host</th><th>kernel</th><th>boot id</th>"
       "<th>start</th><th>end</th><th>ended because</th><th>events</th><th>command</th></tr>\n";
  for (const auto& s : r.sessions)
    o += "<tr><td>" + html_escape(json_text(s, "file")) + "</td><td>" +
         html_escape(json_text(s, "hostname")) + "</td><td>" +
         html_escape(json_text(s, "kernel_release")) + "</td><td class=\"v\">" +
         html_escape(json_text(s, "boot_id")) + "</td><td>" + html_escape(json_text(s, "start")) +
         "</td><td>" + html_escape(json_text(s, "end")) + "</td><td>" +
         html_escape(json_text(s, "end_reason")) + "</td><td>" +
         html_escape(json_text(s, "events")) + "</td><td class=\"v\">" +
         html_escape(json_text(s, "command_line")) + "</td></tr>\n";
  o += "</table>\n";

  // ---- timeline chart: one lane per container (host first), time on x.
  std::vector<std::string> lanes;
  auto lane_of = [&](const std::string& g) {
    auto it = std::find(lanes.begin(), lanes.end(), g);
    if (it != lanes.end()) return static_cast<size_t>(it - lanes.begin());
    lanes.push_back(g);
    return lanes.size() - 1;
  };
  lane_of("host");
  for (const auto& t : r.timeline) lane_of(t.group);
  for (const auto& b : r.births) lane_of(b.group);
  std::sort(lanes.begin() + 1, lanes.end());
  const double left = 260, width = 1000, plot = width - left - 20, lane_h = 30, top = 34;
  const double height = top + lane_h * static_cast<double>(lanes.size()) + 30;
  uint64_t t0 = r.start_ns, t1 = std::max(r.end_ns, r.start_ns + 1);
  auto x_of = [&](uint64_t t) {
    double f = t <= t0 ? 0.0 : static_cast<double>(t - t0) / static_cast<double>(t1 - t0);
    return left + std::min(1.0, f) * plot;
  };
  auto y_of = [&](const std::string& g) {
    return top + lane_h * static_cast<double>(lane_of(g)) + lane_h / 2;
  };
  o += "<h2>Timeline</h2>\n<div class=\"legend\"><span style=\"color:#2b6cb0\">&#9679; write</span>"
       "<span style=\"color:#c53030\">&#9679; failed write</span>"
       "<span style=\"color:#718096\">&#9679; outcome unknown</span>"
       "<span style=\"color:#2b6cb0\">&#10122; n events at once</span><span "
       "style=\"color:#c53030\">&#9632; blocked write</span>"
       "<span style=\"color:#dd6b20\">&#9675; host into container</span><span "
       "style=\"color:#2f855a\">&#9670; netns birth</span>"
       "<span style=\"color:#c53030\">&#8942; events lost</span></div>\n";
  o += "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) +
       "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
       "\" role=\"img\" aria-label=\"timeline\">\n";
  for (size_t i = 0; i < lanes.size(); ++i) {
    double y = top + lane_h * static_cast<double>(i);
    o += "<rect x=\"0\" y=\"" + num(y) + "\" width=\"" + num(width) + "\" height=\"" + num(lane_h) +
         "\" fill=\"" + (i % 2 ? "#f7fafc" : "#ffffff") + "\"/>";
    std::string label = lanes[i].size() > 40 ? lanes[i].substr(0, 40) + "..." : lanes[i];
    o += "<text x=\"6\" y=\"" + num(y + lane_h / 2 + 4) + "\">" + html_escape(label) + "</text>\n";
  }
  // Short sessions need milliseconds on the axis to tell ticks apart.
  const bool fine = t1 - t0 < 20'000'000'000ull;
  for (int k = 0; k <= 4; ++k) {
    uint64_t t = t0 + (t1 - t0) / 4 * static_cast<uint64_t>(k);
    double x = x_of(t);
    const char* anchor = k == 0 ? "start" : k == 4 ? "end" : "middle";
    o += "<line x1=\"" + num(x) + "\" y1=\"" + num(top - 4) + "\" x2=\"" + num(x) + "\" y2=\"" +
         num(height - 26) + "\" stroke=\"#cbd5e0\"/><text x=\"" + num(x) + "\" y=\"" +
         num(top - 10) + "\" text-anchor=\"" + anchor + "\">" + (fine ? hms(t) : hm(t)) +
         "</text>\n";
  }
  // Events closer than a marker's width in one lane become one numbered
  // marker (hundreds of writes in one second stay one readable mark); the
  // tables below list each of them.
  const double bucket_px = 14;
  std::map<std::pair<size_t, long>, std::vector<const TimelineRow*>> buckets;
  for (const auto& t : r.timeline)
    buckets[{lane_of(t.group), static_cast<long>((x_of(t.time_ns) - left) / bucket_px)}].push_back(&t);
  for (const auto& [key, rows_in] : buckets) {
    const TimelineRow& t = *rows_in.front();
    double y = y_of(t.group);
    if (rows_in.size() == 1) {
      double x = x_of(t.time_ns);
      std::string what = t.applied() ? t.old_value + " -> " + t.value
                                     : (t.kind == "write" ? "attempted " + t.value : t.detail);
      std::string tip = "<title>" +
                        html_escape(hms(t.time_ns) + " " + t.who + " " + t.sysctl + " " + what +
                                    " [" + t.result + "] in " + t.where) +
                        "</title>";
      std::string color = t.failed ? "#c53030" : t.result == "unknown" ? "#718096" : "#2b6cb0";
      if (t.kind == "blocked")
        o += "<rect class=\"m-blocked\" x=\"" + num(x - 5) + "\" y=\"" + num(y - 5) +
             "\" width=\"10\" height=\"10\" fill=\"" + color + "\">" + tip + "</rect>\n";
      else
        o += "<circle class=\"m-write\" cx=\"" + num(x) + "\" cy=\"" + num(y) +
             "\" r=\"6\" fill=\"" + color + "\"" +
             (t.cross_namespace ? " stroke=\"#dd6b20\" stroke-width=\"3\"" : "") + ">" + tip +
             "</circle>\n";
      continue;
    }
    size_t failed = 0, blocked = 0, unknown = 0, cross = 0;
    std::map<std::string, size_t> names;
    for (const TimelineRow* x : rows_in) {
      failed += x->failed && x->kind == "write";
      blocked += x->kind == "blocked";
      unknown += x->result == "unknown";
      cross += x->cross_namespace;
      names[x->sysctl]++;
    }
    std::string tip = hms(rows_in.front()->time_ns) + " .. " + hms(rows_in.back()->time_ns) + ": " +
                      std::to_string(rows_in.size()) + " events (" + std::to_string(failed) +
                      " failed, " + std::to_string(blocked) + " blocked, " +
                      std::to_string(unknown) + " unknown, " + std::to_string(cross) +
                      " host into container)";
    size_t shown = 0;
    for (const auto& [n, c] : names) {
      if (shown++ == 8) {
        tip += "\n...";
        break;
      }
      tip += "\n" + n + " x" + std::to_string(c);
    }
    double x = left + (static_cast<double>(key.second) + 0.5) * bucket_px;
    std::string color = failed || blocked ? "#c53030" : "#2b6cb0";
    o += "<g class=\"m-cluster\" data-count=\"" + std::to_string(rows_in.size()) +
         "\"><circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"10\" fill=\"" + color + "\"" +
         (cross ? " stroke=\"#dd6b20\" stroke-width=\"3\"" : "") + "/><text x=\"" + num(x) +
         "\" y=\"" + num(y + 4) +
         "\" text-anchor=\"middle\" fill=\"#fff\" style=\"font-size:9px;font-weight:bold\">" +
         (rows_in.size() > 999 ? std::string("1k+") : std::to_string(rows_in.size())) +
         "</text><title>" + html_escape(tip) + "</title></g>\n";
  }
  // Losses cut across every lane: nothing is known there.
  for (const auto& [t, c] : r.losses) {
    double x = x_of(t);
    o += "<line class=\"m-lost\" x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) +
         "\" y2=\"" + num(height - 26) +
         "\" stroke=\"#c53030\" stroke-width=\"2\" stroke-dasharray=\"4 3\"><title>" + hms(t) +
         " " + std::to_string(c) + " events lost</title></line>\n";
  }
  for (const auto& b : r.births) {
    double x = x_of(b.time_ns), y = y_of(b.group);
    o += "<polygon class=\"m-birth\" points=\"" + num(x) + "," + num(y - 7) + " " + num(x + 7) +
         "," + num(y) + " " + num(x) + "," + num(y + 7) + " " + num(x - 7) + "," + num(y) +
         "\" fill=\"#2f855a\"><title>" +
         html_escape(hms(b.time_ns) + " netns " + std::to_string(b.netns) + " born via " + b.via +
                     " by " + b.who) +
         "</title></polygon>\n";
  }
  o += "<text x=\"" + num(left) + "\" y=\"" + num(height - 8) + "\">" +
       html_escape(format_rfc3339(t0)) + "</text><text x=\"" + num(width - 20) + "\" y=\"" +
       num(height - 8) + "\" text-anchor=\"end\">" + html_escape(format_rfc3339(t1)) +
       "</text>\n</svg>\n";

  auto rows = [&](const std::vector<TimelineRow>& v, const std::string& id,
                  const std::string* only) {
    std::string s =
        "<table id=\"" + id +
        "\"><tr><th>time (UTC)</th><th>kind</th><th>who</th><th>where (netns owner)</th>"
        "<th>sysctl</th><th>old</th><th>new</th><th>result</th></tr>\n";
    for (const auto& t : v) {
      if (only && t.group != *only) continue;
      std::string cls = t.failed ? "failed" : (t.cross_namespace ? "cross" : "");
      if (t.result == "unknown") cls = "unknown";
      // A write that did not (or may not) take effect shows what was
      // attempted, never a new value.
      std::string now = t.kind != "write" ? html_escape(t.detail)
                        : t.applied()     ? html_escape(t.stored.empty() ? t.value : t.stored)
                        : !t.stored.empty()
                            ? html_escape(t.stored) + ", refused after storing part of: " +
                                  html_escape(t.value)
                        : t.result == "unknown"
                            ? "<i>unknown</i>, attempted: " + html_escape(t.value)
                            : "<i>unchanged</i>, refused: " + html_escape(t.value);
      s += "<tr class=\"" + cls + "\"><td>" + hms(t.time_ns) + "</td><td>" + t.kind +
           (t.cross_namespace ? " (host into container)" : "") + "</td><td>" + html_escape(t.who) +
           "</td><td>" + html_escape(t.where) + "</td><td class=\"v\">" + html_escape(t.sysctl) +
           "</td><td class=\"v\">" + html_escape(t.old_value) + "</td><td class=\"v\">" + now +
           "</td><td>" + html_escape(t.result) + "</td></tr>\n";
    }
    return s + "</table>\n";
  };
  o += "<h2>Writes and blocked writes (" + std::to_string(r.timeline.size()) + ")</h2>\n" +
       rows(r.timeline, "timeline", nullptr);
  o += "<h2>Host-into-container writes (" + std::to_string(r.cross.size()) + ")</h2>\n" +
       rows(r.cross, "cross", nullptr);

  o += "<h2>Network namespace births (" + std::to_string(r.births.size()) +
       ")</h2>\n<table id=\"births\"><tr><th>time</th>"
       "<th>netns</th><th>via</th><th>who</th><th>parent</th><th>defaults that differ from the "
       "host</th></tr>\n";
  for (const auto& b : r.births) {
    std::string d;
    for (const auto& x : b.differs)
      d += html_escape(x.sysctl) + " = " + html_escape(x.value) + " (host " + html_escape(x.host) +
           ")<br>";
    o += "<tr><td>" + hms(b.time_ns) + "</td><td>" + std::to_string(b.netns) + "</td><td>" +
         html_escape(b.via) + "</td><td>" + html_escape(b.who) + "</td><td>" +
         std::to_string(b.parent_netns) + "</td><td class=\"v\">" + d + "</td></tr>\n";
  }
  o += "</table>\n<h2>Failed writes: refused, the value did not change (" +
       std::to_string(r.failed_writes.size()) + ")</h2>\n" +
       rows(r.failed_writes, "failed-writes", nullptr);
  o += "<h2>Writes of unknown outcome: not counted as changes (" +
       std::to_string(r.unknown_writes.size()) + ")</h2>\n" +
       rows(r.unknown_writes, "unknown-writes", nullptr);
  auto drift_table = [&](const std::vector<DriftRow>& v, const char* id, bool reason) {
    std::string s = std::string("<table id=\"") + id +
                    "\"><tr><th>scope</th><th>sysctl</th><th>baseline</th><th>final</th><th>" +
                    (reason ? "why it changes by itself" : "changed by") + "</th></tr>\n";
    for (const auto& d : v)
      s += "<tr><td>" + html_escape(d.scope) + "</td><td class=\"v\">" + html_escape(d.sysctl) +
           "</td><td class=\"v\">" + (d.has_baseline ? html_escape(d.baseline) : "<i>none</i>") +
           "</td><td class=\"v\">" + html_escape(d.final_value) + "</td><td>" +
           html_escape(reason ? d.volatile_reason : d.changed_by) + "</td></tr>\n";
    return s + "</table>\n";
  };
  o += "<h2>Drift from the baseline (" + std::to_string(r.drift.size()) + ")</h2>\n" +
       drift_table(r.drift, "drift", false);
  // Collapsed: these change by themselves and would drown the drift above.
  o += "<details id=\"volatile\"><summary>Volatile sysctls: changed by themselves, not drift (" +
       std::to_string(r.volatile_drift.size()) + ")</summary>\n" +
       drift_table(r.volatile_drift, "volatile-table", true) + "</details>\n";
  if (r.policy_files) {
    o += "<h2>Drift from the recorded policy (" + std::to_string(r.policy_drift.size()) +
         ")</h2>\n<table id=\"policy_drift\"><tr><th>scope</th><th>sysctl</th><th>value</th>"
         "<th>expected</th><th>rule</th><th>changed by</th></tr>\n";
    for (const auto& d : r.policy_drift)
      o += "<tr><td>" + html_escape(d.scope) + "</td><td class=\"v\">" + html_escape(d.sysctl) +
           "</td><td class=\"v\">" + html_escape(d.value) + "</td><td class=\"v\">" +
           html_escape(d.expected) + "</td><td>" + html_escape(d.policy) + "</td><td>" +
           html_escape(d.changed_by) + "</td></tr>\n";
    o += "</table>\n";
  }
  o += "<h2>Reconnaissance: reads of security-relevant sysctls (" +
       std::to_string(r.recon.size()) +
       ")</h2>\n<table "
       "id=\"recon\"><tr><th>first</th><th>who</th><th>reads</th><th>sysctls</th></tr>\n";
  for (const auto& x : r.recon) {
    std::string s;
    for (const auto& n : x.sysctls) s += (s.empty() ? "" : ", ") + html_escape(n);
    o += "<tr><td>" + hms(x.first_ns) + "</td><td>" + html_escape(x.who) + "</td><td>" +
         std::to_string(x.reads) + "</td><td class=\"v\">" + s + "</td></tr>\n";
  }
  o += "</table>\n";
  sections_html(r, SectionPlace::Last, o);
  o += "<h2>By container</h2>\n<table "
       "id=\"groups\"><tr><th>container</th><th>writes</th><th>failed</th>"
       "<th>blocked</th><th>netns births</th><th>host writes into it</th><th>recon "
       "processes</th></tr>\n";
  for (const auto& [k, g] : r.groups)
    o += "<tr><td>" + html_escape(k) + "</td><td>" + std::to_string(g.writes) + "</td><td>" +
         std::to_string(g.failed_writes) + "</td><td>" + std::to_string(g.blocked) + "</td><td>" +
         std::to_string(g.births) + "</td><td>" + std::to_string(g.cross_in) + "</td><td>" +
         std::to_string(g.recon) + "</td></tr>\n";
  o += "</table>\n";
  for (const auto& [k, g] : r.groups) {
    if (!g.writes && !g.blocked) continue;
    o += "<h3>" + html_escape(k) + "</h3>\n" +
         rows(r.timeline, "group-" + std::to_string(lane_of(k)), &k);
  }
  o += "</body></html>\n";
  return o;
}

}  // namespace

void ReportDocument::write(HtmlOutput& o) const { o.html(page(r_)); }

}  // namespace sysctlscope::forensics
