// SPDX-License-Identifier: Apache-2.0
// The metrics layer without a kernel: what each event adds to which series,
// the exposition text (checked by Prometheus' own promtool), the endpoint
// parser, and the HTTP server: /healthz states, unknown paths, and clients
// that connect and send nothing (they lose their worker after the read
// timeout; counting never waits for them).
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/error.hpp"
#include "fakes.hpp"
#include "harness.hpp"
#include "metrics/counting_sink.hpp"
#include "metrics/metrics.hpp"
#include "metrics/server.hpp"

using namespace sysctlscope;
using namespace sysctlscope::metrics;

namespace {
Event write_event(std::string result) {
  SysctlWrite w;
  w.sysctl = "net.ipv4.ip_forward";
  w.result = parse_write_outcome(result).value();
  return Event(std::move(w));
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

// promtool check metrics reads the exposition on stdin; exit 0 = valid.
sstest::RunResult promtool(const std::string& text) {
  return sstest::run({"promtool", "check", "metrics"}, text);
}
}  // namespace

TEST(Metrics, ParseEndpoint) {
  auto ep = parse_endpoint("127.0.0.1:9090");
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 9090);
  EXPECT_EQ(parse_endpoint(":2112").host, "0.0.0.0");
  EXPECT_EQ(parse_endpoint("[::1]:80").host, "::1");
  for (const char* bad : {"9090", "host:", "a:b", "1.2.3.4:70000", "::1:80", "h:123456"})
    EXPECT_THROW(parse_endpoint(bad), UsageError) << bad;
}

TEST(Metrics, ParseLabelFilter) {
  EXPECT_FALSE(parse_label_filter("").any());
  auto f = parse_label_filter("pod,namespace");
  EXPECT_TRUE(f.pod && f.k8s_namespace && !f.container);
  EXPECT_THROW(parse_label_filter("pod,binary"), UsageError);
  EXPECT_THROW(parse_label_filter("pod,"), UsageError);
}

TEST(Metrics, CountsWhatTheOutputGets) {
  Metrics m;
  sstest::VecSink out;
  CountingSink sink(out, m);
  SysctlRead r;
  r.sysctl = "kernel.ostype";
  sink.write(Event(r));
  sink.write(Event(r));
  sink.write(write_event("ok"));
  sink.write(write_event("EINVAL"));
  sink.write(write_event(""));  // result not known: "unknown"
  sink.write(write_event("E200"));  // an errno past the kernel's range
  SysctlBlocked b;
  b.blocked_by = BlockedBy::ReadOnlyMount;
  Event be(b);
  be.cross_namespace = true;
  sink.write(be);
  sink.write(Event(Lost{5}));
  NetnsCreate n;
  n.differs_from_host = std::vector<HostDiff>{{"net.core.somaxconn", "4096", "128"}};
  sink.write(Event(n));
  sink.write(Event(NetnsCreate{}));
  EXPECT_EQ(out.events.size(), 10u);

  m.set_ringbuf_bytes(1 << 20);
  m.set_containers_known(3);
  m.set_build_info("6.18.0", "fexit,task storage");
  const std::string t = m.render();
  EXPECT_TRUE(has_line(t, R"(sysctlscope_events_total{event="sysctl_read"} 2)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_events_total{event="sysctl_write"} 4)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_events_total{event="sysctl_blocked"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_events_total{event="netns_enter"} 0)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_events_total{event="lost"} 1)")) << t;
  // Every public type of the registry has its series, 0 until seen.
  for_each_event_type([&](auto ty) {
    using T = typename decltype(ty)::type;
    const std::string series =
        "sysctlscope_events_total{event=\"" + std::string(T::kInfo.name) + "\"} ";
    if (T::kInfo.is_public) {
      EXPECT_NE(t.find("\n" + series), std::string::npos) << series << t;
    }
  });
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_write_results_total{result="ok"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_write_results_total{result="EINVAL"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_write_results_total{result="unknown"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_write_results_total{result="other"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_write_results_total{result="not_applied"} 0)"))
      << t;
  // Errno results never seen have no series.
  EXPECT_EQ(t.find("result=\"EPERM\""), std::string::npos) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_blocked_total{blocked_by="read_only_mount"} 1)"))
      << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_sysctl_blocked_total{blocked_by="permission"} 0)")) << t;
  EXPECT_TRUE(has_line(t, "sysctlscope_lost_events_total 5")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_netns_births_total{differs_from_host="true"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sysctlscope_netns_births_total{differs_from_host="unknown"} 1)")) << t;
  EXPECT_TRUE(has_line(t, "sysctlscope_cross_namespace_events_total 1")) << t;
  EXPECT_TRUE(has_line(t, "sysctlscope_containers_known 3")) << t;
  EXPECT_TRUE(has_line(t, "sysctlscope_ringbuf_size_bytes 1048576")) << t;
  EXPECT_NE(t.find(R"(sysctlscope_build_info{version=")"), std::string::npos) << t;
  EXPECT_NE(t.find(R"(kernel="6.18.0",missing_features="fexit,task storage"} 1)"),
            std::string::npos)
      << t;
  auto pt = promtool(t);
  EXPECT_EQ(pt.status, 0) << pt.out << pt.err << t;
}

TEST(Metrics, ContainerLabelsOnlyWhenAsked) {
  Metrics plain;
  SysctlRead r;
  Event e(r);
  e.container = ContainerInfo{"0123456789abcdef", Runtime::Docker, "web\"1", "shop-0", "prod", "uid"};
  plain.count(e);
  plain.publish();
  EXPECT_EQ(plain.render().find("container="), std::string::npos);

  Metrics m(parse_label_filter("container,pod,namespace"));
  m.count(e);
  m.count(e);
  Event host(r);
  m.count(host);
  // Published at the tick, not per event.
  EXPECT_EQ(m.render().find("shop-0"), std::string::npos);
  m.publish();
  const std::string t = m.render();
  EXPECT_TRUE(has_line(
      t,
      R"(sysctlscope_events_total{event="sysctl_read",container="web\"1",pod="shop-0",namespace="prod"} 2)"))
      << t;
  EXPECT_TRUE(has_line(
      t, R"(sysctlscope_events_total{event="sysctl_read",container="",pod="",namespace=""} 1)"))
      << t;
  auto pt = promtool(t);
  EXPECT_EQ(pt.status, 0) << pt.out << pt.err << t;
}

TEST(Metrics, LabelSetsAreBounded) {
  Metrics m(parse_label_filter("container"));
  SysctlRead r;
  for (size_t i = 0; i < Metrics::kMaxLabelSets + 50; ++i) {
    Event e(r);
    e.container =
        ContainerInfo{"id" + std::to_string(i), Runtime::Runc, "c" + std::to_string(i), "", "", ""};
    m.count(e);
  }
  m.publish(true);
  const std::string t = m.render();
  size_t series = 0;
  for (size_t p = t.find("\nsysctlscope_events_total{"); p != std::string::npos;
       p = t.find("\nsysctlscope_events_total{", p + 1))
    ++series;
  // Every public type's unlabelled series, plus at most kMaxLabelSets.
  EXPECT_LE(series, Metrics::kMaxLabelSets + kEventTypeCount);
  EXPECT_TRUE(has_line(t, "sysctlscope_metrics_label_overflow_total 50")) << t.substr(0, 400);
}

// Label sets are found by their values, not by the last one seen: events of
// two containers and the host, interleaved, of two types; a container whose
// name became known later is another set (its id's first 12 characters before).
TEST(Metrics, InterleavedLabelSetsCountedApart) {
  Metrics m(parse_label_filter("container,pod"));
  const ContainerInfo a{"aaaaaaaaaaaaaaaa", Runtime::Docker, "web", "", "", ""};
  const ContainerInfo b{"bbbbbbbbbbbbbbbb", Runtime::Containerd, "", "db-0", "shop", ""};
  ContainerInfo b_named = b;
  b_named.name = "db";
  for (int i = 0; i < 3; ++i) {
    for (const ContainerInfo* c : std::vector<const ContainerInfo*>{&a, &b, &b_named, nullptr}) {
      Event r{SysctlRead{}};
      Event w{SysctlWrite{}};
      if (c) r.container = w.container = *c;
      m.count(r);
      if (c != &a) m.count(w);
    }
  }
  m.publish(true);
  const std::string t = m.render();
  for (
      const char* line :
      {R"(sysctlscope_events_total{event="sysctl_read",container="web",pod="",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_read",container="bbbbbbbbbbbb",pod="db-0",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_write",container="bbbbbbbbbbbb",pod="db-0",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_read",container="db",pod="db-0",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_write",container="db",pod="db-0",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_read",container="",pod="",namespace=""} 3)",
       R"(sysctlscope_events_total{event="sysctl_write",container="",pod="",namespace=""} 3)"})
    EXPECT_TRUE(has_line(t, line)) << line << "\n" << t;
  EXPECT_EQ(t.find(R"(event="sysctl_write",container="web")"), std::string::npos) << t;
  EXPECT_TRUE(has_line(t, "sysctlscope_metrics_label_overflow_total 0")) << t;
}

TEST(MetricsServer, HealthzMetricsAndBadRequests) {
  Metrics m;
  Server s(parse_endpoint("127.0.0.1:0"), m);
  ASSERT_GT(s.port(), 0);
  httplib::Client c("127.0.0.1", s.port());
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  s.set_healthy(true);
  h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  s.set_healthy(false);
  EXPECT_EQ(c.Get("/healthz")->status, 503);

  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE sysctlscope_events_total counter"), std::string::npos);
  EXPECT_EQ(c.Get("/nope")->status, 404);
  auto p = c.Post("/metrics", std::string(4096, 'x'), "text/plain");
  ASSERT_TRUE(p);
  EXPECT_GE(p->status, 400);
  // A port in use is an error, not a second server.
  EXPECT_THROW(Server(parse_endpoint("127.0.0.1:" + std::to_string(s.port())), m), Error);
}

TEST(MetricsServer, SilentClientsDoNotStallCountingOrScrapes) {
  Metrics m;
  auto start = std::chrono::steady_clock::now();
  {
    Server s(parse_endpoint("127.0.0.1:0"), m);
    // More silent connections than workers + queue: they hold every worker
    // until the keep-alive timeout (1 s), four at a time.
    std::vector<int> socks;
    for (int i = 0; i < 16; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(s.port()));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
      socks.push_back(fd);
    }
    // Counting meanwhile is immediate (atomics, no lock shared with the server).
    auto t0 = std::chrono::steady_clock::now();
    SysctlRead r;
    Event e(r);
    for (int i = 0; i < 100000; ++i) m.count(e);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    // A scrape still gets through once the silent clients time out.
    httplib::Client c("127.0.0.1", s.port());
    c.set_read_timeout(20, 0);
    auto t1 = std::chrono::steady_clock::now();
    auto res = c.Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(10));
    EXPECT_NE(res->body.find(R"(sysctlscope_events_total{event="sysctl_read"} 100000)"),
              std::string::npos);
    for (int fd : socks) ::close(fd);
  }
  // Shutting down with clients connected is bounded by the timeouts.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(12));
}
