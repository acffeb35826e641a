// SPDX-License-Identifier: Apache-2.0
// The sysctl.d policy parser and judge (user/policy/), no root.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness.hpp"
#include "model/event.hpp"
#include "output/sink.hpp"
#include "policy/audit.hpp"
#include "policy/policy.hpp"

using namespace sysctlscope;
using namespace sysctlscope::policy;

namespace {

Policy parse(std::string_view text, const std::string& file = "p.conf") {
  Policy p;
  p.add_text(text, file);
  return p;
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "(no error)";
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

ContainerInfo ct(std::string name, std::string pod = "", std::string ns = "") {
  ContainerInfo c;
  c.id = "0123456789abcdef";
  c.runtime = Runtime::Runc;
  c.name = std::move(name);
  c.pod = std::move(pod);
  c.k8s_namespace = std::move(ns);
  return c;
}

Event write_event(std::string sysctl, std::string old_v, std::string new_v, uint32_t netns) {
  Event e(SysctlWrite{});
  auto& w = e.as<SysctlWrite>();
  w.sysctl = std::move(sysctl);
  w.old_value = std::move(old_v);
  w.value = std::move(new_v);
  w.result = *parse_write_outcome("ok");
  e.netns = netns;
  e.pid = 42;
  e.comm = "sysctl";
  return e;
}

}  // namespace

TEST(PolicyParse, SystemdSyntax) {
  auto p = parse(
      "# comment\n"
      "; another\n"
      "\n"
      "  net.ipv4.ip_forward = 1  \n"
      "net/ipv4/conf/eth0.100/rp_filter=2\n"
      "-kernel.does_not_exist = 3\n"
      "net.ipv4.tcp_rmem = 4096\t131072   6291456\n"
      "net.ipv4.conf.*.rp_filter = 1\n"
      "-net.ipv4.conf.lo.rp_filter\n");
  ASSERT_EQ(p.rules().size(), 6u);
  EXPECT_EQ(p.rules()[0].pattern, "net.ipv4.ip_forward");
  EXPECT_EQ(p.rules()[0].expected, "1");
  EXPECT_EQ(p.rules()[0].where(), "p.conf:4");
  // Slash form: dots belong to the interface name (sysctl.d(5)).
  EXPECT_EQ(p.rules()[1].pattern, "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_TRUE(p.rules()[2].ignore_missing);
  EXPECT_EQ(p.rules()[2].pattern, "kernel.does_not_exist");
  EXPECT_EQ(p.rules()[3].norm, "4096 131072 6291456");
  EXPECT_TRUE(p.rules()[4].glob);
  EXPECT_TRUE(p.rules()[5].exclude);
}

TEST(PolicyParse, ExplicitBeatsGlobAndLaterWins) {
  auto p = parse(
      "net.ipv4.conf.eth0.rp_filter = 0\n"
      "net.ipv4.conf.*.rp_filter = 1\n"
      "-net.ipv4.conf.lo.rp_filter\n"
      "net.ipv4.ip_forward = 0\n"
      "net.ipv4.ip_forward = 1\n");
  // Explicit settings win over globs, whatever their order (sysctl.d(5)).
  EXPECT_EQ(p.rule_for("net.ipv4.conf.eth0.rp_filter", true, {})->where(), "p.conf:1");
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {})->where(), "p.conf:2");
  EXPECT_EQ(p.rule_for("net.ipv4.conf.lo.rp_filter", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {})->expected, "1");
  EXPECT_EQ(p.rule_for("net.ipv4.tcp_syncookies", true, {}), nullptr);
}

TEST(PolicyParse, BadLinesNameFileAndLine) {
  EXPECT_EQ(error_of("net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward\n"),
            "p.conf:2: not an assignment (name = value): 'net.ipv4.ip_forward'");
  EXPECT_EQ(error_of(" = 1\n"), "p.conf:1: empty sysctl name");
  EXPECT_EQ(error_of("net.ipv4 .x = 1\n"), "p.conf:1: blank inside sysctl name 'net.ipv4 .x'");
  EXPECT_EQ(error_of("net/../x = 1\n"), "p.conf:1: bad sysctl name 'net/../x'");
  EXPECT_EQ(error_of("-net.ipv4.conf.*.rp_filter\n"),
            "p.conf:1: an exclusion ('-name' without '=') cannot be a glob");
  EXPECT_EQ(error_of("# sysctlscope: scope=pods\n"),
            "p.conf:1: unknown scope 'pods' (host, all, netns, containers)");
  EXPECT_EQ(error_of("\n\n# sysctlscope: label=a=b\n"),
            "p.conf:3: unknown scope key 'label' (scope, container, pod, namespace)");
  EXPECT_EQ(error_of("# sysctlscope: pod=\n"), "p.conf:1: empty value for scope key 'pod'");
  // Ordinary comments mentioning anything else stay comments.
  EXPECT_EQ(error_of("# scope=pods is not ours\n# sysctlscope is great\n"), "(no error)");
}

// The names of `explain` and of policy files are normalised by one function
// (model/sysctl_path.hpp), with systemd-sysctl's rules: a leading slash does
// not count, and no component may be "." or ".." (path_simplify()).
TEST(PolicyParse, NamesNormalisedLikeSystemd) {
  auto p = parse("/net/ipv4/ip_forward = 1\n/kernel.hostname = h\nnet/ipv4/conf/./rp_filter = 1\n");
  ASSERT_EQ(p.rules().size(), 3u);
  EXPECT_EQ(p.rules()[0].pattern, "net.ipv4.ip_forward");
  // A leading '/' is the first separator: slash style, one component
  // "kernel.hostname" (systemd writes /proc/sys/kernel.hostname, which fails).
  EXPECT_EQ(p.rules()[1].pattern, "kernel/hostname");
  EXPECT_EQ(p.rules()[2].pattern, "net.ipv4.conf.rp_filter");  // "." components go
  // test-sysctl-util.c's cases.
  EXPECT_EQ(systemd_sysctl_name("a.b.c"), "a.b.c");
  EXPECT_EQ(systemd_sysctl_name("a/b.c/d"), "a.b/c.d");
  EXPECT_EQ(systemd_sysctl_name("a.b/c.d"), "a.b/c.d");
  EXPECT_EQ(systemd_sysctl_name("net.ipv4.conf.enp3s0/200.forwarding"),
            "net.ipv4.conf.enp3s0/200.forwarding");
  EXPECT_EQ(systemd_sysctl_name("a...b...c"), "a.b.c");
  EXPECT_EQ(systemd_sysctl_name("a///b///c"), "a.b.c");
  EXPECT_EQ(systemd_sysctl_name(".a...b...c"), "a.b.c");
  EXPECT_EQ(systemd_sysctl_name("/a///b///c"), "a.b.c");
  EXPECT_EQ(error_of("kernel/../vm/swappiness = 1\n"),
            "p.conf:1: bad sysctl name 'kernel/../vm/swappiness'");
}

TEST(PolicyParse, ScopeCommentsSelectNamespaces) {
  auto p = parse(
      "net.ipv4.tcp_keepalive_time = 7200\n"
      "# sysctlscope: scope=containers\n"
      "net.ipv4.tcp_keepalive_time = 600\n"
      "# sysctlscope: pod=web-*, namespace=prod\n"
      "net.ipv4.tcp_keepalive_time = 300\n"
      "# sysctlscope: scope=all\n"
      "net.ipv4.tcp_syncookies = 1\n");
  const char* k = "net.ipv4.tcp_keepalive_time";
  EXPECT_EQ(p.rule_for(k, true, {})->expected, "7200");
  EXPECT_EQ(p.rule_for(k, false, std::nullopt), nullptr) << "a bare netns is not a container";
  EXPECT_EQ(p.rule_for(k, false, ct("db"))->expected, "600");
  EXPECT_EQ(p.rule_for(k, false, ct("x", "web-1", "prod"))->expected, "300");
  EXPECT_EQ(p.rule_for(k, false, ct("x", "web-1", "dev"))->expected, "600");
  EXPECT_EQ(p.rule_for("net.ipv4.tcp_syncookies", false, std::nullopt)->where(), "p.conf:7");
  // container= matches the name or the id.
  auto q = parse("# sysctlscope: container=01234567*\nnet.core.somaxconn = 4096\n");
  EXPECT_NE(q.rule_for("net.core.somaxconn", false, ct("web")), nullptr);
  EXPECT_EQ(q.rule_for("net.core.somaxconn", true, {}), nullptr);
}

TEST(PolicyParse, ValuesCompareAsTheKernelPrintsThem) {
  auto p = parse("net.ipv4.tcp_rmem = 4096 131072 6291456\nkernel.core_pattern = core\n");
  const Rule& r = p.rules()[0];
  EXPECT_TRUE(value_satisfies(r, "4096\t131072\t6291456"));
  EXPECT_TRUE(value_satisfies(r, "4096\t131072\t6291456\n"));
  EXPECT_FALSE(value_satisfies(r, "4096\t131072\t6291457"));
  EXPECT_FALSE(value_satisfies(p.rules()[1], "core.%p"));
}

TEST(PolicyLoad, DirectoriesSortByFileNameAndMaskAcrossDirs) {
  sstest::TempDir d;
  namespace fs = std::filesystem;
  fs::create_directories(d.path() + "/etc");
  fs::create_directories(d.path() + "/usr");
  write_file(d.path() + "/usr/10-a.conf", "net.ipv4.ip_forward = 0\nkernel.x = 1\n");
  write_file(d.path() + "/usr/50-b.conf", "net.ipv4.ip_forward = 2\n");
  write_file(d.path() + "/etc/10-a.conf", "net.ipv4.ip_forward = 5\n");  // masks usr/10-a.conf
  write_file(d.path() + "/etc/README", "not a policy\n");
  auto p = Policy::load({d.path() + "/etc", d.path() + "/usr"});
  ASSERT_EQ(p.rules().size(), 2u);
  EXPECT_EQ(p.rules()[0].file, d.path() + "/etc/10-a.conf");
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {})->file, d.path() + "/usr/50-b.conf");
  EXPECT_EQ(p.rule_for("kernel.x", true, {}), nullptr);

  write_file(d.path() + "/bad.conf", "ok.name = 1\n\nbroken line\n");
  try {
    Policy::load({d.path() + "/bad.conf"});
    FAIL() << "no error";
  } catch (const PolicyError& e) {
    EXPECT_EQ(std::string(e.what()),
              d.path() + "/bad.conf:3: not an assignment (name = value): 'broken line'");
  }
  EXPECT_THROW(Policy::load({d.path() + "/nope.conf"}), PolicyError);
}

TEST(PolicyMonitor, WritesDriftAndResolve) {
  auto p = parse("net.ipv4.tcp_keepalive_time = 7200\nkernel.pid_max = 4194304\n");
  Monitor m(p, 100);
  // Moves away from the policy: drift, with the writer.
  auto d = m.judge(write_event("net.ipv4.tcp_keepalive_time", "7200", "600", 100));
  ASSERT_EQ(d.size(), 1u);
  const auto& x = d[0].as<SysctlDrift>();
  EXPECT_EQ(x.cause, "write");
  EXPECT_EQ(x.old_value, "7200");
  EXPECT_EQ(x.value, "600");
  EXPECT_EQ(x.expected, "7200");
  EXPECT_EQ(x.policy, "p.conf:1");
  EXPECT_FALSE(x.resolved);
  EXPECT_EQ(d[0].pid, 42u);
  EXPECT_TRUE(has_actor(d[0]));
  // Restores it: resolved.
  d = m.judge(write_event("net.ipv4.tcp_keepalive_time", "600", "7200\n", 100));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].as<SysctlDrift>().resolved);
  // Another netns: the host rule does not apply to it.
  EXPECT_TRUE(m.judge(write_event("net.ipv4.tcp_keepalive_time", "7200", "600", 200)).empty());
  // A global sysctl is the host's wherever it is written from.
  EXPECT_EQ(m.judge(write_event("kernel.pid_max", "4194304", "32768", 200)).size(), 1u);
  // A write that did not happen changes nothing; a refused one is reported.
  auto failed = write_event("net.ipv4.tcp_keepalive_time", "7200", "600", 100);
  failed.as<SysctlWrite>().result = *parse_write_outcome("EINVAL");
  EXPECT_TRUE(m.judge(failed).empty());
  auto denied = write_event("net.ipv4.tcp_keepalive_time", "7200", "600", 100);
  denied.as<SysctlWrite>().denied = true;
  denied.as<SysctlWrite>().result = *parse_write_outcome("EPERM");
  d = m.judge(denied);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].as<SysctlDrift>().denied);
  // Unrelated sysctls and same-value writes: nothing.
  EXPECT_TRUE(m.judge(write_event("net.ipv4.ip_forward", "0", "1", 100)).empty());
  EXPECT_TRUE(m.judge(write_event("net.ipv4.tcp_keepalive_time", "7200", "7200", 100)).empty());
}

// IPC and UTS sysctls are per namespace: a host rule governs the initial
// IPC/UTS namespace only, never a container's own (docs/policy.md, Scopes).
TEST(PolicyMonitor, HostRulesLeavePrivateIpcAndUtsNamespacesAlone) {
  auto p = parse("kernel.shmmni = 4096\nkernel.domainname = corp\nkernel.pid_max = 4194304\n");
  std::optional<uint32_t> writer_ns;  // what /proc says of the writer (nullopt: gone)
  Monitor m(p, 100, {}, [&](const Event&) { return writer_ns; });
  auto in_container = [](Event e) {
    e.container = ct("web");
    return e;
  };
  // The writer still runs: its namespace decides.
  writer_ns = 4026532300u;
  EXPECT_TRUE(m.judge(write_event("kernel.shmmni", "4096", "8192", 100)).empty());
  EXPECT_TRUE(m.judge(write_event("kernel.domainname", "corp", "x", 100)).empty());
  writer_ns = kHostIpcInode;
  EXPECT_EQ(m.judge(in_container(write_event("kernel.shmmni", "4096", "8192", 200))).size(), 1u)
      << "--ipc=host: the host's";
  writer_ns = kHostUtsInode;
  EXPECT_EQ(m.judge(write_event("kernel.domainname", "corp", "x", 200)).size(), 1u);
  // Gone: a container's task wrote its own, any other task the host's.
  writer_ns.reset();
  EXPECT_TRUE(m.judge(in_container(write_event("kernel.shmmni", "4096", "8192", 200))).empty());
  EXPECT_TRUE(m.judge(in_container(write_event("kernel.domainname", "corp", "x", 200))).empty());
  EXPECT_EQ(m.judge(write_event("kernel.shmmni", "4096", "8192", 200)).size(), 1u)
      << "ip netns exec shares the host's IPC namespace";
  // The kernel refused it: --enforce found the host's entry in its namespace.
  auto denied = in_container(write_event("kernel.shmmni", "4096", "8192", 200));
  denied.as<SysctlWrite>().denied = true;
  EXPECT_EQ(m.judge(denied).size(), 1u);
  // Truly global sysctls stay the host's, from anywhere.
  EXPECT_EQ(m.judge(in_container(write_event("kernel.pid_max", "4194304", "1000", 200))).size(),
            1u);
}

TEST(PolicyMonitor, PlacesAndEnforceKeys) {
  EXPECT_EQ(place_of(write_event("net.core.somaxconn", "1", "2", 100), 100), Place::Host);
  EXPECT_EQ(place_of(write_event("net.core.somaxconn", "1", "2", 0), 100), Place::Host);
  EXPECT_EQ(place_of(write_event("net.core.somaxconn", "1", "2", 200), 100), Place::Netns);
  EXPECT_EQ(place_of(write_event("vm.swappiness", "1", "2", 200), 100), Place::Host);
  EXPECT_EQ(place_of(write_event("fs.mqueue.msg_max", "1", "2", 200), 100, 5u), Place::Private);
  EXPECT_EQ(place_of(write_event("fs.mqueue.msg_max", "1", "2", 200), 100, kHostIpcInode),
            Place::Host);
  EXPECT_EQ(place_of(write_event("kernel.hostname", "a", "b", 200), 100, kHostIpcInode),
            Place::Private)
      << "hostname is the UTS namespace's";
  // --enforce entries: keyed by the namespace that holds the sysctl.
  auto p = parse(
      "kernel.sem = 1 2 3 4\nkernel.hostname = h\nvm.swappiness = 10\nnet.core.somaxconn = 9\n");
  auto bind = [&](const char* name) {
    return Binding{p.rule_for(name, true, {}), name, "", false, true, 100, {}};
  };
  EXPECT_EQ(enforce_ns(bind("kernel.sem")), kHostIpcInode);
  EXPECT_EQ(enforce_ns(bind("kernel.hostname")), kHostUtsInode);
  EXPECT_EQ(enforce_ns(bind("vm.swappiness")), 0u);
  EXPECT_EQ(enforce_ns(bind("net.core.somaxconn")), 100u);
}

TEST(PolicyMonitor, BirthDefaultsAgainstContainerScope) {
  auto p = parse("# sysctlscope: scope=netns\nnet.ipv4.tcp_keepalive_time = 600\n");
  std::vector<std::string> bound;
  Monitor m(p, 100, [&](const Binding& b) { bound.push_back(b.sysctl); });
  Event e(NetnsCreate{});
  e.netns = 300;
  e.as<NetnsCreate>().defaults = std::vector<std::pair<std::string, std::string>>{
      {"net.ipv4.tcp_keepalive_time", "7200"}, {"net.ipv4.tcp_syncookies", "1"}};
  auto d = m.judge(e);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].as<SysctlDrift>().cause, "netns_create");
  EXPECT_EQ(d[0].as<SysctlDrift>().value, "7200");
  EXPECT_EQ(d[0].netns, 300u);
  EXPECT_FALSE(has_actor(d[0]));
  EXPECT_EQ(bound, std::vector<std::string>{"net.ipv4.tcp_keepalive_time"});
  const std::string j = event_to_json(d[0]);
  EXPECT_NE(j.find(R"("proc":null)"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("cause":"netns_create")"), std::string::npos) << j;
}

// systemd-sysctl conformance: each case is a behaviour of systemd's
// src/sysctl/sysctl.c (parse_file, apply_all/apply_glob_option) and
// src/basic/conf-files.c, as documented in man/sysctl.d.xml and exercised by
// test/units/TEST-76-SYSCTL.sh; deliberate deviations are in docs/policy.md.
TEST(PolicySystemd, GlobStarMatchesOnePathComponent) {
  auto p = parse("net.ipv4.*.rp_filter = 2\nnet.ipv4.conf.*.accept_redirects = 0\n");
  // glob(3) under /proc/sys: net/ipv4/*/rp_filter has no conf/all level.
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.accept_redirects", true, {})->expected, "0");
  // An interface name with a dot is one component ("eth0.100" -> "eth0/100" dotted).
  EXPECT_NE(p.rule_for("net.ipv4.conf.eth0/100.accept_redirects", true, {}), nullptr);
}

TEST(PolicySystemd, BareExclusionCancelsAnEarlierAssignment) {
  // parse_file(): the "-name" entry replaces the earlier one (another value),
  // and apply_all() skips value-less entries.
  auto p = parse("net.ipv4.ip_forward = 1\n-net.ipv4.ip_forward\n");
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {}), nullptr);
  // ... and an assignment after the exclusion is expected again.
  auto q = parse("-net.ipv4.ip_forward\nnet.ipv4.ip_forward = 1\n");
  EXPECT_EQ(q.rule_for("net.ipv4.ip_forward", true, {})->expected, "1");
}

TEST(PolicySystemd, ExclusionAcrossFilesHidesEveryGlob) {
  sstest::TempDir d;
  write_file(d.path() + "/10-a.conf", "net.ipv4.conf.lo.rp_filter = 0\nnet.ipv4.conf.*.rp_filter = 2\n");
  write_file(d.path() + "/20-b.conf", "-net.ipv4.conf.lo.rp_filter\nnet.ipv4.conf.*.rp_filter = 1\n");
  auto p = Policy::load({d.path()});
  EXPECT_EQ(p.rule_for("net.ipv4.conf.lo.rp_filter", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {})->expected, "1");
}

TEST(PolicySystemd, GlobOrderFollowsReassignmentAndSameValueKeepsItsPlace) {
  // Two globs cover conf.all: the one placed last in systemd's ordered map wins.
  auto p = parse(
      "net.ipv4.conf.*.rp_filter = 1\n"     // 1
      "net.ipv4.conf.all.* = 2\n"           // 2
      "net.ipv4.conf.*.rp_filter = 1\n");   // 3: same value, keeps place 1
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {})->where(), "p.conf:2");
  auto q = parse(
      "net.ipv4.conf.*.rp_filter = 1\n"
      "net.ipv4.conf.all.* = 2\n"
      "net.ipv4.conf.*.rp_filter = 0\n");   // another value: moves to the end
  EXPECT_EQ(q.rule_for("net.ipv4.conf.all.rp_filter", true, {})->where(), "p.conf:3");
  // An explicit same-value reassignment keeps the first file:line.
  auto r = parse("kernel.sysrq = 16\nkernel.sysrq = 16\n");
  EXPECT_EQ(r.rule_for("kernel.sysrq", true, {})->where(), "p.conf:1");
}

TEST(PolicySystemd, ExplicitBeatsGlobWhereverItStands) {
  auto p = parse("net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.all.rp_filter = 2\n"
                 "net.ipv4.conf.*.rp_filter = 0\n");
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {})->expected, "2");
  EXPECT_EQ(p.rule_for("net.ipv4.conf.default.rp_filter", true, {})->expected, "0");
}

TEST(PolicySystemd, FirstEqualsSignSplitsAndSlashesNormalise) {
  auto p = parse("kernel.core_pattern = |/bin/x a=b\n/net/ipv4//ip_forward = 1\n");
  EXPECT_EQ(p.rule_for("kernel.core_pattern", true, {})->expected, "|/bin/x a=b");
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {})->expected, "1");
}

TEST(PolicySystemd, HiddenAndNonConfFilesAreNotRead) {
  sstest::TempDir d;
  write_file(d.path() + "/.60-hidden.conf", "net.ipv4.ip_forward = 1\n");
  write_file(d.path() + "/60-x.conf.bak", "net.ipv4.ip_forward = 1\n");
  write_file(d.path() + "/70-y.conf", "kernel.sysrq = 16\n");
  auto p = Policy::load({d.path()});
  ASSERT_EQ(p.rules().size(), 1u);
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {}), nullptr);
}

TEST(PolicySystemd, DevNullSymlinkOrEmptyFileMasksTheVendorFile) {
  sstest::TempDir d;
  namespace fs = std::filesystem;
  for (auto sub : {"/etc", "/run", "/usr"}) fs::create_directories(d.path() + sub);
  write_file(d.path() + "/usr/50-a.conf", "net.ipv4.ip_forward = 1\n");
  write_file(d.path() + "/usr/60-b.conf", "kernel.sysrq = 16\n");
  write_file(d.path() + "/usr/70-c.conf", "kernel.panic = 5\n");
  fs::create_symlink("/dev/null", d.path() + "/etc/50-a.conf");
  write_file(d.path() + "/run/60-b.conf", "");
  auto p = Policy::load({d.path() + "/etc", d.path() + "/run", d.path() + "/usr"});
  EXPECT_EQ(p.rule_for("net.ipv4.ip_forward", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("kernel.sysrq", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("kernel.panic", true, {})->expected, "5");
}

TEST(PolicySystemd, FilesSortByNameAcrossDirectories) {
  sstest::TempDir d;
  namespace fs = std::filesystem;
  fs::create_directories(d.path() + "/etc");
  fs::create_directories(d.path() + "/usr");
  write_file(d.path() + "/etc/90-late.conf", "kernel.sysrq = 1\n");
  write_file(d.path() + "/usr/10-early.conf", "kernel.sysrq = 0\n");
  auto p = Policy::load({d.path() + "/etc", d.path() + "/usr"});
  EXPECT_EQ(p.rule_for("kernel.sysrq", true, {})->expected, "1");
}

TEST(PolicySystemd, SameNameInAnEarlierDirectoryReplacesTheWholeFile) {
  // conf-files.c: one file per name, the first directory's; nothing of the
  // vendor file is read (not a merge of the two).
  sstest::TempDir d;
  namespace fs = std::filesystem;
  for (auto sub : {"/etc", "/run", "/usr"}) fs::create_directories(d.path() + sub);
  write_file(d.path() + "/usr/50-a.conf", "kernel.sysrq = 0\nkernel.panic = 5\n");
  write_file(d.path() + "/run/50-a.conf", "kernel.sysrq = 2\n");
  write_file(d.path() + "/etc/50-a.conf", "kernel.sysrq = 1\n");
  auto p = Policy::load({d.path() + "/etc", d.path() + "/run", d.path() + "/usr"});
  ASSERT_NE(p.rule_for("kernel.sysrq", true, {}), nullptr);
  EXPECT_EQ(p.rule_for("kernel.sysrq", true, {})->expected, "1");
  EXPECT_EQ(p.rule_for("kernel.panic", true, {}), nullptr);
  // Without the /etc file, /run's wins over /usr's.
  fs::remove(d.path() + "/etc/50-a.conf");
  auto q = Policy::load({d.path() + "/etc", d.path() + "/run", d.path() + "/usr"});
  EXPECT_EQ(q.rule_for("kernel.sysrq", true, {})->expected, "2");
}

TEST(PolicySystemd, ExplicitNameInAnEarlierFileBeatsALaterGlob) {
  // apply_all(): globs are applied skipping every name that has an explicit
  // entry, whichever file comes later.
  sstest::TempDir d;
  namespace fs = std::filesystem;
  fs::create_directories(d.path() + "/etc");
  fs::create_directories(d.path() + "/usr");
  write_file(d.path() + "/usr/10-explicit.conf", "net.ipv4.conf.all.rp_filter = 2\n");
  write_file(d.path() + "/etc/90-glob.conf", "net.ipv4.conf.*.rp_filter = 0\n");
  auto p = Policy::load({d.path() + "/etc", d.path() + "/usr"});
  EXPECT_EQ(p.rule_for("net.ipv4.conf.all.rp_filter", true, {})->expected, "2");
  EXPECT_EQ(p.rule_for("net.ipv4.conf.default.rp_filter", true, {})->expected, "0");
}
