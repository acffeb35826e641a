// SPDX-License-Identifier: Apache-2.0
// The recording reader on bad input, the report model on every event type
// (including those whose capture lands on other branches, from the JSON
// documented in docs/events.md), and escaping in the HTML and text reports.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "forensics/recording.hpp"
#include "forensics/report.hpp"
#include "netns/diff.hpp"

using namespace sysctlscope;
using namespace sysctlscope::forensics;

namespace {

const std::string kHost = "4026531833";
const std::string kCtrNs = "4026532300";

std::string start_line(int version = 1, const std::string& format = "sysctlscope-recording") {
  return R"({"record":"session_start","format":")" + format + R"(","version":)" +
         std::to_string(version) +
         R"(,"tool":"sysctlscope","tool_version":"0.1.0","hostname":"vm","kernel_release":"6.18","boot_id":"b-1",)"
         R"("time":"2026-11-22T11:00:00.000000000Z","command_line":["sysctlscope","record","-o","x"],"filters":{},)"
         R"("host_netns":)" +
         kHost + "}\n";
}
std::string baseline_host() {
  return R"({"record":"baseline","time":"2026-11-22T11:00:00.100000000Z","scope":"host","netns":)" +
         kHost +
         R"(,"values":{"net.ipv4.tcp_keepalive_time":"7200","kernel.kptr_restrict":"1","net.ipv4.tcp_rmem":"4096\t131072\t6291456"},)"
         R"("errors":{"net.ipv6.conf.lo.stable_secret":"EIO"}})"
         "\n";
}
std::string end_line() {
  return R"({"record":"session_end","time":"2026-11-22T11:10:00.000000000Z","reason":"signal","events":3,"by_type":{},"lost":0})"
         "\n";
}
const char* kCtr =
    R"({"id":"3f2a9c0d1e2b3f2a9c0d1e2b3f2a9c0d1e2b3f2a9c0d1e2b3f2a9c0d1e2b3f2a","runtime":"containerd","name":"web","pod":"web-0","namespace":"shop","pod_uid":"u1"})";

std::string common(const std::string& time, const std::string& event, const std::string& comm,
                   int pid, const std::string& netns, const std::string& container,
                   const std::string& netns_container, bool cross) {
  return R"({"time":"2026-11-22T11:)" + time + R"(Z","event":")" + event + R"(","proc":{"pid":)" +
         std::to_string(pid) + R"(,"tid":)" + std::to_string(pid) + R"(,"ppid":1,"comm":")" + comm +
         R"(","uid":0},"cgroup":{"id":1,"path":"/"},"netns":)" + netns + R"(,"container":)" +
         container + R"(,"netns_container":)" + netns_container + R"(,"cross_namespace":)" +
         (cross ? "true" : "false");
}
std::string write_line(const std::string& time, const std::string& comm, int pid,
                       const std::string& netns, const std::string& container,
                       const std::string& netns_container, bool cross, const std::string& sysctl,
                       const std::string& old_value, const std::string& value,
                       const std::string& result = "ok") {
  return common(time, "sysctl_write", comm, pid, netns, container, netns_container, cross) +
         R"(,"sysctl":")" + sysctl + R"(","old_value":")" + old_value + R"(","value":")" + value +
         R"(","result":")" + result + R"(","file_pos":0})" + "\n";
}

Recording parse(const std::string& data, const std::string& name = "rec.jsonl") {
  Recording r;
  parse_recording(data, name, r);
  return r;
}
std::string parse_error(const std::string& data) {
  try {
    parse(data);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}
bool has_warning(const Recording& r, const std::string& needle) {
  for (const auto& w : r.warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

// The seed scenario as the other branches document it: a runc linux.sysctl
// write, a blocked write inside the container, a host nsenter write into its
// netns, a netns birth with non-host defaults, a recon read and a loss.
std::string scenario() {
  std::string s = start_line() + baseline_host();
  s +=
      common("01:00.000000000", "netns_create", "runc:[1:CHILD]", 50, kCtrNs, kCtr, kCtr, false) +
      R"(,"parent_netns":)" + kHost +
      R"(,"via":"unshare","defaults":{"net.ipv4.tcp_keepalive_time":"7200","net.ipv4.tcp_congestion_control":"cubic"},)"
      R"("differs_from_host":[{"sysctl":"net.ipv4.tcp_keepalive_time","value":"7200","host":"600"}]})"
      "\n";
  s += write_line("01:00.100000000", "runc:[2:INIT]", 51, kCtrNs, kCtr, kCtr, false,
                  "net.ipv4.tcp_keepalive_time", "7200", "600");
  s +=
      common("01:05.000000000", "sysctl_blocked", "sh", 60, kCtrNs, kCtr, kCtr, false) +
      R"(,"sysctl":"net.ipv4.tcp_keepalive_time","path":"/proc/sys/net/ipv4/tcp_keepalive_time","errno":"EROFS","blocked_by":"read_only_mount","flags":"O_WRONLY|O_CREAT|O_TRUNC"})"
      "\n";
  s += write_line("02:00.000000000", "sh", 70, kCtrNs, "null", kCtr, true,
                  "net.ipv4.tcp_keepalive_time", "600", "900");
  s += common("03:00.000000000", "sysctl_read", "exploit", 80, kHost, "null", "null", false) +
       R"(,"sysctl":"kernel.kptr_restrict","value":"1","file_pos":0})"
       "\n";
  s += common("03:00.100000000", "sysctl_read", "exploit", 80, kHost, "null", "null", false) +
       R"(,"sysctl":"kernel.yama.ptrace_scope","value":"1","file_pos":0})"
       "\n";
  s += write_line("04:00.000000000", "sysctl", 90, kHost, "null", "null", false,
                  "net.ipv4.tcp_keepalive_time", "7200", "300");
  s += write_line("04:30.000000000", "sysctl", 91, kHost, "null", "null", false,
                  "net.ipv4.tcp_rmem", "4096\\t131072\\t6291456", "4096 131072 6291456");
  s += write_line("05:00.000000000", "echo", 92, kHost, "null", "null", false,
                  "net.ipv4.tcp_congestion_control", "cubic", "nope", "ENOENT");
  s +=
      R"({"time":"2026-11-22T11:06:00.000000000Z","event":"lost","proc":null,"cgroup":null,"netns":null,"container":null,"netns_container":null,"cross_namespace":false,"count":42})"
      "\n";
  return s + end_line();
}

}  // namespace

// ------------------------------------------------------------- reader ---

TEST(RecordingReader, EmptyAndBlankFilesAreErrorsNamingTheFile) {
  EXPECT_NE(parse_error("").find("rec.jsonl: empty file"), std::string::npos);
  EXPECT_NE(parse_error("\n\n  \n").find("rec.jsonl: empty file"), std::string::npos);
}

TEST(RecordingReader, ForeignFilesAreRejectedOnLineOne) {
  EXPECT_NE(parse_error("hello world\n").find("rec.jsonl:1: not a sysctlscope recording"),
            std::string::npos);
  EXPECT_NE(parse_error("\x7f"
                        "ELF\x02\x01\x01\0\0\0garbage")
                .find("rec.jsonl:1:"),
            std::string::npos);
  EXPECT_NE(parse_error("{\"foo\":1}\n").find("rec.jsonl:1: not a sysctlscope recording"),
            std::string::npos);
  EXPECT_NE(parse_error("[1,2,3]\n").find("rec.jsonl:1:"), std::string::npos);
  // A plain `trace -o json` stream is recognised and the user told what to use.
  std::string trace = write_line("00:01.0", "sh", 1, kHost, "null", "null", false, "a.b", "1", "2");
  EXPECT_NE(parse_error(trace).find("trace -o json"), std::string::npos);
  EXPECT_NE(parse_error(start_line(1, "other-tool")).find("format 'other-tool'"),
            std::string::npos);
}

TEST(RecordingReader, FutureAndInvalidVersionsAreRejected) {
  std::string e = parse_error(start_line(2) + baseline_host() + end_line());
  EXPECT_NE(e.find("rec.jsonl:1: recording format version 2 is newer"), std::string::npos) << e;
  EXPECT_NE(parse_error(start_line(0)).find("no valid format version"), std::string::npos);
}

TEST(RecordingReader, TruncatedHeaderIsAnError) {
  std::string s = start_line();
  EXPECT_NE(parse_error(s.substr(0, s.size() / 2))
                .find("rec.jsonl:1: file ends inside the session_start"),
            std::string::npos);
}

TEST(RecordingReader, CompleteRecordingParsesWithoutWarnings) {
  Recording r = parse(scenario());
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  ASSERT_EQ(r.sessions.size(), 1u);
  EXPECT_TRUE(r.sessions[0].end.has_value());
  ASSERT_EQ(r.sessions[0].baselines.size(), 1u);
  EXPECT_EQ(r.sessions[0].baselines[0].values.at("net.ipv4.tcp_keepalive_time"), "7200");
  EXPECT_EQ(r.sessions[0].baselines[0].errors.at("net.ipv6.conf.lo.stable_secret"), "EIO");
  EXPECT_EQ(r.events.size(), 10u);
  ASSERT_TRUE(r.events[2].is<SysctlBlocked>());
  EXPECT_EQ(r.events[2].as<SysctlBlocked>().blocked_by, BlockedBy::ReadOnlyMount);
}

TEST(RecordingReader, CutLastLineIsAWarningAndEverythingBeforeIsKept) {
  std::string s = scenario();
  s = s.substr(0, s.size() - end_line().size());  // killed: no session_end
  std::string last = write_line("09:00.0", "sh", 5, kHost, "null", "null", false, "a.b", "1", "2");
  Recording r = parse(s + last.substr(0, 50));
  EXPECT_EQ(r.events.size(), 10u);
  EXPECT_TRUE(r.sessions[0].incomplete_tail);
  EXPECT_FALSE(r.sessions[0].end.has_value());
  EXPECT_TRUE(has_warning(r, "rec.jsonl:13: last line is incomplete")) << r.warnings[0];
  EXPECT_TRUE(has_warning(r, "no session_end"));
}

TEST(RecordingReader, CorruptedLinesInTheMiddleAreSkippedWithTheirLineNumber) {
  std::string s = start_line() + baseline_host() + "{\"time\":garbage\n" + std::string(30, '\0') +
                  "\n" +
                  R"({"record":"from_the_future","x":1})"
                  "\n" +
                  write_line("01:00.0", "sh", 1, kHost, "null", "null", false, "a.b", "1", "2") +
                  R"({"time":"2026-11-22T11:00:01Z","event":"sysctl_teleport"})"
                  "\n" +
                  R"({"time":"2026-11-22T11:00:01Z","event":"sysctl_write","proc":{"pid":"x"}})"
                  "\n" +
                  R"({"time":"not a time","event":"sysctl_read"})"
                  "\n" +
                  end_line();
  Recording r = parse(s);
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(has_warning(r, "rec.jsonl:3: not a JSON object"));
  EXPECT_TRUE(has_warning(r, "rec.jsonl:4: line of NUL bytes"));
  EXPECT_TRUE(has_warning(r, "rec.jsonl:5: unknown record type 'from_the_future'"));
  EXPECT_TRUE(has_warning(r, "rec.jsonl:7: bad event: unknown event type"));
  EXPECT_TRUE(has_warning(r, "rec.jsonl:8: bad event"));
  EXPECT_TRUE(has_warning(r, "rec.jsonl:9: bad event"));
  EXPECT_EQ(r.skipped_lines, 6u);
}

TEST(RecordingReader, MostlyGarbageAfterAValidHeaderIsAnError) {
  std::string s = start_line();
  for (int i = 0; i < 40; ++i) s += "#%$ not json\n";
  EXPECT_NE(parse_error(s).find("lines are damaged"), std::string::npos);
}

TEST(RecordingReader, WarningsAreCappedPerFile) {
  std::string s = start_line() + baseline_host();
  for (int i = 0; i < 12; ++i)
    s += write_line("01:00.0", "sh", 1, kHost, "null", "null", false, "a.b", "1", "2");
  for (int i = 0; i < 12; ++i) s += "junk\n";
  Recording r = parse(s + end_line());
  EXPECT_EQ(r.skipped_lines, 12u);
  EXPECT_TRUE(has_warning(r, "2 more damaged lines ignored"));
}

TEST(RecordingReader, RecordsAfterSessionEndAreIgnored) {
  Recording r =
      parse(start_line() + end_line() +
            write_line("01:00.0", "sh", 1, kHost, "null", "null", false, "a.b", "1", "2"));
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(has_warning(r, "rec.jsonl:3: event after session_end"));
}

TEST(RecordingReader, BaselineValuesRoundTripIncludingInvalidUtf8) {
  Baseline b;
  b.scope = "netns";
  b.netns = 42;
  b.values["x.bad"] = std::string("a\xff\x01z", 4);
  b.values["x.good"] = "1\t2";
  b.errors["x.err"] = "EIO";
  std::string line = baseline_json(b, 1).dump() + "\n";
  Recording r = parse(start_line() + line + end_line());
  ASSERT_EQ(r.sessions[0].baselines.size(), 1u);
  const auto& got = r.sessions[0].baselines[0];
  EXPECT_EQ(got.values.at("x.bad"), std::string("a\xff\x01z", 4));
  EXPECT_EQ(got.values.at("x.good"), "1\t2");
  EXPECT_EQ(got.errors.at("x.err"), "EIO");
  EXPECT_EQ(got.netns, 42u);
}

TEST(RecordingReader, DeepNestingAndHugeNumbersDoNotCrash) {
  std::string deep(20000, '[');
  Recording r = parse(
      start_line() + deep + "\n" +
      R"({"event":"sysctl_write","time":"2026-11-22T11:00:01Z","proc":{"pid":99999999999999999999999}})"
      "\n" +
      end_line());
  EXPECT_EQ(r.skipped_lines, 2u);
}

// -------------------------------------------------------------- model ---

TEST(ReportModel, TimelineHasWritesAndBlockedWritesWithWhoAndWhere) {
  Report r = build_report(parse(scenario()));
  ASSERT_EQ(r.timeline.size(), 6u);
  const auto& runc = r.timeline[0];
  EXPECT_EQ(runc.kind, "write");
  EXPECT_EQ(runc.who, "container 3f2a9c0d1e2b (web) pod shop/web-0: runc:[2:INIT][51]");
  EXPECT_EQ(runc.where, "container 3f2a9c0d1e2b (web) pod shop/web-0");
  EXPECT_EQ(runc.old_value, "7200");
  EXPECT_EQ(runc.value, "600");
  EXPECT_EQ(runc.result, "ok");
  const auto& blocked = r.timeline[1];
  EXPECT_EQ(blocked.kind, "blocked");
  EXPECT_EQ(blocked.result, "EROFS");
  EXPECT_EQ(blocked.detail, "read_only_mount path=/proc/sys/net/ipv4/tcp_keepalive_time");
  EXPECT_TRUE(blocked.failed);
  const auto& failed = r.timeline[5];
  EXPECT_EQ(failed.result, "ENOENT");
  EXPECT_TRUE(failed.failed);
}

TEST(ReportModel, HostIntoContainerWritesAreListed) {
  Report r = build_report(parse(scenario()));
  ASSERT_EQ(r.cross.size(), 1u);
  EXPECT_EQ(r.cross[0].who, "host: sh[70]");
  EXPECT_EQ(r.cross[0].where, "container 3f2a9c0d1e2b (web) pod shop/web-0");
  EXPECT_EQ(r.groups.at("container 3f2a9c0d1e2b (web) pod shop/web-0").cross_in, 1u);
}

TEST(ReportModel, CrossNamespaceIsInferredFromTheBaselineOwnerWhenNotCaptured) {
  std::string s =
      start_line() + baseline_host() +
      R"({"record":"baseline","time":"2026-11-22T11:00:00.2Z","scope":"netns","netns":)" + kCtrNs +
      R"(,"container":{"id":"abc","runtime":"runc","name":null},"values":{"net.ipv4.tcp_keepalive_time":"7200"},"errors":{}})"
      "\n" +
      write_line("01:00.0", "nsenter", 7, kCtrNs, "null", "null", false,
                 "net.ipv4.tcp_keepalive_time", "7200", "600") +
      end_line();
  Report r = build_report(parse(s));
  ASSERT_EQ(r.cross.size(), 1u);
  EXPECT_EQ(r.cross[0].where, "container abc");
  ASSERT_EQ(r.drift.size(), 1u);
  EXPECT_EQ(r.drift[0].baseline, "7200");
  EXPECT_EQ(r.drift[0].final_value, "600");
}

TEST(ReportModel, NetnsBirthsCarryTheirNonHostDefaults) {
  Report r = build_report(parse(scenario()));
  ASSERT_EQ(r.births.size(), 1u);
  EXPECT_EQ(r.births[0].via, "unshare");
  EXPECT_EQ(r.births[0].defaults, 2u);
  EXPECT_EQ(std::to_string(r.births[0].parent_netns), kHost);
  ASSERT_EQ(r.births[0].differs.size(), 1u);
  EXPECT_EQ(r.births[0].differs[0].sysctl, "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(r.births[0].differs[0].value, "7200");
  EXPECT_EQ(r.births[0].differs[0].host, "600");
}

TEST(ReportModel, DriftComparesFinalValuesWithTheBaselineOrBirthDefaults) {
  Report r = build_report(parse(scenario()));
  // Host keepalive 7200 -> 300; the container's birth default 7200 -> 900 (last write);
  // tcp_rmem rewritten with spaces is the same value; the failed write changes nothing.
  ASSERT_EQ(r.drift.size(), 2u);
  EXPECT_EQ(r.drift[0].scope, "container 3f2a9c0d1e2b (web) pod shop/web-0 (netns " + kCtrNs + ")");
  EXPECT_EQ(r.drift[0].baseline, "7200");
  EXPECT_EQ(r.drift[0].final_value, "900");
  EXPECT_EQ(r.drift[0].changed_by, "host: sh[70] at 11:02:00.000");
  EXPECT_EQ(r.drift[1].scope, "host");
  EXPECT_EQ(r.drift[1].sysctl, "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(r.drift[1].final_value, "300");
}

TEST(ReportModel, ReconnaissanceGroupsSecurityReadsPerProcess) {
  Report r = build_report(parse(scenario()));
  ASSERT_EQ(r.recon.size(), 1u);
  EXPECT_EQ(r.recon[0].who, "host: exploit[80]");
  EXPECT_EQ(r.recon[0].reads, 2u);
  EXPECT_EQ(r.recon[0].sysctls,
            (std::vector<std::string>{"kernel.kptr_restrict", "kernel.yama.ptrace_scope"}));
  EXPECT_TRUE(is_security_relevant("fs.protected_symlinks"));
  EXPECT_TRUE(is_security_relevant("kernel.modprobe"));
  EXPECT_FALSE(is_security_relevant("net.ipv4.tcp_keepalive_time"));
}

TEST(ReportModel, LostEventsAreCountedAndShownFirst) {
  Report r = build_report(parse(scenario()));
  EXPECT_EQ(r.lost, 42u);
  std::string text = render_text(r);
  EXPECT_LT(text.find("42 EVENTS LOST"), text.find("== Sessions"));
  std::string html = render_html(r);
  EXPECT_NE(html.find("<div class=\"lost\" id=\"lost\">42 events LOST"), std::string::npos);
}

TEST(ReportModel, GroupedByContainer) {
  Report r = build_report(parse(scenario()));
  const auto& c = r.groups.at("container 3f2a9c0d1e2b (web) pod shop/web-0");
  EXPECT_EQ(c.writes, 1u);
  EXPECT_EQ(c.blocked, 1u);
  EXPECT_EQ(c.births, 1u);
  const auto& h = r.groups.at("host");
  EXPECT_EQ(h.writes, 4u);
  EXPECT_EQ(h.failed_writes, 1u);
  EXPECT_EQ(h.recon, 1u);
}

TEST(ReportModel, IncompleteSessionStillReports) {
  std::string s = scenario();
  s = s.substr(0, s.size() - end_line().size() - 20);
  Recording rec = parse(s);
  Report r = build_report(rec);
  EXPECT_EQ(r.timeline.size(), 6u);
  EXPECT_EQ(r.sessions[0]["end_reason"], "incomplete: no session_end (recorder killed or crashed)");
  EXPECT_NE(render_text(r).find("warning: rec.jsonl:"), std::string::npos);
}

TEST(ReportModel, JsonRenderingIsValidJsonEvenWithInvalidUtf8) {
  std::string s = start_line() +
                  write_line("01:00.0", "sh", 1, kHost, "null", "null", false, "a.b", "1", "x") +
                  end_line();
  Recording rec = parse(s);
  rec.events[0].as<SysctlWrite>().value = std::string("\xff\xfe", 2);
  auto j = nlohmann::json::parse(render_json(build_report(rec)));
  EXPECT_EQ(j["timeline"].size(), 1u);
  EXPECT_EQ(j["timeline"][0]["sysctl"], "a.b");
}

// ----------------------------------------------------------- escaping ---

TEST(ReportEscaping, HtmlEscapesEveryHostileString) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
  EXPECT_EQ(html_escape(std::string("a\x1b[31m\xff", 7)), "a\\x1b[31m\\xff");
  // Bidi override cannot reorder the page.
  EXPECT_EQ(html_escape("\xE2\x80\xAE"
                        "abc")
                .find("\xE2\x80\xAE"),
            std::string::npos);
}

TEST(ReportEscaping, HostileValuesNeverReachTheHtmlRaw) {
  const std::string evil = R"(<img src=x onerror=alert(1)><script>fetch('http://evil/')</script>)";
  nlohmann::json esc = evil;
  std::string e = esc.dump();  // quoted JSON string
  std::string ctr = R"({"id":)" + e + R"(,"runtime":"docker","name":)" + e +
                    R"(,"pod":null,"namespace":null,"pod_uid":null})";
  std::string s =
      start_line() +
      common("01:00.0", "sysctl_write", evil.substr(0, 15), 1, kHost, ctr, "null", false) +
      R"(,"sysctl":)" + e + R"(,"old_value":)" + e + R"(,"value":)" + e + R"(,"result":)" + e +
      "}\n" + common("01:01.0", "sysctl_blocked", "sh", 2, kHost, ctr, "null", false) +
      R"(,"sysctl":"a.b","path":)" + e + R"(,"errno":)" + e + R"(,"blocked_by":)" + e + "}\n" +
      common("01:02.0", "netns_create", "sh", 3, kHost, ctr, "null", false) +
      R"(,"parent_netns":1,"via":)" + e + R"(,"defaults":{},"differs_from_host":[{"sysctl":)" + e +
      R"(,"value":)" + e + R"(,"host":)" + e + "}]}\n" + end_line();
  std::string html = render_html(build_report(parse(s)));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;fetch(&#39;http://evil/&#39;)"), std::string::npos);
  // Self-contained: nothing the browser would fetch.
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_EQ(html.find("href=\""), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"chart\""), std::string::npos);
}

TEST(ReportEscaping, TextReportIsTerminalSafe) {
  std::string s = start_line() +
                  write_line("01:00.0", "sh", 1, kHost, "null", "null", false, "a.b", "1",
                             "\\u001b]0;pwned\\u0007") +
                  end_line();
  std::string text = render_text(build_report(parse(s)));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("\\x1b]0;pwned\\x07"), std::string::npos);
}

TEST(ReportModel, SeveralFilesMergeInTimeOrder) {
  Recording rec;
  std::string a = start_line() +
                  write_line("05:00.0", "late", 2, kHost, "null", "null", false, "a.b", "1", "2") +
                  end_line();
  std::string b = start_line() +
                  write_line("01:00.0", "early", 1, kHost, "null", "null", false, "a.b", "0", "1");
  parse_recording(a, "a.jsonl", rec);
  parse_recording(b, "b.jsonl", rec);
  ASSERT_EQ(rec.sessions.size(), 2u);
  EXPECT_EQ(rec.sessions[1].first_event, 1u);
  EXPECT_TRUE(has_warning(rec, "b.jsonl: no session_end"));
  Report r = build_report(rec);
  ASSERT_EQ(r.sessions.size(), 2u);
  EXPECT_EQ(r.sessions[1]["file"], "b.jsonl");
  ASSERT_EQ(r.timeline.size(), 2u);
  EXPECT_EQ(r.timeline[0].who, "host: early[1]");
  EXPECT_EQ(r.timeline[1].who, "host: late[2]");
}

// `diff --from` (user/netns) reads the same files: session records are skipped.
TEST(RecordingReader, NetnsDiffFromAcceptsRecordFiles) {
  auto rec = netns::parse_recording(scenario(), "rec.jsonl");
  EXPECT_EQ(rec.events, 10u);
  EXPECT_EQ(rec.defaults.at(std::stoull(kCtrNs)).at("net.ipv4.tcp_keepalive_time"), "7200");
}

// ------------------------------------------------- truth in the report ---

namespace {
std::string read_line(const std::string& time, const std::string& sysctl, const std::string& value) {
  return common(time, "sysctl_read", "cat", 40, kHost, "null", "null", false) +
         R"(,"sysctl":")" + sysctl + R"(","value":")" + value + R"(","file_pos":0})" + "\n";
}
std::string baseline_with(const std::string& values, const std::string& extra = "") {
  return R"({"record":"baseline","time":"2026-11-22T11:00:00.100000000Z","scope":"host","netns":)" +
         kHost + R"(,"values":{)" + values + R"(},"errors":{})" + extra + "}\n";
}
}  // namespace

// The case that went wrong: `echo abc > tcp_fin_timeout` came back not_applied (or
// unknown); the report said "60 -> abc" under drift.
TEST(ReportTruth, RefusedAndUnknownWritesAreNeverAChangeOfValue) {
  std::string s =
      start_line() + baseline_with(R"("net.ipv4.tcp_fin_timeout":"60","net.ipv4.tcp_keepalive_time":"7200")") +
      write_line("01:00.0", "sh", 5, kHost, "null", "null", false, "net.ipv4.tcp_fin_timeout", "60",
                 "abc", "not_applied") +
      write_line("01:01.0", "sh", 6, kHost, "null", "null", false, "net.ipv4.tcp_keepalive_time",
                 "7200", "321", "unknown") +
      write_line("01:02.0", "sh", 7, kHost, "null", "null", false, "net.ipv4.tcp_fin_timeout", "60",
                 "x", "EINVAL") +
      end_line();
  Report r = build_report(parse(s));
  EXPECT_TRUE(r.drift.empty()) << r.drift[0].sysctl << ": " << r.drift[0].final_value;
  ASSERT_EQ(r.failed_writes.size(), 2u);
  EXPECT_EQ(r.failed_writes[0].result, "not_applied");
  EXPECT_EQ(r.failed_writes[1].result, "EINVAL");
  ASSERT_EQ(r.unknown_writes.size(), 1u);
  EXPECT_EQ(r.unknown_writes[0].sysctl, "net.ipv4.tcp_keepalive_time");

  std::string text = render_text(r);
  EXPECT_EQ(text.find("60 -> abc"), std::string::npos) << text;
  EXPECT_EQ(text.find("7200 -> 321"), std::string::npos) << text;
  EXPECT_NE(text.find("net.ipv4.tcp_fin_timeout: refused abc (stays 60) [not_applied]"), std::string::npos) << text;
  EXPECT_NE(text.find("net.ipv4.tcp_keepalive_time: wrote 321 (was 7200), outcome unknown [unknown]"),
            std::string::npos) << text;
  EXPECT_NE(text.find("== Failed writes: refused, the value did not change (2)"), std::string::npos);
  EXPECT_NE(text.find("== Drift from the baseline (0)"), std::string::npos);

  auto j = nlohmann::json::parse(render_json(r));
  EXPECT_TRUE(j["drift"].empty());
  ASSERT_EQ(j["failed_writes"].size(), 2u);
  EXPECT_EQ(j["failed_writes"][0]["applied"], false);
  ASSERT_EQ(j["unknown_writes"].size(), 1u);
  EXPECT_TRUE(j["unknown_writes"][0]["applied"].is_null());

  std::string html = render_html(r);
  EXPECT_NE(html.find("<i>unchanged</i>, refused: abc"), std::string::npos);
  EXPECT_NE(html.find("<i>unknown</i>, attempted: 321"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"failed-writes\">"), std::string::npos);
  EXPECT_EQ(html.find("<td class=\"v\">abc</td>"), std::string::npos) << "never shown as a new value";
}

// A write of unknown outcome becomes drift only when a later read shows its value.
TEST(ReportTruth, UnknownWriteConfirmedByAReadIsDriftAndSaysSo) {
  std::string s = start_line() + baseline_with(R"("net.ipv4.tcp_keepalive_time":"7200")") +
                  write_line("01:00.0", "sh", 6, kHost, "null", "null", false,
                             "net.ipv4.tcp_keepalive_time", "7200", "321", "unknown") +
                  read_line("01:05.0", "net.ipv4.tcp_keepalive_time", "321") + end_line();
  Report r = build_report(parse(s));
  ASSERT_EQ(r.drift.size(), 1u);
  EXPECT_EQ(r.drift[0].final_value, "321");
  EXPECT_EQ(r.drift[0].changed_by,
            "host: sh[6] at 11:01:00.000 (write result unknown; its value was seen by a read at 11:01:05.000)");
}

TEST(ReportTruth, SysctlsThatChangeByThemselvesAreAVolatileGroup) {
  std::string s =
      start_line() +
      baseline_with(R"("fs.file-nr":"1\t0\t9","kernel.random.uuid":"a","fs.odd_counter":"1","kernel.ns_last_pid":"10","kernel.kptr_restrict":"1")",
                    R"(,"volatile":["fs.odd_counter"])") +
      read_line("01:00.0", "fs.file-nr", "5\\t0\\t9") + read_line("01:00.1", "kernel.random.uuid", "b") +
      read_line("01:00.2", "fs.odd_counter", "7") + read_line("01:00.3", "kernel.kptr_restrict", "0") +
      // A write to a volatile sysctl is a write: drift.
      write_line("01:01.0", "sh", 6, kHost, "null", "null", false, "kernel.ns_last_pid", "10", "999") +
      end_line();
  Report r = build_report(parse(s));
  ASSERT_EQ(r.drift.size(), 2u);
  EXPECT_EQ(r.drift[0].sysctl, "kernel.kptr_restrict");
  EXPECT_EQ(r.drift[1].sysctl, "kernel.ns_last_pid");
  ASSERT_EQ(r.volatile_drift.size(), 3u);
  EXPECT_EQ(r.volatile_drift[0].sysctl, "fs.file-nr");
  EXPECT_EQ(r.volatile_drift[0].volatile_reason, volatile_reason("fs.file-nr"));
  EXPECT_EQ(r.volatile_drift[2].sysctl, "fs.odd_counter");
  EXPECT_EQ(r.volatile_drift[2].volatile_reason, "changed between two reads of the baseline with no write");
  for (const char* n : {"fs.dentry-state", "fs.inode-nr", "fs.inode-state", "kernel.random.entropy_avail"})
    EXPECT_NE(volatile_reason(n), nullptr) << n;
  EXPECT_EQ(volatile_reason("kernel.kptr_restrict"), nullptr);

  auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(j["volatile"].size(), 3u);
  EXPECT_EQ(j["volatile"][1]["reason"], volatile_reason("kernel.random.uuid"));
  std::string html = render_html(r);
  // Collapsed: a <details> without `open`.
  EXPECT_NE(html.find("<details id=\"volatile\"><summary>Volatile sysctls: changed by themselves, not drift (3)"),
            std::string::npos);
  std::string text = render_text(r);
  EXPECT_LT(text.find("== Drift from the baseline (2)"), text.find("== Volatile sysctls"));
}

TEST(ReportTruth, BaselineVolatileNamesRoundTrip) {
  Baseline b;
  b.scope = "host";
  b.netns = 1;
  b.values = {{"fs.file-nr", "1"}};
  b.volatile_names = {"fs.file-nr"};
  std::string s = start_line() + baseline_json(b, 1).dump() + "\n" + end_line();
  Recording rec = parse(s);
  ASSERT_EQ(rec.sessions[0].baselines.size(), 1u);
  EXPECT_EQ(rec.sessions[0].baselines[0].volatile_names, std::vector<std::string>{"fs.file-nr"});
}

// Hundreds of writes in one second: one numbered marker per lane, not a blot.
TEST(ReportTruth, BusySecondBecomesOneNumberedMarkerPerLane) {
  std::string s = start_line() + baseline_host();
  for (int i = 0; i < 300; ++i) {
    char t[32];
    std::snprintf(t, sizeof t, "01:00.%09d", i * 1000000);
    s += write_line(t, "sh", 100 + i, kCtrNs, kCtr, kCtr, false, "net.ipv4.tcp_keepalive_time",
                    "7200", std::to_string(1000 + i), i % 3 ? "ok" : "not_applied");
  }
  s += write_line("09:00.0", "sh", 9, kHost, "null", "null", false, "net.ipv4.tcp_keepalive_time",
                  "7200", "300");
  s += end_line();
  std::string html = render_html(build_report(parse(s)));
  size_t clusters = 0;
  for (size_t p = 0; (p = html.find("class=\"m-cluster\"", p)) != std::string::npos; ++p) ++clusters;
  EXPECT_EQ(clusters, 1u);
  EXPECT_NE(html.find("class=\"m-cluster\" data-count=\"300\""), std::string::npos);
  EXPECT_NE(html.find("300 events (100 failed, 0 blocked, 0 unknown"), std::string::npos);
  size_t singles = 0;
  for (size_t p = 0; (p = html.find("class=\"m-write\"", p)) != std::string::npos; ++p) ++singles;
  EXPECT_EQ(singles, 1u) << "the lone host write keeps its own marker";
}

// A recorded policy that does not parse is a warning of the report (with the
// policy's own file:line message), not a failure and not a drift section.
TEST(ReportModel, ARecordedPolicyThatDoesNotParseIsAWarning) {
  std::string s = scenario();
  const size_t warned = build_report(parse(s)).warnings.size();
  s.replace(s.find("}\n"), 2,
            R"(,"policy":{"enforce":"off","files":[{"file":"p.conf","text":"kernel.kptr_restrict\n"}]}})"
            "\n");
  Report r = build_report(parse(s));
  EXPECT_FALSE(r.policy_files);
  ASSERT_EQ(r.warnings.size(), warned + 1);
  EXPECT_NE(r.warnings.back().find(": the recorded policy does not parse: p.conf:1: "), std::string::npos)
      << r.warnings[0];
}

// record --policy: the report judges the final values by the recorded policy.
TEST(ReportModel, PolicyDriftUsesThePolicyTheRecordingCarries) {
  std::string s = scenario();
  EXPECT_FALSE(build_report(parse(s)).policy_files) << "no policy, no section";
  const std::string pol =
      R"(,"policy":{"enforce":"off","files":[{"file":"p.conf","text":"net.ipv4.tcp_keepalive_time = 7200\nkernel.kptr_restrict = 2\n# sysctlscope: pod=web-*\nnet.ipv4.tcp_keepalive_time = 600\n"}]}})";
  s.replace(s.find("}\n"), 2, pol + "\n");
  Report r = build_report(parse(s));
  ASSERT_TRUE(r.policy_files);
  EXPECT_EQ(*r.policy_files, std::vector<std::string>{"p.conf"});
  ASSERT_EQ(r.policy_drift.size(), 3u);
  // Unchanged since before the session, and still wrong.
  EXPECT_EQ(r.policy_drift[0].sysctl, "kernel.kptr_restrict");
  EXPECT_EQ(r.policy_drift[0].value, "1");
  EXPECT_EQ(r.policy_drift[0].policy, "p.conf:2");
  EXPECT_EQ(r.policy_drift[0].changed_by, "before the session");
  EXPECT_EQ(r.policy_drift[1].scope, "host");
  EXPECT_EQ(r.policy_drift[1].value, "300");
  EXPECT_EQ(r.policy_drift[1].expected, "7200");
  EXPECT_EQ(r.policy_drift[1].changed_by, "sysctl[90]");
  // The pod's namespace is judged by the pod's rule.
  EXPECT_EQ(r.policy_drift[2].value, "900");
  EXPECT_EQ(r.policy_drift[2].expected, "600");
  EXPECT_EQ(r.policy_drift[2].policy, "p.conf:4");
  EXPECT_NE(render_text(r).find("== Drift from the recorded policy (3)"), std::string::npos);
  auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(j["policy"]["files"][0], "p.conf");
  EXPECT_EQ(j["policy"]["drift"].size(), 3u);
}
