// SPDX-License-Identifier: Apache-2.0
// The recording file (docs/recording.md): JSON lines written by `record`,
// read back by `report` and `replay`. The reader never trusts its input:
// truncated, corrupted, foreign and future-version files end in one clear
// error naming file and line, or in warnings and a partial recording.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/event.hpp"

namespace sysctlscope::forensics {

inline constexpr std::string_view kFormat = "sysctlscope-recording";
inline constexpr int kFormatVersion = 1;

// One `baseline` line: the sysctl values of one namespace at session start.
struct Baseline {
  std::string scope;  // "host" or "netns"
  NetnsInode netns = 0;
  std::optional<ContainerInfo> container;  // owner of a non-host netns
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> errors;  // sysctl -> errno name
  std::string error;                          // the whole namespace could not be read
  // Names whose value changed between two back-to-back reads of this
  // baseline with no write in between: they change by themselves.
  std::vector<std::string> volatile_names;
};

struct Session {
  std::string file;
  nlohmann::ordered_json start;               // session_start line
  std::optional<nlohmann::ordered_json> end;  // session_end line, if the recorder finished
  std::vector<Baseline> baselines;
  size_t first_event = 0, events = 0;  // slice of Recording::events
  uint64_t lines = 0;
  bool incomplete_tail = false;  // the last line was cut (killed mid-write)
};

struct Recording {
  std::vector<Session> sessions;
  std::vector<Event> events;
  std::vector<std::string> warnings;  // "FILE:LINE: what" lines for stderr and the report
  uint64_t skipped_lines = 0;         // corrupted or unknown lines ignored
};

// Parses one file's bytes (`name` is used in messages) and appends it to
// `rec`. Throws UsageError("name:line: reason") when the file cannot be a
// sound recording; soft damage becomes warnings.
void parse_recording(std::string_view data, const std::string& name, Recording& rec);

// Reads and parses the files in order (throws UsageError / Error).
Recording read_recordings(const std::vector<std::string>& files);

// Line builders shared with `record` (and tests).
nlohmann::ordered_json baseline_json(const Baseline& b, uint64_t time_ns);

}  // namespace sysctlscope::forensics
