// SPDX-License-Identifier: Apache-2.0
// Detection rules: packs of rules (rules/*.json, built into the binary, or a
// user's file in the same form; docs/rules.md) and the matcher that turns a
// sysctl_write or sysctl_blocked into `detection` events. Pure: no I/O but
// reading a pack file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "model/event.hpp"

namespace sysctlscope::detect {

enum class Severity : uint8_t { Info, Low, Medium, High, Critical };
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

// Who a rule's writer must be.
enum class Origin : uint8_t {
  Any,        // anyone
  Container,  // a container, or any process writing into a namespace it does not own
};

struct Rule {
  std::string id, pack;
  Severity severity = Severity::Info;
  std::string technique;  // MITRE ATT&CK id, "" where none fits
  std::string description, remediation;
  std::vector<std::string> sysctls;  // dotted names, '*' and '?' globs
  bool host_global_only = false;     // "scope": "host_global"
  Origin origin = Origin::Any;
  bool changed_only = false;  // a completed write must change the value
  // "safe": the values each named sysctl may hold (whitespace-normalised);
  // `check --rules` reports a sysctl holding any other value.
  std::vector<std::pair<std::string, std::vector<std::string>>> safe;
};

struct Pack {
  std::string name, description;
  std::string source;  // "builtin" or the file
  std::vector<Rule> rules;
};

// A pack from its JSON text; the error names `source` and what is wrong.
Expected<Pack> parse_pack(std::string_view json, const std::string& source);
// The packs built into the binary (rules/*.json), by name.
std::vector<std::string_view> builtin_pack_names();
// A built-in pack's name or a file's path; a comma list is split by the caller.
Expected<Pack> load_pack(const std::string& name_or_file);

class Detector {
 public:
  Detector(std::vector<Pack> packs, Severity min_severity)
      : packs_(std::move(packs)), min_(min_severity) {}
  // The detection events `e` causes (one per matching rule, worst first);
  // nothing for other event types or below the minimum severity.
  std::vector<Event> match(const Event& e) const;
  // `check --rules`: one detection (trigger "check") per sysctl of a rule's
  // "safe" list that holds another value now. `read` gives a sysctl's value,
  // nullopt when it does not exist here (skipped, counted in `absent`).
  using ReadFn = std::function<std::optional<std::string>(const std::string&)>;
  struct Audit {
    std::vector<Event> detections;
    size_t checked = 0, absent = 0;
  };
  Audit audit(const ReadFn& read, uint64_t time_ns) const;
  const std::vector<Pack>& packs() const { return packs_; }
  size_t rule_count() const;

 private:
  std::vector<Pack> packs_;
  Severity min_;
};

// docs/rules.md's table of `packs` (Markdown; `sysctlscope rules --markdown`).
std::string markdown_table(const std::vector<Pack>& packs);

// --rules "escape,hardening,./mine.json" -> packs; the error names the pack.
Expected<std::vector<Pack>> load_packs(const std::vector<std::string>& specs);

}  // namespace sysctlscope::detect
