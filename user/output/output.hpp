// SPDX-License-Identifier: Apache-2.0
// The one output abstraction: a class per format (JSON, text/table, HTML),
// each rendering every kind of message a command prints: the event stream
// (`trace`, `replay`, `check`) and one-shot documents (`netns list`, `diff`,
// `explain`, `report`). A command picks the class from `-o` once and never
// branches on the format again.
//
// Documents belong to higher layers (netns, forensics), which this layer may
// not include, so a document renders itself for each format class it is
// handed (double dispatch): the format class owns the format's machinery
// (JSON dumping, column layout, the stream and its errors), the document
// says what goes in it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "output/sink.hpp"

namespace sysctlscope {

enum class Format { Json, Text, Html };
// The `-o` word ("json", "table" or "text", "html") -> Format.
std::optional<Format> format_named(std::string_view word);

class JsonOutput;
class TextOutput;
class HtmlOutput;

// A one-shot result. A document writes itself through the format class's
// tools; write(HtmlOutput&) exists only for documents with an HTML form
// (the CLI offers `-o html` only for those).
class Document {
 public:
  virtual ~Document() = default;
  virtual void write(JsonOutput& out) const = 0;
  virtual void write(TextOutput& out) const = 0;
  virtual void write(HtmlOutput& out) const;
};

// A Sink (the pipeline's interface) that also takes documents. Writes are
// buffered; write(2) errors end the stream (EPIPE quietly, see OutStream).
class Output : public Sink {
 public:
  explicit Output(int fd, size_t flush_at = 64 * 1024) : out_(fd, flush_at) {}
  virtual Format format() const = 0;
  // One event of a stream (Sink::write).
  void write(const Event& e) override = 0;
  virtual void document(const Document& d) = 0;
  bool flush() override { return out_.flush(); }
  bool closed() const override { return out_.closed(); }
  int error() const { return out_.error(); }
  // Flushes; throws Error(op, object, errno) when the stream failed.
  void finish(const std::string& op, const std::string& object);
  // What is buffered, taken out (render()).
  std::string take() { return std::exchange(out_.buffer(), {}); }

 protected:
  void append(std::string_view s) {
    out_.buffer() += s;
    out_.maybe_flush();
  }
  OutStream out_;
};

// JSON lines for events, one JSON document for documents.
class JsonOutput final : public Output {
 public:
  using Output::Output;
  Format format() const override { return Format::Json; }
  void write(const Event& e) override;
  void document(const Document& d) override { d.write(*this); }
  // `j` and a newline; indent as nlohmann's dump (-1: one line). Invalid
  // UTF-8 (possible in any sysctl value) becomes U+FFFD instead of throwing.
  void value(const nlohmann::ordered_json& j, int indent = -1);
};

// Table rows (a header first) for events, aligned text for documents.
class TextOutput final : public Output {
 public:
  using Output::Output;
  Format format() const override { return Format::Text; }
  void write(const Event& e) override;
  void document(const Document& d) override { d.write(*this); }
  // Text as it is: the document made it terminal-safe.
  void text(std::string_view s) { append(s); }
  // Columns padded to the widest cell (at most 48 bytes) plus two spaces;
  // the cells are terminal-safe already.
  void table(const std::vector<std::vector<std::string>>& rows);

 private:
  bool header_done_ = false;
};

// A self-contained page. Events have no HTML form: no command streams them here.
class HtmlOutput final : public Output {
 public:
  using Output::Output;
  Format format() const override { return Format::Html; }
  void write(const Event& e) override;
  void document(const Document& d) override { d.write(*this); }
  // Markup as it is: the document escaped every recorded string.
  void html(std::string_view s) { append(s); }
};

std::unique_ptr<Output> make_output(Format f, int fd, size_t flush_at = 64 * 1024);

// The document as format `f` renders it, in memory (tests, fuzzers).
std::string render(const Document& d, Format f);

}  // namespace sysctlscope
