// SPDX-License-Identifier: Apache-2.0
#include "output/json_lines.hpp"

namespace sysctlscope {

uint64_t for_each_json_line(
    std::string_view data, const std::function<void(const JsonLine&, nlohmann::ordered_json&)>& f) {
  uint64_t number = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    const bool last_cut = nl == std::string_view::npos;  // no newline: the writer was interrupted
    JsonLine l;
    l.number = ++number;
    l.text = data.substr(pos, last_cut ? std::string_view::npos : nl - pos);
    pos = last_cut ? data.size() : nl + 1;
    if (l.text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto j = nlohmann::ordered_json::parse(l.text.begin(), l.text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      l.damage = last_cut                                      ? LineDamage::Cut
                 : l.text.find('\0') != std::string_view::npos ? LineDamage::NulBytes
                                                               : LineDamage::NotJson;
    }
    f(l, j);
  }
  return number;
}

}  // namespace sysctlscope
