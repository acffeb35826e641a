// SPDX-License-Identifier: Apache-2.0
#include "output/output.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "core/error.hpp"

namespace sysctlscope {

std::optional<Format> format_named(std::string_view word) {
  if (word == "json") return Format::Json;
  if (word == "table" || word == "text") return Format::Text;
  if (word == "html") return Format::Html;
  return std::nullopt;
}

void Document::write(HtmlOutput&) const {
  throw std::logic_error("this document has no HTML form");
}

void Output::finish(const std::string& op, const std::string& object) {
  out_.flush();
  if (out_.error()) throw Error(op, object, out_.error());
}

void JsonOutput::write(const Event& e) {
  std::string& b = out_.buffer();
  append_event_json(b, e);
  b.push_back('\n');
  out_.maybe_flush();
}

void JsonOutput::value(const nlohmann::ordered_json& j, int indent) {
  std::string& b = out_.buffer();
  b += j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  b.push_back('\n');
  out_.maybe_flush();
}

void TextOutput::write(const Event& e) {
  std::string& b = out_.buffer();
  if (!header_done_) {
    b += table_header();
    b.push_back('\n');
    header_done_ = true;
  }
  append_event_row(b, e);
  b.push_back('\n');
  out_.maybe_flush();
}

void TextOutput::table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], std::min<size_t>(r[i].size(), 48));
    }
  std::string& out = out_.buffer();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(r[i].size() < w[i] ? w[i] - r[i].size() + 2 : 2, ' ');
    }
    out += "\n";
  }
  out_.maybe_flush();
}

void HtmlOutput::write(const Event&) {
  throw std::logic_error("events have no HTML form");
}

std::unique_ptr<Output> make_output(Format f, int fd, size_t flush_at) {
  switch (f) {
    case Format::Json:
      return std::make_unique<JsonOutput>(fd, flush_at);
    case Format::Text:
      return std::make_unique<TextOutput>(fd, flush_at);
    case Format::Html:
      return std::make_unique<HtmlOutput>(fd, flush_at);
  }
  throw std::logic_error("unknown format");
}

std::string render(const Document& d, Format f) {
  // No descriptor: nothing is flushed, take() hands the whole rendering over.
  auto o = make_output(f, -1, SIZE_MAX);
  o->document(d);
  return o->take();
}

}  // namespace sysctlscope
