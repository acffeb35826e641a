// SPDX-License-Identifier: Apache-2.0
// tests/corpus/kernel_writes.tsv, parsed: the kernel write corpus shared by
// the model's unit test and the privileged run through the tool.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sstest {

struct WriteCase {
  std::string id, group, sysctl, setup, old;
  int64_t pos = 0;
  std::string value;   // C escapes as in the file
  std::string result;  // "ok:N" or an errno name
  std::string after;   // as /proc prints it; "lo..hi" for a rounded number
  std::string source;

  bool ok() const { return result.rfind("ok:", 0) == 0; }
  size_t taken() const { return ok() ? std::stoul(result.substr(3)) : 0; }
  // The exact bytes written.
  std::string bytes() const {
    std::string out;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] != '\\' || i + 1 == value.size()) {
        out += value[i];
        continue;
      }
      const char c = value[++i];
      if (c == 'n') out += '\n';
      else if (c == 't') out += '\t';
      else if (c == '0') out += '\0';
      else if (c == 'x' && i + 2 < value.size()) {
        out += static_cast<char>(std::strtol(value.substr(i + 1, 2).c_str(), nullptr, 16));
        i += 2;
      } else out += c;
    }
    return out;
  }
  // Does a value /proc printed (blanks collapsed) match `after`?
  bool after_matches(const std::string& got) const {
    const size_t dots = after.find("..");
    if (dots == std::string::npos) return got == after;
    try {
      const long long v = std::stoll(got);
      return v >= std::stoll(after.substr(0, dots)) && v <= std::stoll(after.substr(dots + 2));
    } catch (...) {
      return false;
    }
  }
};

inline std::vector<WriteCase> load_write_corpus(const std::string& path) {
  std::vector<WriteCase> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> col;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) col.push_back(c);
    if (line.back() == '\t') col.push_back("");
    if (col.size() != 10) continue;  // the tests count the cases they get
    out.push_back({col[0], col[1], col[2], col[3], col[4], std::stoll(col[5]), col[6], col[7],
                   col[8], col[9]});
  }
  return out;
}

}  // namespace sstest
