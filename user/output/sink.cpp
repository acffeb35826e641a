// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "output/escape.hpp"
#include "output/sink.hpp"

namespace sysctlscope {

std::optional<OutputFormat> parse_output_format(std::string_view s) {
  if (s == "json") return OutputFormat::Json;
  if (s == "table") return OutputFormat::Table;
  return std::nullopt;
}

bool OutStream::flush() {
  size_t off = 0;
  while (!closed_ && off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EPIPE) err_ = errno;
      closed_ = true;
      break;
    }
    off += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  buf_.clear();
  return !closed_;
}

namespace {

class JsonSink final : public Sink {
 public:
  explicit JsonSink(int fd) : out_(fd) {}
  void write(const Event& e) override {
    append_event_json(out_.buffer(), e);
    out_.buffer().push_back('\n');
    out_.maybe_flush();
  }
  bool flush() override { return out_.flush(); }
  bool closed() const override { return out_.closed(); }

 private:
  OutStream out_;
};

class TableSink final : public Sink {
 public:
  explicit TableSink(int fd) : out_(fd) {}
  void write(const Event& e) override {
    if (!header_done_) {
      out_.buffer() += table_header();
      out_.buffer().push_back('\n');
      header_done_ = true;
    }
    append_event_row(out_.buffer(), e);
    out_.buffer().push_back('\n');
    out_.maybe_flush();
  }
  bool flush() override { return out_.flush(); }
  bool closed() const override { return out_.closed(); }

 private:
  OutStream out_;
  bool header_done_ = false;
};

void pad(std::string& out, size_t start, size_t width) {
  // Width in bytes is close enough for our mostly-ASCII columns.
  size_t len = out.size() - start;
  if (len < width) out.append(width - len, ' ');
  out.push_back(' ');
}

}  // namespace

std::unique_ptr<Sink> make_sink(OutputFormat fmt, int fd) {
  if (fmt == OutputFormat::Json) return std::make_unique<JsonSink>(fd);
  return std::make_unique<TableSink>(fd);
}

std::string table_header() {
  return "TIME         CONTAINER    PID     COMM             EVENT          SYSCTL / DETAIL";
}

std::string container_label(const std::optional<ContainerInfo>& c) {
  if (!c) return "host";
  std::string s = c->id.substr(0, 12);
  if (s.empty()) s = c->name.empty() ? "?" : c->name;
  return s;
}

void append_event_row(std::string& out, const Event& e) {
  time_t secs = static_cast<time_t>(e.time_ns / 1000000000ull);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(e.time_ns % 1000000000ull / 1000000));
  size_t start = out.size();
  out += buf;
  pad(out, start, 12);

  start = out.size();
  append_terminal_safe(out, container_label(e.container));
  pad(out, start, 12);

  start = out.size();
  if (e.type != EventType::Lost) out += std::to_string(e.pid);
  pad(out, start, 7);
  start = out.size();
  append_terminal_safe(out, e.comm);
  pad(out, start, 16);
  start = out.size();
  out += to_string(e.type);
  pad(out, start, 14);

  switch (e.type) {
    case EventType::SysctlRead:
      append_terminal_safe(out, e.sysctl);
      out += " = ";
      append_terminal_safe(out, e.value);
      if (e.value_truncated) out += " [truncated]";
      break;
    case EventType::SysctlWrite:
      append_terminal_safe(out, e.sysctl);
      out += ": ";
      append_terminal_safe(out, e.old_value);
      out += " -> ";
      append_terminal_safe(out, e.value);
      if (e.value_truncated || e.old_truncated) out += " [truncated]";
      out += " [";
      out += e.result.empty() ? "unknown" : e.result;
      out += "]";
      break;
    case EventType::SysctlBlocked: {
      // net.ipv4.tcp_keepalive_time: open refused [EROFS read_only_mount] path=... cmd=...
      auto str = [&](const char* k) -> std::string {
        auto it = e.extra.find(k);
        return it != e.extra.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      append_terminal_safe(out, e.sysctl);
      out += ": open refused [";
      append_terminal_safe(out, str("errno"));
      out += " ";
      append_terminal_safe(out, str("blocked_by"));
      out += "] path=";
      append_terminal_safe(out, str("path"));
      if (auto it = e.extra.find("cmdline"); it != e.extra.end() && it->is_array() && !it->empty()) {
        std::string cmd;
        for (const auto& a : *it) {
          if (!cmd.empty()) cmd.push_back(' ');
          if (a.is_string()) cmd += a.get<std::string>();
        }
        out += " cmd=";
        append_terminal_safe(out, cmd);
      }
      break;
    }
    case EventType::Lost:
      out += std::to_string(e.count) + " events lost";
      break;
    default:
      if (!e.sysctl.empty()) append_terminal_safe(out, e.sysctl);
      break;
  }
  if (e.netns_container && e.netns_container != e.container) {
    out += " (netns of ";
    append_terminal_safe(out, container_label(e.netns_container));
    out += ")";
  } else if (e.cross_namespace && !e.netns_container) {
    out += " (host netns)";  // a container process acting in the host's netns
  }
  if (e.container && !e.container->pod.empty()) {
    out += " pod=";
    append_terminal_safe(out, e.container->k8s_namespace.empty()
                                  ? e.container->pod
                                  : e.container->k8s_namespace + "/" + e.container->pod);
  }
}

}  // namespace sysctlscope
