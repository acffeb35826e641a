// SPDX-License-Identifier: Apache-2.0
#include "forensics/recording.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <stdexcept>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "output/escape.hpp"
#include "output/json_lines.hpp"
#include "output/sink.hpp"

namespace sysctlscope::forensics {

using json = nlohmann::ordered_json;

namespace {

// Warnings printed one by one up to this many per file, then summarised:
// a badly damaged file must not flood the terminal.
constexpr int kMaxWarningsPerFile = 10;

std::string where(const std::string& name, uint64_t line) {
  return name + ":" + std::to_string(line) + ": ";
}

// A short, terminal-safe excerpt of hostile input for error messages.
std::string excerpt(std::string_view s) {
  std::string out = terminal_safe(s.substr(0, 40));
  if (s.size() > 40) out += "...";
  return out;
}

// Messages are built by appending: `"text '" + excerpt(s)` (a literal plus a
// temporary string) makes GCC 12 at -O3 emit a false -Wrestrict (PR 105329),
// which breaks Release builds with -Werror.
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  ((out += parts), ...);
  return out;
}

std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<ContainerInfo> container_of(const json& j) {
  auto it = j.find("container");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  ContainerInfo c;
  c.id = str(*it, "id");
  c.runtime = parse_runtime(str(*it, "runtime"));
  c.name = str(*it, "name");
  c.pod = str(*it, "pod");
  c.k8s_namespace = str(*it, "namespace");
  c.pod_uid = str(*it, "pod_uid");
  return c;
}

std::map<std::string, std::string> string_map(const json& j, const char* k, bool hex) {
  std::map<std::string, std::string> m;
  auto it = j.find(k);
  if (it == j.end()) return m;
  if (!it->is_object()) throw std::invalid_argument(std::string("'") + k + "' is not an object");
  for (auto v = it->begin(); v != it->end(); ++v) {
    if (!v->is_string())
      throw std::invalid_argument(std::string("'") + k + "' holds a non-string value");
    if (hex) {
      auto raw = hex_decode(v->get_ref<const std::string&>());
      if (!raw)
        throw std::invalid_argument(std::string("'") + k + "' holds a value that is not hex");
      m[v.key()] = *raw;
    } else {
      m[v.key()] = v->get<std::string>();
    }
  }
  return m;
}

Baseline parse_baseline(const json& j) {
  Baseline b;
  b.scope = str(j, "scope");
  if (b.scope != "host" && b.scope != "netns")
    throw std::invalid_argument("baseline scope must be host or netns");
  if (auto n = j.find("netns"); n != j.end() && n->is_number_unsigned())
    b.netns = n->get<NetnsInode>();
  b.container = container_of(j);
  b.values = string_map(j, "values", false);
  for (auto& [k, v] : string_map(j, "values_hex", true)) b.values[k] = v;
  b.errors = string_map(j, "errors", false);
  b.error = str(j, "error");
  if (auto v = j.find("volatile"); v != j.end() && v->is_array())
    for (const auto& n : *v)
      if (n.is_string()) b.volatile_names.push_back(n.get<std::string>());
  return b;
}

}  // namespace

json baseline_json(const Baseline& b, uint64_t time_ns) {
  json j = json::object();
  j["record"] = "baseline";
  j["time"] = format_rfc3339(time_ns);
  j["scope"] = b.scope;
  j["netns"] = b.netns;
  if (b.scope == "netns") {
    if (b.container) {
      j["container"] = {
          {"id", b.container->id}, {"runtime", name_of(b.container->runtime)}, {"name", b.container->name}};
    } else {
      j["container"] = nullptr;
    }
  }
  if (!b.error.empty()) j["error"] = b.error;
  json values = json::object(), hex = json::object(), errors = json::object();
  for (const auto& [k, v] : b.values) {
    // Invalid UTF-8 cannot go into JSON as is: U+FFFD in `values`, exact bytes in `values_hex`.
    if (is_valid_utf8(v)) {
      values[k] = v;
    } else {
      values[k] = "\xEF\xBF\xBD";
      hex[k] = hex_encode(v);
    }
  }
  for (const auto& [k, e] : b.errors) errors[k] = e;
  j["values"] = std::move(values);
  if (!hex.empty()) j["values_hex"] = std::move(hex);
  j["errors"] = std::move(errors);
  if (!b.volatile_names.empty()) j["volatile"] = b.volatile_names;
  return j;
}

void parse_recording(std::string_view data, const std::string& name, Recording& rec) {
  if (data.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw UsageError(name + ": empty file, not a sysctlscope recording");

  Session s;
  s.file = name;
  s.first_event = rec.events.size();
  uint64_t good = 0, bad = 0;
  int warned = 0;
  auto warn = [&](uint64_t line, const std::string& msg) {
    ++bad;
    ++rec.skipped_lines;
    if (warned++ < kMaxWarningsPerFile) rec.warnings.push_back(where(name, line) + msg);
  };

  const uint64_t lines = for_each_json_line(data, [&](const JsonLine& l, json& j) {
    const uint64_t line_no = l.number;
    if (l.damage != LineDamage::None) {
      if (line_no == 1) {
        if (l.damage == LineDamage::Cut && l.text.substr(0, 1) == "{")
          throw UsageError(where(name, 1) +
                           "file ends inside the session_start line: nothing was recorded");
        throw UsageError(where(name, 1) +
                         "not a sysctlscope recording (expected a JSON session_start line, got '" +
                         excerpt(l.text) + "')");
      }
      if (l.damage == LineDamage::Cut) {
        s.incomplete_tail = true;
        ++rec.skipped_lines;
        rec.warnings.push_back(where(name, line_no) + "last line is incomplete (" +
                               std::to_string(l.text.size()) +
                               " bytes): the recorder stopped mid-write; ignored");
      } else if (l.damage == LineDamage::NulBytes) {
        warn(line_no, "line of NUL bytes (unwritten blocks after a power loss?); ignored");
      } else {
        warn(line_no, "not a JSON object; ignored");
      }
      return;
    }

    if (line_no == 1) {
      // The header decides whether the file is ours and readable at all.
      if (str(j, "record") != "session_start")
        throw UsageError(
            where(name, 1) +
            "not a sysctlscope recording (the first line is not a session_start record" +
            (j.contains("event") ? "; an event stream from `trace -o json`? use `record`" : "") +
            ")");
      if (str(j, "format") != kFormat)
        throw UsageError(where(name, 1) + "not a sysctlscope recording (format '" +
                         excerpt(str(j, "format")) + "')");
      auto v = j.find("version");
      if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() < 1)
        throw UsageError(where(name, 1) + "session_start has no valid format version");
      if (v->get<int64_t>() > kFormatVersion)
        throw UsageError(where(name, 1) + "recording format version " +
                         std::to_string(v->get<int64_t>()) +
                         " is newer than this sysctlscope reads (" +
                         std::to_string(kFormatVersion) + "): upgrade sysctlscope");
      s.start = std::move(j);
      ++good;
      return;
    }

    std::string record = str(j, "record");
    auto bad_line = [&](const char* why) {
      std::string msg = "bad ";
      msg += record.empty() ? std::string("event") : excerpt(record) + " record";
      msg += ": ";
      msg += why;
      msg += "; ignored";
      warn(line_no, msg);
    };
    try {
      if (!record.empty()) {
        if (s.end) {
          warn(line_no, concat("'", excerpt(record), "' record after session_end; ignored"));
        } else if (record == "baseline") {
          s.baselines.push_back(parse_baseline(j));
          ++good;
        } else if (record == "session_end") {
          s.end = std::move(j);
          ++good;
        } else if (record == "session_start") {
          warn(line_no, "second session_start in one file; ignored");
        } else {
          warn(line_no, concat("unknown record type '", excerpt(record),
                               "' (written by a newer sysctlscope?); ignored"));
        }
        return;
      }
      if (!j.contains("event")) {
        warn(line_no, "neither an event nor a record; ignored");
        return;
      }
      if (s.end) {
        warn(line_no, "event after session_end; ignored");
        return;
      }
      Expected<Event> e = parse_event(j);
      if (!e) {
        bad_line(e.error().what());
        return;
      }
      rec.events.push_back(std::move(*e));
      ++good;
    } catch (const std::exception& e) {
      bad_line(e.what());  // a record's invalid field types (json::type_error)
    }
  });
  s.lines = lines;
  s.events = rec.events.size() - s.first_event;
  if (warned > kMaxWarningsPerFile)
    rec.warnings.push_back(name + ": " + std::to_string(warned - kMaxWarningsPerFile) +
                           " more damaged lines ignored");
  // Mostly garbage after a valid header is not a recording we can vouch for.
  if (bad > 16 && bad > good)
    throw UsageError(name + ": " + std::to_string(bad) + " of " + std::to_string(bad + good) +
                     " lines are damaged; not a usable recording");
  if (!s.end)
    rec.warnings.push_back(
        name +
        ": no session_end: the recorder did not finish (killed or crashed); the report covers " +
        std::to_string(s.events) + " events up to line " + std::to_string(lines));
  rec.sessions.push_back(std::move(s));
}

Recording read_recordings(const std::vector<std::string>& files) {
  Recording rec;
  for (const auto& f : files) {
    Fd fd(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw UsageError(terminal_safe(f) + ": cannot open: " + errno_name(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
      throw UsageError(terminal_safe(f) + ": not a regular file");
    std::string data;
    data.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw UsageError(terminal_safe(f) + ": read failed: " + errno_name(errno));
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    parse_recording(data, terminal_safe(f), rec);
  }
  return rec;
}

}  // namespace sysctlscope::forensics
