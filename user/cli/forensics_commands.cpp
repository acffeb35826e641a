// SPDX-License-Identifier: Apache-2.0
// `record`, `report` and `replay` (docs/recording.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bpf/env.hpp"
#include "cli/commands.hpp"
#include "cli/live.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "forensics/recording.hpp"
#include "forensics/report.hpp"
#include "netns/nsexec.hpp"
#include "netns/owners.hpp"
#include "output/escape.hpp"
#include "pipeline/pipeline.hpp"
#include "sysctlscope_version.hpp"

namespace sysctlscope::cli {

using json = nlohmann::ordered_json;
using namespace sysctlscope::forensics;

namespace {

std::string read_small(const char* path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// Event lines buffered in memory, written with write(2) at most every
// kWriteNs (or when the buffer is large) and made durable with fdatasync
// every kSyncNs: a crash loses at most about a second, and only whole lines
// reach the file except when the process dies inside write(2).
class RecordSink final : public Sink {
 public:
  static constexpr uint64_t kWriteNs = 250'000'000, kSyncNs = 1'000'000'000;
  static constexpr size_t kBufMax = 1 << 20;
  static constexpr uint64_t kReserve = 4096;  // room kept for session_end under --max-size

  RecordSink(int fd, uint64_t max_size, uint64_t already)
      : fd_(fd), out_(fd, kBufMax), max_(max_size), written_(already) {}

  void write(const Event& e) override {
    if (full_ || error()) {
      ++not_recorded_;
      return;
    }
    std::string& buf = out_.buffer();
    size_t before = buf.size();
    append_event_json(buf, e);
    buf.push_back('\n');
    if (max_ && written_ + buf.size() + kReserve > max_) {
      buf.resize(before);
      full_ = true;
      ++not_recorded_;
      return;
    }
    ++by_type_[index_of(e.type())];
    ++events_;
    if (buf.size() >= kBufMax) write_out();
  }
  bool flush() override {
    uint64_t now = mono_ns();
    if (!out_.buffer().empty() && (now - last_write_ >= kWriteNs || full_)) write_out();
    if (dirty_ && now - last_sync_ >= kSyncNs) sync();
    return !closed();
  }
  bool closed() const override { return full_ || error() != 0; }

  // Appends a record line (session_start, baseline, session_end) immediately.
  void record_line(const json& j) {
    out_.buffer() += j.dump(-1, ' ', false, json::error_handler_t::replace);
    out_.buffer().push_back('\n');
    write_out();
  }
  void finish() {
    write_out();
    sync();
  }
  bool full() const { return full_; }
  int error() const { return sync_err_ ? sync_err_ : out_.error(); }
  uint64_t bytes() const { return written_ + out_.buffer().size(); }
  uint64_t events() const { return events_; }
  uint64_t not_recorded() const { return not_recorded_; }
  const uint64_t* by_type() const { return by_type_; }

 private:
  void write_out() {
    written_ += out_.buffer().size();  // exact unless the write fails, which ends the recording
    out_.flush();
    dirty_ = true;
    last_write_ = mono_ns();
  }
  void sync() {
    if (!error() && ::fdatasync(fd_) != 0 && errno != EINVAL) sync_err_ = errno;
    dirty_ = false;
    last_sync_ = mono_ns();
  }

  int fd_;
  OutStream out_;  // write(2) with EINTR retries; the first error ends it
  uint64_t max_;
  uint64_t written_;
  bool full_ = false, dirty_ = false;
  int sync_err_ = 0;
  uint64_t last_write_ = 0, last_sync_ = 0;
  uint64_t events_ = 0, not_recorded_ = 0;
  uint64_t by_type_[kEventTypeCount] = {};
};

json session_start(const Filter& f, const std::string& cgroup, double duration, uint64_t max_size) {
  json j = json::object();
  j["record"] = "session_start";
  j["format"] = kFormat;
  j["version"] = kFormatVersion;
  j["tool"] = "sysctlscope";
  j["tool_version"] = kVersion;
  utsname u{};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  j["hostname"] = host;
  j["kernel_release"] = u.release;
  j["kernel_version"] = u.version;
  j["machine"] = u.machine;
  j["boot_id"] = read_small("/proc/sys/kernel/random/boot_id");
  j["time"] = format_rfc3339(epoch_ns());
  // argv as the kernel has it: main() does not hand argv to commands.
  json argv = json::array();
  {
    std::ifstream c("/proc/self/cmdline", std::ios::binary);
    std::string arg;
    while (std::getline(c, arg, '\0')) argv.push_back(arg);
  }
  j["command_line"] = std::move(argv);
  j["filters"] = f.to_json();
  if (!cgroup.empty()) j["filters"]["cgroup"] = cgroup;
  j["host_netns"] = netns::netns_inode_of_pid(getpid());
  j["pid"] = getpid();
  j["duration"] = duration > 0 ? json(duration) : json(nullptr);
  j["max_size"] = max_size ? json(max_size) : json(nullptr);
  return j;
}

Baseline from_map(const netns::SysctlMap& m, std::string scope, NetnsInode netns) {
  Baseline b;
  b.scope = std::move(scope);
  b.netns = netns;
  for (const auto& [k, v] : m) {
    if (v.err)
      b.errors[k] = errno_name(v.err);
    else
      b.values[k] = v.value;
  }
  return b;
}

// Host sysctls (like `sysctl -a`), then every other netns's net.* read by a
// child that setns()es into it (/proc/sys/net shows the opener's netns).
// Taken before the probes attach so the recorder's own reads stay out of the events.
void write_baseline(RecordSink& sink) {
  NetnsInode self_ns = netns::netns_inode_of_pid(getpid());
  uint64_t at = epoch_ns();
  Baseline host = from_map(netns::read_sysctl_tree("/proc/sys"), "host", self_ns);
  // Read twice: what differs between two reads a few ms apart changes by
  // itself (counters, random values), and the report keeps it out of drift.
  Baseline again = from_map(netns::read_sysctl_tree("/proc/sys"), "host", self_ns);
  for (const auto& [k, v] : host.values)
    if (auto it = again.values.find(k); it != again.values.end() && it->second != v)
      host.volatile_names.push_back(k);
  sink.record_line(baseline_json(host, at));
  auto src = netns::make_runtime_source();
  for (const auto& n : netns::list_netns(*src)) {
    if (n.inode == self_ns) continue;
    Baseline b;
    b.scope = "netns";
    b.netns = n.inode;
    if (n.owner) {
      b.container = n.owner->info;
      b.container->pod_uid.clear();  // a baseline has never carried it
    }
    auto fd = netns::open_listed_netns(n);
    if (!fd) {
      b.error = fd.error().what();
    } else if (auto m = netns::read_net_sysctls_in(fd->get()); m.has_value()) {
      Baseline v = from_map(*m, "netns", n.inode);
      b.values = std::move(v.values);
      b.errors = std::move(v.errors);
    } else {
      b.error = m.error().what();
    }
    sink.record_line(baseline_json(b, epoch_ns()));
  }
}

std::string human_size(uint64_t b) {
  char buf[32];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  return buf;
}

// The status of a recording on stderr: "Recording to" once the probes are
// attached, then (on a terminal) a line refreshed at most 4 times a second.
class RecordStatus final : public session::Stage {
 public:
  RecordStatus(const RecordSink& sink, std::string file)
      : sink_(sink), file_(std::move(file)), tty_(isatty(STDERR_FILENO)) {}
  ~RecordStatus() override {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  const char* name() const override { return "record-status"; }
  void tick(session::Context&, const PipelineStats& s) override {
    if (!announced_) {
      // First tick: the probes are attached (the session printed "Tracing ...").
      std::fprintf(stderr, "Recording to %s... Hit Ctrl-C to end.\n", terminal_safe(file_).c_str());
      std::fflush(stderr);
      announced_ = true;
    }
    if (!tty_) return;
    uint64_t now = mono_ns();
    if (now - last_ < 250'000'000) return;  // at most 4 refreshes a second
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r\033[Krecording %.1fs  events %llu  lost %llu  file %s",
                 (now - t0_) / 1e9, static_cast<unsigned long long>(sink_.events()),
                 static_cast<unsigned long long>(s.lost), human_size(sink_.bytes()).c_str());
    std::fflush(stderr);
  }

 private:
  const RecordSink& sink_;
  std::string file_;
  bool tty_;
  const uint64_t t0_ = mono_ns();
  uint64_t last_ = 0;
  bool shown_ = false, announced_ = false;
};

int run_record(const LiveArgs& a, const std::string& btf_file) {
  auto built = a.build(btf_file);
  const session::Options& opt = built.opt;
  const uint64_t max_size = built.max_size;
  const auto& pol = built.policy;
  check_privileges();

  // O_EXCL: never overwrite evidence from an earlier session.
  Fd fd(::open(a.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid())
    throw Error("create recording", terminal_safe(a.output), errno,
                errno == EEXIST ? "choose a new file name; recordings are never overwritten" : "");
  RecordSink sink(fd.get(), max_size, 0);
  json start = session_start(opt.filter, a.cgroup, a.duration, max_size);
  // The policy travels with the recording: report judges drift by it.
  if (pol) start["policy"] = cli::policy_json(*pol, opt.enforce_mode);
  sink.record_line(start);
  write_baseline(sink);
  sink.finish();
  if (max_size && sink.bytes() + RecordSink::kReserve > max_size) {
    ::unlink(a.output.c_str());  // nothing but a header: not a session worth keeping
    throw UsageError("--max-size " + a.max_size + " is smaller than the baseline (" +
                     human_size(sink.bytes()) + ")");
  }
  std::fprintf(stderr, "Baseline written (%s); attaching...\n", human_size(sink.bytes()).c_str());
  std::fflush(stderr);

  install_stop_handlers();
  PipelineStats st;
  {
    session::Session live(opt, sink);
    live.add(std::make_unique<RecordStatus>(sink, a.output));
    st = live.run(stop_requested);
  }

  std::string reason = sink.error()       ? "write_error: " + errno_name(sink.error())
                       : sink.full()      ? "max_size"
                       : stop_requested() ? "signal"
                                          : "duration";
  json end = json::object();
  end["record"] = "session_end";
  end["time"] = format_rfc3339(epoch_ns());
  end["reason"] = reason;
  end["events"] = sink.events();
  json by = json::object();
  for (auto t : kAllEventTypes)
    if (uint64_t n = sink.by_type()[index_of(t)]) by[std::string(to_string(t))] = n;
  end["by_type"] = std::move(by);
  end["lost"] = st.lost;
  end["malformed"] = st.malformed;
  end["not_recorded"] = sink.not_recorded();
  if (!sink.error()) {
    sink.record_line(end);
    sink.finish();
  }
  std::fprintf(stderr, "%llu events recorded, %llu lost, %s (%s)\n",
               static_cast<unsigned long long>(sink.events()),
               static_cast<unsigned long long>(st.lost), human_size(sink.bytes()).c_str(),
               reason.c_str());
  if (sink.error())
    throw Error("write recording", terminal_safe(a.output), sink.error(),
                "the file holds everything up to the failure");
  return 0;
}

}  // namespace

void register_forensics(CLI::App& app, Registry& reg) {
  {
    auto a = std::make_shared<LiveArgs>();
    a->command = LiveCommand::Record;
    auto* sub = app.add_subcommand("record",
                                   "Record a forensic session to a file (baseline + every event)");
    sub->footer(R"(Examples:
  sysctlscope record -o incident.jsonl                        # until Ctrl-C
  sysctlscope record -o incident.jsonl --duration 600 --max-size 512M
  sysctlscope record -o writes.jsonl --type sysctl_write,sysctl_blocked,netns_create
Stops cleanly at --max-size (session_end says reason "max_size"); no rotation.
The file format is described in docs/recording.md.)");
    a->add_to(sub);
    reg.add(sub, [a, &reg]() { return run_record(*a, reg.btf_file); });
  }
  {
    auto files = std::make_shared<std::vector<std::string>>();
    auto fmt = std::make_shared<std::string>("text");
    auto* sub = app.add_subcommand("report",
                                   "Report on recorded sessions: timeline, drift, reconnaissance");
    sub->footer(R"(Examples:
  sysctlscope report incident.jsonl
  sysctlscope report -o html incident.jsonl > incident.html   # self-contained page
  sysctlscope report -o json a.jsonl b.jsonl | jq .drift)");
    sub->add_option("files", *files, "Recording files")->required();
    sub->add_option("-o,--output", *fmt, "Output format: text, json or html (default text)");
    reg.add(sub, [files, fmt]() {
      auto out = open_output(*fmt, {.what = "report",
                                    .words = {"text", "json", "html"},
                                    .tty = Format::Text,
                                    .other = Format::Text});
      Recording rec = read_recordings(*files);
      for (const auto& w : rec.warnings)
        std::fprintf(stderr, "sysctlscope: warning: %s\n", w.c_str());
      Report r = build_report(rec);
      out->document(ReportDocument(r));
      out->finish("write report", "stdout");
      return 0;
    });
  }
  {
    struct ReplayArgs {
      std::string file, output;
      FilterOptions filter;
    };
    auto a = std::make_shared<ReplayArgs>();
    auto* sub =
        app.add_subcommand("replay", "Stream a recording through trace's filters and output");
    sub->footer(R"(Examples:
  sysctlscope replay incident.jsonl --type sysctl_write -o table
  sysctlscope replay incident.jsonl --sysctl 'net.ipv4.tcp_*' --failed -o json)");
    sub->add_option("file", a->file, "Recording file")->required();
    sub->add_option(
        "-o,--output", a->output,
        "Output format: json or table (default: table on a terminal, JSON lines otherwise)");
    add_filter_options(sub, a->filter);
    reg.add(sub, [a]() {
      Filter f = a->filter.build();
      auto sink = open_output(a->output);
      Recording rec = read_recordings({a->file});
      for (const auto& w : rec.warnings)
        std::fprintf(stderr, "sysctlscope: warning: %s\n", w.c_str());
      // Time order, also for recordings made before trace kept it (held
      // writes were printed after later events); stable for equal stamps.
      std::stable_sort(rec.events.begin(), rec.events.end(),
                       [](const Event& x, const Event& y) { return x.time_ns < y.time_ns; });
      // No enricher: recorded events already carry their attribution.
      Pipeline pipe(f, nullptr, *sink, false);
      install_stop_handlers();
      for (auto& e : rec.events) {
        if (sink->closed() || stop_requested()) break;
        if (e.is<Lost>()) {
          sink->write(e);  // never filtered, and not re-counted by the pipeline
          continue;
        }
        pipe.feed(std::move(e));
      }
      sink->flush();
      return 0;
    });
  }
}

}  // namespace sysctlscope::cli
