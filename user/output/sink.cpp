// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "output/escape.hpp"
#include "output/sink.hpp"

namespace sysctlscope {

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
  }
  buf_.clear();
  return !closed_;
}

namespace {

// The table's detail column: the registry's row() writes through this.
struct RowWriter {
  std::string& out;
  void text(std::string_view s) { append_terminal_safe(out, s); }
  void lit(std::string_view s) { out += s; }
  void num(uint64_t v) { out += std::to_string(v); }
};

void pad(std::string& out, size_t start, size_t width) {
  // Width in bytes is close enough for our mostly-ASCII columns.
  size_t len = out.size() - start;
  if (len < width) out.append(width - len, ' ');
  out.push_back(' ');
}

}  // namespace

std::string table_header() {
  return "TIME         CONTAINER    PID     COMM             EVENT          SYSCTL / DETAIL";
}

namespace {
std::string container_label(const std::optional<ContainerInfo>& c) {
  if (!c) return "host";
  // The name when the runtime gave one (what `docker ps` shows), else the
  // short id.
  if (!c->name.empty()) return c->name;
  return c->id.empty() ? "?" : c->id.substr(0, 12);
}

}  // namespace

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
  if (has_actor(e)) out += std::to_string(e.pid);
  pad(out, start, 7);
  start = out.size();
  append_terminal_safe(out, e.comm);
  pad(out, start, 16);
  start = out.size();
  out += to_string(e.type());
  pad(out, start, 14);

  RowWriter w{out};
  // The new namespace itself (the row's other fields are its parent's).
  if (e.is<NetnsCreate>()) out += "netns " + std::to_string(e.netns) + " ";
  std::visit([&](const auto& p) { p.row(w); }, e.data);
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
