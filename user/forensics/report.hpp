// SPDX-License-Identifier: Apache-2.0
// The forensic report built from one or more recordings: a model (what
// happened) and a Document that each Output renders (text, JSON,
// self-contained HTML).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forensics/recording.hpp"
#include "output/output.hpp"

namespace sysctlscope::forensics {

// One row of the write timeline: a sysctl_write or a sysctl_blocked.
struct TimelineRow {
  uint64_t time_ns = 0;
  std::string kind;   // "write" or "blocked"
  std::string who;    // "host: nsenter[812]" or "container abc (pod ns/p): sh[9]"
  std::string group;  // container label the row is grouped under ("host" for host processes)
  std::string where;  // owner of the netns: "host netns", "container X", "netns N"
  std::string sysctl, old_value, value;
  std::string result;  // writes: ok/not_applied/errno/unknown; blocked: errno
  std::string detail;  // blocked: "read_only_mount path=/proc/sys/..."
  std::string stored;  // writes: the write's `stored` (what the kernel kept), "" = absent
  bool cross_namespace = false;
  bool failed = false;
  // Only a write whose result is `ok` changed the value; every other write
  // is shown as an attempt, never as old -> new.
  bool applied() const { return kind == "write" && result == "ok"; }
};

struct BirthRow {
  uint64_t time_ns = 0;
  NetnsInode netns = 0, parent_netns = 0;
  std::string who, group, via;
  size_t defaults = 0;
  struct Diff {
    std::string sysctl, value, host;
  };
  std::vector<Diff> differs;  // non-host defaults
};

struct DriftRow {
  std::string scope;  // "host", "netns N (container X)", "container X"
  std::string sysctl, baseline, final_value;
  bool has_baseline = true;
  std::string changed_by;  // who + time of the last write, or "unobserved (seen by a read)"
  uint64_t time_ns = 0;
  // Non-empty: the sysctl changes by itself and no write changed it; the row
  // is in Report::volatile_drift, not in Report::drift.
  std::string volatile_reason;
};

// A sysctl whose value at the end of the recording breaks the policy the
// recording carries (record --policy; docs/policy.md).
struct PolicyDriftRow {
  std::string scope;  // like DriftRow's
  std::string sysctl, expected, value, policy;  // policy: "file:line"
  std::string changed_by;  // the last write, or "before the session"
  uint64_t time_ns = 0;    // of that write; 0 when before the session
};

// A detection event (record --rules; docs/rules.md).
struct DetectionRow {
  uint64_t time_ns = 0;
  std::string rule, severity, technique, sysctl, who, group, result, description, remediation;
  bool blocked = false;
};

struct ReconRow {
  std::string who, group;
  uint32_t pid = 0;
  std::vector<std::string> sysctls;  // security-relevant sysctls it read
  uint64_t reads = 0;
  uint64_t first_ns = 0, last_ns = 0;
};

struct GroupSummary {
  uint64_t writes = 0, failed_writes = 0, blocked = 0, births = 0, cross_in = 0, recon = 0;
};

struct Report {
  nlohmann::ordered_json sessions = nlohmann::ordered_json::array();
  std::vector<std::string> warnings;
  uint64_t events = 0, lost = 0, lost_events = 0;
  std::vector<std::pair<uint64_t, uint64_t>> losses;  // (time, count)
  uint64_t start_ns = 0, end_ns = 0;
  std::vector<TimelineRow> timeline;
  std::vector<BirthRow> births;
  std::vector<TimelineRow> cross;  // host-into-container rows (also in timeline)
  std::vector<TimelineRow> failed_writes;   // writes refused: not_applied or an errno
  std::vector<TimelineRow> unknown_writes;  // writes whose outcome is not known
  std::vector<DriftRow> drift;
  std::vector<DriftRow> volatile_drift;  // changes of sysctls that change by themselves
  // Set when a recording carries a policy: its files, and what breaks it.
  std::optional<std::vector<std::string>> policy_files;
  std::vector<PolicyDriftRow> policy_drift;
  std::vector<ReconRow> recon;
  // Worst severity first, then in time order.
  std::vector<DetectionRow> detections;
  std::map<std::string, GroupSummary> groups;
};

// Sysctls whose reading is typical reconnaissance before an exploit.
bool is_security_relevant(const std::string& sysctl);
// Why a sysctl changes by itself (counters, random values), or nullptr.
const char* volatile_reason(const std::string& sysctl);

Report build_report(const Recording& rec);

// The report as a document: `report -o` picks the Output that renders it.
class ReportDocument final : public Document {
 public:
  explicit ReportDocument(const Report& r) : r_(r) {}
  void write(JsonOutput& o) const override;
  void write(TextOutput& o) const override;
  void write(HtmlOutput& o) const override;

 private:
  const Report& r_;
};
// The same, in memory (tests, the fuzzer).
std::string render_text(const Report& r);
std::string render_json(const Report& r);
std::string render_html(const Report& r);

// Sections an event type owns whole (its ReportSection<T> in report.cpp
// renders them), by where they go: First after the warnings (Detections),
// Last before "By container".
enum class SectionPlace { First, Last };
void sections_json(const Report& r, SectionPlace place, nlohmann::ordered_json& j);
void sections_text(const Report& r, SectionPlace place, std::string& o);
void sections_html(const Report& r, SectionPlace place, std::string& o);

// Helpers shared by the renderings.
// "11:00:29.123" (UTC) of a Unix time in ns.
std::string hms(uint64_t ns);
// A member of a session object as text: strings as they are, other values
// dumped as JSON, absent or null as "".
std::string json_text(const nlohmann::ordered_json& j, const char* key);

// HTML text/attribute escaping of arbitrary bytes (invalid UTF-8 -> U+FFFD,
// controls -> visible escapes): recorded values are hostile.
std::string html_escape(std::string_view bytes);

}  // namespace sysctlscope::forensics
