// SPDX-License-Identifier: Apache-2.0
// What the pipeline writes events to (a Sink: an Output of output/output.hpp,
// `record`'s file, the metrics and OTLP tees), and the event encodings.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "model/event.hpp"

namespace sysctlscope {

// Buffered writes to a file descriptor. write(2) errors end the stream:
// EPIPE (the reader went away, `| head`) is a normal end, others are kept
// in error() for the caller to report.
class OutStream {
 public:
  explicit OutStream(int fd, size_t flush_at = 64 * 1024) : fd_(fd), flush_at_(flush_at) {}
  ~OutStream() { flush(); }
  OutStream(const OutStream&) = delete;
  OutStream& operator=(const OutStream&) = delete;
  std::string& buffer() { return buf_; }
  const std::string& buffer() const { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= flush_at_) flush();
  }
  bool flush();
  bool closed() const { return closed_; }
  int error() const { return err_; }

 private:
  int fd_;
  size_t flush_at_;
  std::string buf_;
  bool closed_ = false;
  int err_ = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Event& e) = 0;
  virtual bool flush() = 0;  // false once the output is gone
  virtual bool closed() const = 0;
};

// The JSON line of one event (no trailing newline), exactly as docs/events.md says.
void append_event_json(std::string& out, const Event& e);
std::string event_to_json(const Event& e);

// Inverse of append_event_json for the fields it writes (used by replay/report).
// Throws std::invalid_argument with a one-line reason on a malformed event.
Event event_from_json(const nlohmann::ordered_json& j);
// The same for readers in other layers (the exception stays in this one): a
// malformed event is an Error whose message is that one-line reason.
Expected<Event> parse_event(const nlohmann::ordered_json& j);

// One table row (no trailing newline), terminal-safe.
void append_event_row(std::string& out, const Event& e);
std::string table_header();

}  // namespace sysctlscope
