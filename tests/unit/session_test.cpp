// SPDX-License-Identifier: Apache-2.0
// The live session's assembly (user/session/) and the one argument struct
// of trace and record (user/cli/live.hpp). No root: nothing is loaded.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "cli/live.hpp"
#include "core/error.hpp"
#include "fakes.hpp"
#include "pipeline/pipeline.hpp"
#include "session/session.hpp"

using namespace sysctlscope;
using sstest::VecSink;

namespace {

std::vector<std::string> stages_of(const session::Options& o) {
  VecSink sink;
  return session::Session(o, sink).stage_names();
}

using Names = std::vector<std::string>;

// `trace ARGS` or `record ARGS` parsed by the command's own options.
cli::LiveArgs::Built build(cli::LiveCommand cmd, std::vector<std::string> args) {
  CLI::App app;
  cli::LiveArgs a;
  a.command = cmd;
  a.add_to(&app);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  app.parse(args);
  return a.build("");
}

std::string usage_error(cli::LiveCommand cmd, std::vector<std::string> args) {
  try {
    build(cmd, std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  } catch (const CLI::ParseError& e) {
    return std::string("parse: ") + e.what();
  }
  return "";
}

}  // namespace

TEST(Session, StagesFollowTheOptions) {
  session::Options o;
  // Always the enricher and the birth snapshots; read-back by default.
  EXPECT_EQ(stages_of(o), (Names{"containers", "readback", "births"}));
  o.write_results = WriteResultMode::Syscall;
  EXPECT_EQ(stages_of(o), (Names{"containers", "births"}));

  // Output wrappers first (metrics counts what the exporter also sends),
  // then the followers in the order their events follow: drift, detections.
  policy::Policy pol;
  detect::Detector det({}, detect::Severity::Info);
  o.write_results = WriteResultMode::Readback;
  o.policy = &pol;
  o.detector = &det;
  o.metrics = metrics::Endpoint{"127.0.0.1", 9};
  o.otlp = exporter::OtlpConfig{};
  EXPECT_EQ(stages_of(o), (Names{"metrics", "otlp", "containers", "policy", "detect", "readback",
                                 "births"}));
}

TEST(Session, CallerStagesComeLast) {
  struct Mine final : session::Stage {
    const char* name() const override { return "mine"; }
  };
  VecSink sink;
  session::Options o;
  o.write_results = WriteResultMode::Syscall;
  session::Session s(o, sink);
  s.add(std::make_unique<Mine>());
  EXPECT_EQ(s.stage_names(), (Names{"containers", "births", "mine"}));
}

// The followers of an event (policy drift, detections) leave right after
// it, in order, each seeing what an earlier one amended.
TEST(Session, FollowersComeAfterTheirEventInOrder) {
  PipelineConfig c;
  c.followers.push_back([](Event& e) {
    e.comm = "amended";
    Event d(SysctlRead{.sysctl = "first"});
    return std::vector<Event>{d};
  });
  c.followers.push_back([](Event& e) {
    EXPECT_EQ(e.comm, "amended");
    return std::vector<Event>{Event(SysctlRead{.sysctl = "second"})};
  });
  c.filter.sysctl_globs = {"net.*", "second"};  // the filter applies to followers too
  VecSink sink;
  Pipeline p(std::move(c), sink);
  p.feed(Event(SysctlRead{.sysctl = "net.ipv4.ip_forward"}));
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].as<SysctlRead>().sysctl, "net.ipv4.ip_forward");
  EXPECT_EQ(sink.events[0].comm, "amended");
  EXPECT_EQ(sink.events[1].as<SysctlRead>().sysctl, "second");
}

TEST(LiveArgs, TraceAndRecordShareTheirOptions) {
  const std::vector<std::string> shared = {"--type",          "sysctl_write",   "--sysctl",
                                           "net.ipv4.*",      "--duration",     "2.5",
                                           "--ringbuf-size",  "64k",            "--cgroup",
                                           "/system.slice",   "--write-results", "syscall"};
  auto t = build(cli::LiveCommand::Trace, shared);
  auto rargs = shared;
  rargs.insert(rargs.end(), {"-o", "x.jsonl", "--max-size", "1M"});
  auto r = build(cli::LiveCommand::Record, rargs);
  for (const auto* b : {&t, &r}) {
    EXPECT_EQ(b->opt.duration_s, 2.5);
    EXPECT_EQ(b->opt.ringbuf_bytes, 65536u);
    EXPECT_EQ(b->opt.cgroup, "/system.slice");
    EXPECT_EQ(b->opt.write_results, WriteResultMode::Syscall);
    EXPECT_EQ(b->opt.filter.sysctl_globs, std::vector<std::string>{"net.ipv4.*"});
    EXPECT_FALSE(b->opt.policy);
    EXPECT_FALSE(b->opt.metrics);
  }
  EXPECT_EQ(r.max_size, 1u << 20);
  EXPECT_EQ(t.max_size, 0u);
}

TEST(LiveArgs, EachCommandKeepsItsOwnOptionsAndErrors) {
  using cli::LiveCommand;
  EXPECT_EQ(build(LiveCommand::Trace, {"--count", "3"}).opt.count, 3u);
  EXPECT_NE(usage_error(LiveCommand::Record, {"-o", "x", "--count", "3"}).find("parse: "),
            std::string::npos)
      << "record has no --count";
  EXPECT_NE(usage_error(LiveCommand::Trace, {"--max-size", "1M"}).find("parse: "),
            std::string::npos)
      << "trace has no --max-size";
  EXPECT_NE(usage_error(LiveCommand::Record, {}).find("parse: "), std::string::npos)
      << "record needs -o";
  EXPECT_EQ(usage_error(LiveCommand::Record, {"-o", "x", "--max-size", "1k"}),
            "--max-size must be at least 64k");
  EXPECT_EQ(usage_error(LiveCommand::Trace, {"--count", "-1"}),
            "--count must be a positive number");
  for (auto cmd : {LiveCommand::Trace, LiveCommand::Record}) {
    std::vector<std::string> o = cmd == LiveCommand::Record
                                     ? std::vector<std::string>{"-o", "x"}
                                     : std::vector<std::string>{};
    auto with = [&](std::vector<std::string> more) {
      auto v = o;
      v.insert(v.end(), more.begin(), more.end());
      return v;
    };
    EXPECT_EQ(usage_error(cmd, with({"--duration", "-1"})),
              "--duration must be a positive number of seconds");
    EXPECT_EQ(usage_error(cmd, with({"--ringbuf-size", "3M"})),
              "--ringbuf-size must be a power of two between 64k and 1G");
    EXPECT_EQ(usage_error(cmd, with({"--metrics-label-filter", "pod"})),
              "--metrics-label-filter needs --metrics-addr");
    EXPECT_EQ(usage_error(cmd, with({"--otlp-protocol", "http/json"})),
              "--otlp-protocol needs --otlp-endpoint");
    EXPECT_EQ(usage_error(cmd, with({"--write-results", "exact"})),
              "--write-results must be readback or syscall, not 'exact'");
  }
}
