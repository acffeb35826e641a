// SPDX-License-Identifier: Apache-2.0
// --container / --pod / --k8s-namespace / --host; cgroup records through the
// decoder and the pipeline (they feed the enricher, never the sink).
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "enrich/enricher.hpp"
#include "model/decode.hpp"
#include "model/filter.hpp"
#include "pipeline/pipeline.hpp"
#include "sysctlscope/event.h"

using namespace sysctlscope;

namespace {
const ContainerInfo kWeb{"3f2a9c1d8e7b6a5f4e3d", Runtime::Containerd, "nginx", "web-0", "shop", "u1"};
const ContainerInfo kDb{"0badc0ffee00", Runtime::Runc, "", "", "", ""};

Event ev(std::optional<ContainerInfo> actor, std::optional<ContainerInfo> owner) {
  Event e(SysctlWrite{.sysctl = "net.ipv4.tcp_syncookies"});
  e.pid = 1;
  e.container = std::move(actor);
  e.netns_container = std::move(owner);
  return e;
}

Filter build(cli::FilterOptions o) { return o.build(); }
}  // namespace

TEST(ContainerFilter, IdPrefixNameActorOrNetnsOwner) {
  cli::FilterOptions o;
  o.containers = {"3f2a9c"};
  Filter f = build(o);
  EXPECT_TRUE(f.matches(ev(kWeb, kWeb)));
  EXPECT_TRUE(f.matches(ev(std::nullopt, kWeb))) << "host process in web's netns";
  EXPECT_TRUE(f.matches(ev(kWeb, std::nullopt)));
  EXPECT_FALSE(f.matches(ev(kDb, kDb)));
  EXPECT_FALSE(f.matches(ev(std::nullopt, std::nullopt)));
  o.containers = {"nginx"};
  EXPECT_TRUE(build(o).matches(ev(kWeb, kWeb)));
  o.containers = {"ngin"};  // names match whole, ids by prefix
  EXPECT_FALSE(build(o).matches(ev(kWeb, kWeb)));
  o.containers = {"zz", "0bad"};
  EXPECT_TRUE(build(o).matches(ev(kDb, std::nullopt)));
}

TEST(ContainerFilter, PodNamespaceHostAndLossesStay) {
  cli::FilterOptions o;
  o.pods = {"web-0"};
  EXPECT_TRUE(build(o).matches(ev(kWeb, kWeb)));
  EXPECT_TRUE(build(o).matches(ev(std::nullopt, kWeb)));
  EXPECT_FALSE(build(o).matches(ev(kDb, kDb)));
  o.pods.clear();
  o.k8s_namespaces = {"shop"};
  EXPECT_TRUE(build(o).matches(ev(kWeb, std::nullopt)));
  EXPECT_FALSE(build(o).matches(ev(kDb, kDb)));
  o.k8s_namespaces = {"kube-system"};
  EXPECT_FALSE(build(o).matches(ev(kWeb, kWeb)));

  cli::FilterOptions h;
  h.host = true;
  EXPECT_TRUE(build(h).matches(ev(std::nullopt, std::nullopt)));
  EXPECT_TRUE(build(h).matches(ev(std::nullopt, kWeb)));
  EXPECT_FALSE(build(h).matches(ev(kWeb, kWeb)));
  h.containers = {"3f2a"};  // host processes reaching into web's netns
  EXPECT_TRUE(build(h).matches(ev(std::nullopt, kWeb)));
  EXPECT_FALSE(build(h).matches(ev(kWeb, kWeb)));
  EXPECT_FALSE(build(h).matches(ev(std::nullopt, std::nullopt)));

  EXPECT_TRUE(build(h).matches(Event(Lost{})));

  cli::FilterOptions bad;
  bad.containers = {""};
  EXPECT_THROW(bad.build(), UsageError);
  EXPECT_EQ(build(h).to_json().dump(), R"({"container":["3f2a"],"host":true})");
}

namespace {
std::vector<uint8_t> cgroup_record(uint16_t type, uint64_t id, const std::string& path,
                                   uint16_t flags = 0) {
  std::vector<uint8_t> buf(sizeof(ss_cgroup_event));
  ss_cgroup_event r{};
  r.hdr.version = SS_ABI_VERSION;
  r.hdr.type = type;
  r.hdr.size = sizeof r;
  r.id = id;
  r.level = 1;
  r.flags = flags;
  r.path_len = static_cast<uint16_t>(path.size());
  std::memcpy(r.path, path.data(), path.size());
  std::memcpy(buf.data(), &r, sizeof r);
  return buf;
}

struct Recorder : Enricher {
  std::vector<CgroupChange> seen;
  void enrich(Event&) override {}
  void on_cgroup(const CgroupChange& c) override { seen.push_back(c); }
};
struct NullSink : Sink {
  int n = 0;
  void write(const Event&) override { ++n; }
  bool flush() override { return true; }
  bool closed() const override { return false; }
};
}  // namespace

TEST(CgroupRecords, DecodeAndFeedTheEnricherOnly) {
  Decoder d(BootClock(0));
  auto mk = cgroup_record(SS_EV_CGROUP_MKDIR, 42, "/docker/abc");
  auto r = d.decode(mk.data(), mk.size());
  ASSERT_TRUE(r);
  ASSERT_TRUE(std::holds_alternative<CgroupChange>(*r));
  EXPECT_FALSE(std::holds_alternative<Event>(*r));
  EXPECT_FALSE(std::get<CgroupChange>(*r).removed);
  EXPECT_EQ(std::get<CgroupChange>(*r).id, 42u);
  EXPECT_EQ(std::get<CgroupChange>(*r).path, "/docker/abc");
  auto cut = cgroup_record(SS_EV_CGROUP_MKDIR, 43, "/very/long", SS_CGF_PATH_TRUNC);
  EXPECT_EQ(std::get<CgroupChange>(*d.decode(cut.data(), cut.size())).path, "") << "a cut path is not learnt";
  EXPECT_FALSE(d.decode(mk.data(), mk.size() - 1)) << "short record";

  Recorder rec;
  NullSink sink;
  Pipeline p(Filter{}, &rec, sink, true);
  p.on_record(mk.data(), mk.size());
  auto rm = cgroup_record(SS_EV_CGROUP_RMDIR, 42, "/docker/abc");
  p.on_record(rm.data(), rm.size());
  ASSERT_EQ(rec.seen.size(), 2u);
  EXPECT_TRUE(rec.seen[1].removed);
  EXPECT_EQ(sink.n, 0);
  EXPECT_EQ(p.stats().malformed, 0u);
}

TEST(CgroupRecords, AlwaysRequestedFromTheKernel) {
  Filter f;
  f.types = {kTypeOf<SysctlRead>};
  EXPECT_TRUE(kernel_type_mask(f, {}) & SS_TYPE_BIT(SS_EV_CGROUP_MKDIR));
  EXPECT_TRUE(kernel_type_mask(f, {}) & SS_TYPE_BIT(SS_EV_CGROUP_RMDIR));
}
