// SPDX-License-Identifier: Apache-2.0
// record / report / replay against the real kernel: a runc container runs the
// seed scenario while a recorder runs; the report must show each write; a
// SIGKILLed recorder leaves a file report still reads; replay with a filter
// gives what trace with that filter gives.
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace sstest;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

// Complete lines of the recording that are events (not session records).
std::vector<Json> recorded_events(const std::string& path) {
  std::vector<Json> out;
  std::string data = slurp(path);
  size_t end = data.rfind('\n');
  if (end == std::string::npos) return out;
  for (const auto& l : lines_of(data.substr(0, end + 1))) {
    Json j = Json::parse(l);
    if (j.contains("event")) out.push_back(j);
  }
  return out;
}

bool wait_file_event(const std::string& path, const std::function<bool(const Json&)>& pred,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    for (const auto& e : recorded_events(path))
      if (pred(e)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A process parked in a fresh netns (`unshare -n sleep`), killed on scope exit.
class ScratchNetns {
 public:
  ScratchNetns() {
    auto r = sh("unshare -n sleep 300 >/dev/null 2>&1 </dev/null & echo $!");
    pid_ = std::stoi(r.out);
    for (int i = 0; i < 100 && netns_of(pid_) == netns_of(0); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    netns_ = netns_of(pid_);
  }
  ~ScratchNetns() { ::kill(pid_, SIGKILL); }
  RunResult exec(const std::string& cmd) {
    return run({"nsenter", "-t", std::to_string(pid_), "-n", "sh", "-c", cmd});
  }
  pid_t pid() const { return pid_; }
  uint64_t netns() const { return netns_; }

 private:
  pid_t pid_ = -1;
  uint64_t netns_ = 0;
};

const Json* find_row(const Json& rows, const std::function<bool(const Json&)>& pred) {
  for (const auto& r : rows)
    if (pred(r)) return &r;
  return nullptr;
}

}  // namespace

TEST(Forensics, RecordSeedScenarioThenReport) {
  TempDir dir;
  const std::string file = dir.path() + "/incident.jsonl";
  ScratchNetns scratch;
  ASSERT_NE(scratch.netns(), netns_of(0));
  // A value the host does not have: the baseline must read it inside that netns.
  ASSERT_EQ(scratch.exec("echo 4321 > /proc/sys/net/ipv4/tcp_keepalive_time").status, 0);

  Tracer rec({"-o", file}, {"record"});
  ASSERT_TRUE(rec.wait_ready()) << rec.stderr_text();

  RuncContainer::Options o;
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "600"}};
  // The seed scenario's blocked write: /proc/sys is read-only in the container.
  o.args = {"sh", "-c", "echo 5 > /proc/sys/net/ipv4/tcp_keepalive_time; sleep 3600"};
  RuncContainer c(o);
  pid_t cpid = c.start_detached();
  ASSERT_GT(cpid, 0);
  uint64_t cns = netns_of(cpid);
  // Host root reaching into the container's netns.
  auto ns = run({"nsenter", "-t", std::to_string(cpid), "-n", "sh", "-c",
                 "echo 900 > /proc/sys/net/ipv4/tcp_keepalive_time"});
  ASSERT_EQ(ns.status, 0) << ns.err;
  ASSERT_EQ(scratch.exec("echo 1234 > /proc/sys/net/ipv4/tcp_keepalive_time").status, 0);
  // Issue 19: a refused write is a finding, never drift.
  scratch.exec("echo abc > /proc/sys/net/ipv4/tcp_fin_timeout");
  // Sysctls that change by themselves, read during the session.
  ASSERT_EQ(sh("cat /proc/sys/kernel/random/uuid /proc/sys/fs/file-nr >/dev/null").status, 0);
  auto cat = c.exec({"cat", "/proc/sys/kernel/kptr_restrict"});
  ASSERT_EQ(cat.status, 0) << cat.err;
  ASSERT_TRUE(wait_file_event(file, [&](const Json& e) {
    return is_event(e, "sysctl_read", "kernel.kptr_restrict") && e["proc"]["comm"] == "cat";
  })) << "the recorder flushes at least every second";
  rec.stop();
  ASSERT_EQ(rec.exit_status(), 0) << rec.stderr_text();
  EXPECT_NE(rec.stderr_text().find("Recording to "), std::string::npos);

  // The file: session_start, baselines, events, session_end.
  auto lines = lines_of(slurp(file));
  ASSERT_GE(lines.size(), 4u);
  Json start = Json::parse(lines.front()), end = Json::parse(lines.back());
  EXPECT_EQ(start["record"], "session_start");
  EXPECT_EQ(start["format"], "sysctlscope-recording");
  EXPECT_EQ(start["version"], 1);
  EXPECT_EQ(start["host_netns"], netns_of(0));
  EXPECT_EQ(start["boot_id"], read_sysctl("kernel.random.boot_id"));
  EXPECT_EQ(start["command_line"][1], "record");
  EXPECT_EQ(end["record"], "session_end");
  EXPECT_EQ(end["reason"], "signal");
  EXPECT_EQ(end["lost"], 0);
  Json host_base, scratch_base;
  for (const auto& l : lines) {
    Json j = Json::parse(l);
    if (j.value("record", "") != "baseline") continue;
    if (j["scope"] == "host") host_base = j;
    if (j["netns"] == scratch.netns()) scratch_base = j;
  }
  ASSERT_TRUE(host_base.is_object());
  EXPECT_EQ(host_base["values"]["kernel.ostype"], "Linux");
  EXPECT_EQ(host_base["values"]["net.ipv4.tcp_keepalive_time"],
            read_sysctl("net.ipv4.tcp_keepalive_time"));
  EXPECT_TRUE(host_base["errors"].is_object());
  ASSERT_TRUE(scratch_base.is_object()) << "every existing netns has a baseline";
  EXPECT_EQ(scratch_base["scope"], "netns");
  EXPECT_EQ(scratch_base["values"]["net.ipv4.tcp_keepalive_time"], "4321");
  uint64_t counted = 0;
  for (auto& [k, v] : end["by_type"].items()) counted += v.get<uint64_t>();
  EXPECT_EQ(counted, end["events"].get<uint64_t>());
  EXPECT_EQ(end["events"].get<uint64_t>(), recorded_events(file).size());

  // report -o json: the timeline, drift and reconnaissance.
  auto rj = run({binary(), "report", "-o", "json", file});
  ASSERT_EQ(rj.status, 0) << rj.err;
  Json rep = Json::parse(rj.out);
  EXPECT_EQ(rep["lost"]["total"], 0);
  EXPECT_EQ(rep["sessions"][0]["end_reason"], "signal");
  const Json* runc_w = find_row(rep["timeline"], [&](const Json& r) {
    return r["kind"] == "write" && r["sysctl"] == "net.ipv4.tcp_keepalive_time" &&
           r["value"] == "600" &&
           r["who"].get<std::string>().find("runc:[2:INIT]") != std::string::npos;
  });
  ASSERT_NE(runc_w, nullptr) << rj.out;
  EXPECT_EQ((*runc_w)["old_value"], "7200");
  // The container's netns is attributed to it (netns_container) on every event.
  const std::string cwhere = "container " + c.id().substr(0, 12);
  EXPECT_EQ((*runc_w)["where"], cwhere);
  EXPECT_EQ((*runc_w)["result"], "ok");
  // The container's own write, refused by the read-only /proc/sys.
  const Json* blocked = find_row(rep["timeline"], [&](const Json& r) {
    return r["kind"] == "blocked" && r["where"] == cwhere;
  });
  ASSERT_NE(blocked, nullptr) << rj.out;
  EXPECT_EQ((*blocked)["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ((*blocked)["result"], "EROFS");
  EXPECT_EQ((*blocked)["detail"], "read_only_mount path=/proc/sys/net/ipv4/tcp_keepalive_time");
  EXPECT_EQ((*blocked)["who"].get<std::string>().find(": sh["),
            (*blocked)["who"].get<std::string>().find(':'));
  EXPECT_TRUE((*blocked)["failed"].get<bool>());
  const Json* host_w = find_row(rep["timeline"], [&](const Json& r) {
    return r["kind"] == "write" && r["sysctl"] == "net.ipv4.tcp_keepalive_time" &&
           r["value"] == "900";
  });
  ASSERT_NE(host_w, nullptr) << rj.out;
  EXPECT_EQ((*host_w)["old_value"], "600");
  EXPECT_EQ((*host_w)["result"], "ok");
  EXPECT_EQ((*host_w)["who"].get<std::string>().rfind("host: sh[", 0), 0u) << (*host_w)["who"];
  EXPECT_EQ((*host_w)["where"], cwhere);
  EXPECT_TRUE((*host_w)["cross_namespace"].get<bool>());
  EXPECT_NE(find_row(rep["cross_namespace"], [&](const Json& r) { return r["value"] == "900"; }),
            nullptr)
      << "the host nsenter write is listed as host-into-container";
  const Json* birth =
      find_row(rep["netns_births"], [&](const Json& r) { return r["netns"] == cns; });
  ASSERT_NE(birth, nullptr) << "the container's netns birth is in the report";
  EXPECT_EQ((*birth)["via"], "unshare");
  EXPECT_EQ((*birth)["parent_netns"], netns_of(0));
  // Drift: the scratch netns from its entered baseline (4321 -> 1234), the container's
  // netns (born after the baseline) to its last write.
  const Json* d1 = find_row(rep["drift"], [&](const Json& r) {
    return r["scope"] == "netns " + std::to_string(scratch.netns());
  });
  ASSERT_NE(d1, nullptr) << rj.out;
  EXPECT_EQ((*d1)["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ((*d1)["baseline"], "4321");
  EXPECT_EQ((*d1)["final"], "1234");
  EXPECT_EQ((*d1)["changed_by"].get<std::string>().rfind("host: sh[", 0), 0u);
  const Json* d2 = find_row(rep["drift"], [&](const Json& r) {
    return r["scope"] == cwhere + " (netns " + std::to_string(cns) + ")";
  });
  ASSERT_NE(d2, nullptr) << rj.out;
  EXPECT_EQ((*d2)["final"], "900");
  const Json* recon = find_row(rep["reconnaissance"], [&](const Json& r) {
    return r["who"].get<std::string>().find(": cat[") != std::string::npos &&
           r["sysctls"][0] == "kernel.kptr_restrict";
  });
  ASSERT_NE(recon, nullptr) << rj.out;
  const Json* refused = find_row(rep["failed_writes"], [](const Json& r) {
    return r["sysctl"] == "net.ipv4.tcp_fin_timeout" && r["value"] == "abc";
  });
  ASSERT_NE(refused, nullptr) << rj.out;
  EXPECT_EQ((*refused)["result"], "not_applied");
  EXPECT_EQ((*refused)["applied"], false);
  EXPECT_EQ(find_row(rep["drift"], [](const Json& r) { return r["sysctl"] == "net.ipv4.tcp_fin_timeout"; }),
            nullptr)
      << rj.out;
  EXPECT_EQ(find_row(rep["drift"], [](const Json& r) { return r["sysctl"] == "kernel.random.uuid"; }), nullptr);
  const Json* uuid = find_row(rep["volatile"], [](const Json& r) { return r["sysctl"] == "kernel.random.uuid"; });
  ASSERT_NE(uuid, nullptr) << rj.out;
  EXPECT_NE((*uuid)["reason"].get<std::string>().find("random"), std::string::npos);
  ASSERT_TRUE(host_base["volatile"].is_array()) << "the baseline is read twice";
  EXPECT_NE(std::find(host_base["volatile"].begin(), host_base["volatile"].end(), "kernel.random.uuid"),
            host_base["volatile"].end());

  // `diff --from` reads the same file: who last changed the container's value.
  auto df = run({binary(), "diff", std::to_string(cpid), "--from", file, "-o", "json"});
  ASSERT_EQ(df.status, 0) << df.err;
  const Json dj = Json::parse(df.out);
  const Json* ka = find_row(
      dj["rows"], [](const Json& r) { return r["sysctl"] == "net.ipv4.tcp_keepalive_time"; });
  ASSERT_NE(ka, nullptr) << df.out;
  ASSERT_TRUE(ka->contains("last_write") && (*ka)["last_write"].is_object()) << ka->dump();
  EXPECT_EQ((*ka)["last_write"]["value"], "900") << df.out;

  // Text: the same rows, readable.
  auto rt = run({binary(), "report", file});
  ASSERT_EQ(rt.status, 0) << rt.err;
  EXPECT_NE(rt.out.find("Lost events: 0"), std::string::npos);
  EXPECT_NE(rt.out.find("net.ipv4.tcp_keepalive_time: 7200 -> 600 [ok]"), std::string::npos)
      << rt.out;
  EXPECT_NE(rt.out.find("BLOCKED"), std::string::npos) << rt.out;
  EXPECT_NE(rt.out.find("net.ipv4.tcp_keepalive_time: EROFS read_only_mount "
                        "path=/proc/sys/net/ipv4/tcp_keepalive_time"),
            std::string::npos)
      << rt.out;
  EXPECT_NE(rt.out.find("in " + cwhere + "  net.ipv4.tcp_keepalive_time: 600 -> 900 ["),
            std::string::npos)
      << rt.out;

  // HTML: one self-contained file that headless Chromium renders with the rows.
  auto rh = run({binary(), "report", "-o", "html", file});
  ASSERT_EQ(rh.status, 0) << rh.err;
  const std::string html = dir.path() + "/report.html", png = dir.path() + "/report.png";
  { std::ofstream(html) << rh.out; }
  // Self-contained: nothing a browser would fetch (the SVG xmlns is a name, not a fetch).
  for (const char* ref : {"src=\"", "href=", "url(", "<link", "<script", "@import"})
    EXPECT_EQ(rh.out.find(ref), std::string::npos) << ref;
  std::vector<std::string> chromium{"chromium",
                                    "--headless",
                                    "--no-sandbox",
                                    "--disable-gpu",
                                    "--disable-quic",
                                    "--no-first-run",
                                    "--disable-background-networking",
                                    "--disable-component-update",
                                    "--disable-sync",
                                    "--user-data-dir=" + dir.path() + "/chrome-profile"};
  auto dom_argv = chromium;
  dom_argv.insert(dom_argv.end(), {"--dump-dom", "file://" + html});
  auto dom = run(dom_argv);
  ASSERT_EQ(dom.status, 0) << dom.err;
  EXPECT_NE(dom.out.find("<svg id=\"chart\""), std::string::npos);
  EXPECT_NE(dom.out.find("runc:[2:INIT]"), std::string::npos);
  EXPECT_NE(dom.out.find("<td class=\"v\">600</td><td class=\"v\">900</td>"), std::string::npos);
  EXPECT_NE(dom.out.find("<td class=\"v\">4321</td><td class=\"v\">1234</td>"), std::string::npos);
  EXPECT_NE(dom.out.find("<td class=\"v\">read_only_mount "
                         "path=/proc/sys/net/ipv4/tcp_keepalive_time</td><td>EROFS</td>"),
            std::string::npos);
  // The blocked write: its own marker, or counted in the numbered marker of
  // the container's burst (runc's write and the blocked one are ms apart).
  EXPECT_TRUE(dom.out.find("class=\"m-blocked\"") != std::string::npos ||
              dom.out.find(", 1 blocked, ") != std::string::npos)
      << "the blocked write is on the chart";
  EXPECT_NE(dom.out.find("<i>unchanged</i>, refused: abc"), std::string::npos);
  EXPECT_NE(dom.out.find("<details id=\"volatile\"><summary>Volatile sysctls"), std::string::npos);
  EXPECT_EQ(dom.out.find("<td class=\"v\">abc</td>"), std::string::npos) << "never shown as a new value";
  auto shot_argv = chromium;
  shot_argv.insert(shot_argv.end(),
                   {"--screenshot=" + png, "--window-size=1280,2000", "file://" + html});
  auto shot = run(shot_argv);
  ASSERT_EQ(shot.status, 0) << shot.err;
  std::string pngdata = slurp(png);
  ASSERT_GT(pngdata.size(), 10000u) << "a rendered page, not a blank";
  EXPECT_EQ(pngdata.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  if (const char* keep = getenv("SSTEST_KEEP_REPORT"))
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
}

TEST(Forensics, SigkillMidSessionStillReports) {
  TempDir dir;
  const std::string file = dir.path() + "/killed.jsonl";
  ScratchNetns scratch;
  Tracer rec({"-o", file, "--type", "sysctl_write"}, {"record"});
  ASSERT_TRUE(rec.wait_ready()) << rec.stderr_text();
  ASSERT_EQ(scratch
                .exec("for i in 101 102 103 104 105; do echo $i > "
                      "/proc/sys/net/ipv4/tcp_keepalive_time; done")
                .status,
            0);
  ASSERT_TRUE(wait_file_event(file, [&](const Json& e) {
    return is_event(e, "sysctl_write") && e["netns"] == scratch.netns() && e["value"] == "105";
  })) << "written within about a second, before any clean shutdown";
  rec.stop(SIGKILL);
  // Every complete line parses; there is no session_end.
  std::string data = slurp(file);
  auto lines = lines_of(data.substr(0, data.rfind('\n') + 1));
  for (const auto& l : lines) EXPECT_TRUE(Json::accept(l)) << l.substr(0, 200);
  EXPECT_NE(Json::parse(lines.back()).value("record", ""), "session_end");

  auto r = run({binary(), "report", "-o", "json", file});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("no session_end: the recorder did not finish"), std::string::npos) << r.err;
  Json rep = Json::parse(r.out);
  EXPECT_TRUE(rep["sessions"][0]["end"].is_null());
  int found = 0;
  for (const auto& row : rep["timeline"])
    if (row["where"] == "netns " + std::to_string(scratch.netns())) ++found;
  EXPECT_EQ(found, 5);

  // A file cut in the middle of a line (power loss mid-write) still reports, with a warning.
  const std::string cut = dir.path() + "/cut.jsonl";
  {
    std::ofstream(cut, std::ios::binary)
        << data << R"({"time":"2026-11-22T11:00:00Z","event":"sysc)";
  }
  auto rc = run({binary(), "report", cut});
  ASSERT_EQ(rc.status, 0) << rc.err;
  // Appended, not `":" + std::to_string(...)`: GCC 12 at -O3 (Release) emits a
  // false -Wrestrict there (PR 105329).
  std::string incomplete = ":";
  incomplete += std::to_string(lines.size() + 1);
  incomplete += ": last line is incomplete";
  EXPECT_NE(rc.err.find(incomplete), std::string::npos) << rc.err;
}

TEST(Forensics, ReplayWithFilterMatchesTrace) {
  TempDir dir;
  const std::string file = dir.path() + "/replay.jsonl";
  ScratchNetns scratch;
  const std::vector<std::string> filter{"--type", "sysctl_write", "--sysctl",
                                        "net.ipv4.tcp_keepalive_*"};
  Tracer rec({"-o", file}, {"record"});
  Tracer trace(filter);
  ASSERT_TRUE(rec.wait_ready()) << rec.stderr_text();
  ASSERT_TRUE(trace.wait_ready()) << trace.stderr_text();
  ASSERT_EQ(scratch
                .exec("echo 11 > /proc/sys/net/ipv4/tcp_keepalive_intvl; cat "
                      "/proc/sys/net/ipv4/tcp_keepalive_time;"
                      "echo 77 > /proc/sys/net/ipv4/tcp_fin_timeout; echo 700 > "
                      "/proc/sys/net/ipv4/tcp_keepalive_time;"
                      "echo 4 > /proc/sys/net/ipv4/tcp_keepalive_probes")
                .status,
            0);
  auto mine = [&](const Json& e) { return e["netns"] == scratch.netns(); };
  ASSERT_TRUE(trace.wait_for([&](const Json& e) { return mine(e) && e["value"] == "4"; }));
  ASSERT_TRUE(wait_file_event(file, [&](const Json& e) { return mine(e) && e["value"] == "4"; }));
  auto traced = select(trace.stop(), mine);
  rec.stop();
  ASSERT_EQ(rec.exit_status(), 0);

  std::vector<std::string> argv{binary(), "replay", file, "-o", "json"};
  argv.insert(argv.end(), filter.begin(), filter.end());
  auto rp = run(argv);
  ASSERT_EQ(rp.status, 0) << rp.err;
  // Replay prints the recorded lines that pass the filter, byte for byte.
  std::vector<std::string> expected;
  for (const auto& l : lines_of(slurp(file))) {
    Json j = Json::parse(l);
    if (j.value("event", "") == "lost" ||
        (j.value("event", "") == "sysctl_write" &&
         fnmatch("net.ipv4.tcp_keepalive_*", j["sysctl"].get<std::string>().c_str(), 0) == 0))
      expected.push_back(l);
  }
  EXPECT_EQ(lines_of(rp.out), expected);
  // And the same events trace printed live with that filter (times differ: two programs).
  std::vector<Json> replayed;
  for (const auto& l : lines_of(rp.out)) {
    Json j = Json::parse(l);
    if (mine(j)) replayed.push_back(j);
  }
  ASSERT_EQ(replayed.size(), 3u);
  ASSERT_EQ(traced.size(), replayed.size());
  for (size_t i = 0; i < traced.size(); ++i) {
    traced[i].erase("time");
    replayed[i].erase("time");
    EXPECT_EQ(traced[i], replayed[i]);
  }

  // Table output and a pid filter work on the same file.
  auto tb = run({binary(), "replay", file, "-o", "table", "--type", "sysctl_write", "--pid",
                 replayed[0]["proc"]["pid"].dump(), "--sysctl", "net.ipv4.tcp_keepalive_intvl"});
  ASSERT_EQ(tb.status, 0) << tb.err;
  EXPECT_NE(tb.out.find("net.ipv4.tcp_keepalive_intvl: 75 -> 11"), std::string::npos) << tb.out;
  EXPECT_EQ(tb.out.find("tcp_keepalive_probes"), std::string::npos);
}

TEST(Forensics, MaxSizeStopsCleanlyAndBadFilesFailClearly) {
  TempDir dir;
  ScratchNetns scratch;
  // Measure this host's baseline, then allow 512 KiB of events on top
  // (other tests may add namespaces, hence baseline lines, meanwhile).
  const std::string probe = dir.path() + "/probe.jsonl";
  auto p = run({binary(), "record", "-o", probe, "--duration", "0.2"});
  ASSERT_EQ(p.status, 0) << p.err;
  uint64_t base = fs::file_size(probe);
  const std::string file = dir.path() + "/capped.jsonl";
  uint64_t cap = base + 512 * 1024;
  Tracer rec({"-o", file, "--max-size", std::to_string(cap), "--duration", "60"}, {"record"});
  ASSERT_TRUE(rec.wait_ready()) << rec.stderr_text();
  scratch.exec(
      "i=0; while [ $i -lt 3000 ]; do cat /proc/sys/net/ipv4/tcp_keepalive_time >/dev/null; "
      "i=$((i+1)); done");
  ASSERT_TRUE(rec.wait_exit(std::chrono::seconds(20)))
      << "the recorder stops by itself at --max-size";
  EXPECT_EQ(rec.exit_status(), 0) << rec.stderr_text();
  EXPECT_LE(fs::file_size(file), cap);
  auto lines = lines_of(slurp(file));
  Json end = Json::parse(lines.back());
  EXPECT_EQ(end["record"], "session_end");
  EXPECT_EQ(end["reason"], "max_size");
  EXPECT_GT(end["not_recorded"].get<uint64_t>(), 0u);

  // Existing files are never overwritten; a cap below the baseline is a usage error.
  auto again = run({binary(), "record", "-o", file, "--duration", "0.1"});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("File exists"), std::string::npos) << again.err;
  auto small = run({binary(), "record", "-o", dir.path() + "/small.jsonl", "--max-size", "64k"});
  EXPECT_EQ(small.status, 2);
  EXPECT_NE(small.err.find("smaller than the baseline"), std::string::npos) << small.err;

  // Bad input: one clear line naming the file and line, exit 2.
  const std::string empty = dir.path() + "/empty.jsonl", foreign = dir.path() + "/foreign.txt";
  { std::ofstream(empty) << ""; }
  { std::ofstream(foreign) << "root:x:0:0:root:/root:/bin/bash\n"; }
  auto e1 = run({binary(), "report", empty});
  EXPECT_EQ(e1.status, 2);
  EXPECT_EQ(e1.err, "sysctlscope: error: " + empty + ": empty file, not a sysctlscope recording\n");
  auto e2 = run({binary(), "replay", foreign});
  EXPECT_EQ(e2.status, 2);
  EXPECT_NE(e2.err.find(foreign + ":1: not a sysctlscope recording"), std::string::npos) << e2.err;
  auto e3 = run({binary(), "report", dir.path() + "/missing.jsonl"});
  EXPECT_EQ(e3.status, 2);
  EXPECT_NE(e3.err.find("missing.jsonl: cannot open: ENOENT"), std::string::npos) << e3.err;
  auto e4 = run({binary(), "report", "-o", "pdf", file});
  EXPECT_EQ(e4.status, 2);
}
