// SPDX-License-Identifier: Apache-2.0
// Pure logic of netns diff/explain: verdicts, devconf modes, classification,
// name normalisation and suggestions, recordings. No root, no kernel.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/error.hpp"
#include "netns/classify.hpp"
#include "netns/diff.hpp"
#include "netns/explain.hpp"
#include "netns/nsexec.hpp"
#include "netns/owners.hpp"
#include "netns/verdict.hpp"

using namespace sysctlscope;
using namespace sysctlscope::netns;

namespace {
std::optional<std::string> S(const char* s) { return std::string(s); }
const std::optional<std::string> kNone;
}  // namespace

TEST(NetnsVerdict, FreshDifferingFromHostIsReset) {
  KernelContext k;
  auto r = birth_rule("net.ipv4.tcp_keepalive_time", S("600"), S("7200"), k);
  EXPECT_EQ(r.birth, Birth::Reset);
  EXPECT_NE(r.evidence.find("'7200'"), std::string::npos);
  EXPECT_NE(r.evidence.find("'600'"), std::string::npos);
}

TEST(NetnsVerdict, EqualValuesWithoutEvidenceAreSameNotGuessed) {
  KernelContext k;
  // Not in the kernel-code table: no guess.
  EXPECT_EQ(birth_rule("net.ipv4.tcp_mtu_probing", S("0"), S("0"), k).birth, Birth::Same);
}

// The seed's lesson on every host, also one at the defaults: what the
// kernel's code does, and whether this host could confirm it.
TEST(NetnsVerdict, KernelCodeDecidesWhereTheHostCannotAndSaysWhich) {
  KernelContext k;
  auto ka = birth_rule("net.ipv4.tcp_keepalive_time", S("7200"), S("7200"), k);
  EXPECT_EQ(ka.birth, Birth::Reset);
  EXPECT_NE(ka.evidence.find("tcp_sk_init()"), std::string::npos) << ka.evidence;
  EXPECT_NE(ka.evidence.find("not confirmed here"), std::string::npos) << ka.evidence;
  auto kb = birth_rule("net.ipv4.tcp_keepalive_time", S("600"), S("7200"), k);
  EXPECT_EQ(kb.birth, Birth::Reset);
  EXPECT_NE(kb.evidence.find("measured: a fresh netns gets '7200', the host has '600'"),
            std::string::npos)
      << kb.evidence;
  auto rm =
      birth_rule("net.ipv4.tcp_rmem", S("4096\t131072\t6291456"), S("4096\t131072\t6291456"), k);
  EXPECT_EQ(rm.birth, Birth::Inherited);
  EXPECT_NE(rm.evidence.find("copies init_net's value"), std::string::npos) << rm.evidence;
  auto pr = birth_rule("net.ipv4.ip_local_port_range", S("32768\t60999"), S("32768\t60999"), k);
  EXPECT_EQ(pr.birth, Birth::Reset);
  EXPECT_NE(pr.evidence.find("'32768\t60999'"), std::string::npos) << pr.evidence;
  ASSERT_TRUE(kernel_birth("net.core.somaxconn"));
  EXPECT_EQ(kernel_birth("net.core.somaxconn")->value, "4096");
  EXPECT_FALSE(kernel_birth("net.ipv4.conf.all.rp_filter")) << "devconf_inherit_init_net decides";
}

TEST(NetnsVerdict, CongestionControlUsesTheKernelConfigDefault) {
  KernelContext k;
  k.default_cc = "bbr";
  EXPECT_EQ(birth_rule("net.ipv4.tcp_congestion_control", S("cubic"), S("cubic"), k).birth,
            Birth::Inherited);
  // Host still at the compiled default: the kernel's code says copied; this
  // host cannot confirm it, and the evidence says so.
  auto at_default = birth_rule("net.ipv4.tcp_congestion_control", S("bbr"), S("bbr"), k);
  EXPECT_EQ(at_default.birth, Birth::Inherited);
  EXPECT_NE(at_default.evidence.find("not confirmed here"), std::string::npos);
  // A fresh netns that does not follow the host is reset whatever the config says.
  EXPECT_EQ(birth_rule("net.ipv4.tcp_congestion_control", S("cubic"), S("reno"), k).birth,
            Birth::Reset);
  k.default_cc.reset();
  EXPECT_EQ(birth_rule("net.ipv4.tcp_congestion_control", S("cubic"), S("cubic"), k).birth,
            Birth::Inherited);
}

TEST(NetnsVerdict, DevconfModes) {
  EXPECT_EQ(devconf_kind("net.ipv4.conf.all.rp_filter"), Devconf::Ipv4Block);
  EXPECT_EQ(devconf_kind("net.ipv4.conf.default.rp_filter"), Devconf::Ipv4Block);
  EXPECT_EQ(devconf_kind("net.ipv6.conf.all.forwarding"), Devconf::Ipv6Block);
  EXPECT_EQ(devconf_kind("net.ipv4.conf.eth0/100.rp_filter"), Devconf::Ipv4Device);
  EXPECT_EQ(devconf_kind("net.ipv6.conf.lo.mtu"), Devconf::Ipv6Device);
  EXPECT_EQ(devconf_kind("net.ipv4.ip_forward"), Devconf::None);
  EXPECT_EQ(devconf_kind("net.ipv4.conf."), Devconf::None);

  KernelContext k;
  // Mode 0: IPv4 copied from init_net, IPv6 compiled.
  k.devconf_mode = 0;
  EXPECT_EQ(birth_rule("net.ipv4.conf.all.rp_filter", S("1"), S("1"), k).birth, Birth::Inherited);
  EXPECT_EQ(birth_rule("net.ipv6.conf.all.forwarding", S("0"), S("0"), k).birth, Birth::Reset);
  EXPECT_EQ(birth_rule("net.ipv6.conf.all.forwarding", S("1"), S("0"), k).birth, Birth::Reset);
  // Mode 1: both copied.
  k.devconf_mode = 1;
  EXPECT_EQ(birth_rule("net.ipv6.conf.default.hop_limit", S("64"), S("64"), k).birth,
            Birth::Inherited);
  // Mode 2: both compiled.
  k.devconf_mode = 2;
  EXPECT_EQ(birth_rule("net.ipv4.conf.default.rp_filter", S("2"), S("2"), k).birth, Birth::Reset);
  // Mode 3: copied from the creator.
  k.devconf_mode = 3;
  auto r = birth_rule("net.ipv6.conf.all.accept_ra", S("1"), S("1"), k);
  EXPECT_EQ(r.birth, Birth::Inherited);
  EXPECT_NE(r.evidence.find("creating task"), std::string::npos);
  // The observation wins over the rule when they disagree.
  k.devconf_mode = 1;
  EXPECT_EQ(birth_rule("net.ipv4.conf.all.forwarding", S("1"), S("0"), k).birth, Birth::Reset);
  // Devices are not blocks: observed like any other value.
  k.devconf_mode = 0;
  EXPECT_EQ(birth_rule("net.ipv4.conf.lo.rp_filter", S("1"), S("1"), k).birth, Birth::Same);
}

TEST(NetnsVerdict, RecordedBirthsAreEvidence) {
  KernelContext k;
  std::vector<RecordedBirth> reset{{1, 42, "7200", "600"}};
  EXPECT_EQ(birth_rule("net.ipv4.tcp_keepalive_time", S("7200"), S("7200"), k, reset).birth,
            Birth::Reset);
  // Born with the host's old value, fresh now follows the host's new value.
  std::vector<RecordedBirth> tracks{{1, 42, "4096\t1\t2", "4096\t1\t2"}};
  EXPECT_EQ(birth_rule("net.ipv4.tcp_rmem", S("4096\t9\t9"), S("4096\t9\t9"), k, tracks).birth,
            Birth::Inherited);
  // A birth identical to today's host value proves nothing.
  std::vector<RecordedBirth> same{{1, 42, "1", "1"}};
  EXPECT_EQ(birth_rule("net.ipv4.tcp_mtu_probing", S("1"), S("1"), k, same).birth, Birth::Same);
}

TEST(NetnsVerdict, RowVerdicts) {
  BirthRule reset{Birth::Reset, ""}, inherited{Birth::Inherited, ""};
  EXPECT_EQ(row_verdict(reset, S("7200"), S("7200")), Verdict::Reset);
  EXPECT_EQ(row_verdict(reset, S("600"), S("7200")), Verdict::Changed);
  EXPECT_EQ(row_verdict(inherited, S("cubic"), S("cubic")), Verdict::Inherited);
  // Birth value known: the host moved on after the target was born, the target did not change.
  EXPECT_EQ(row_verdict(inherited, S("bbr"), S("cubic"), S("bbr")), Verdict::Inherited);
  EXPECT_EQ(row_verdict(reset, S("600"), S("7200"), S("7200")), Verdict::Changed);
  EXPECT_EQ(row_verdict(reset, kNone, S("7200")), Verdict::Reset);

  EXPECT_TRUE(row_differs(Verdict::Reset, S("600"), S("7200")));
  EXPECT_FALSE(row_differs(Verdict::Inherited, S("cubic"), S("cubic")));
  EXPECT_TRUE(row_differs(Verdict::Changed, S("600"), S("600")));
  EXPECT_EQ(to_string(Verdict::Changed), "changed");
  EXPECT_EQ(to_string(Birth::Same), "same");
}

TEST(NetnsVerdict, ComputeDiffRowsAndDeviceFallback) {
  SysctlMap host{{"net.ipv4.tcp_keepalive_time", {"600", 0}},
                 {"net.ipv4.tcp_congestion_control", {"cubic", 0}},
                 {"net.ipv6.conf.lo.stable_secret", {"", 5}}};
  SysctlMap fresh{{"net.ipv4.tcp_keepalive_time", {"7200", 0}},
                  {"net.ipv4.tcp_congestion_control", {"cubic", 0}},
                  {"net.ipv4.conf.default.rp_filter", {"2", 0}},
                  {"net.ipv6.conf.lo.stable_secret", {"", 5}}};
  SysctlMap target = fresh;
  target["net.ipv4.tcp_keepalive_time"].value = "900";
  target["net.ipv4.conf.eth0.rp_filter"] = {"1", 0};
  KernelContext k;
  k.default_cc = "bbr";
  auto rows = compute_diff(host, target, fresh, k, nullptr, 7);
  std::map<std::string, DiffRow> by;
  for (auto& r : rows) by[r.sysctl] = r;
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(by["net.ipv4.tcp_keepalive_time"].verdict, Verdict::Changed);
  EXPECT_EQ(by["net.ipv4.tcp_keepalive_time"].rule.birth, Birth::Reset);
  EXPECT_EQ(by["net.ipv4.tcp_congestion_control"].verdict, Verdict::Inherited);
  EXPECT_FALSE(by["net.ipv4.tcp_congestion_control"].differs);
  EXPECT_TRUE(by["net.ipv4.conf.eth0.rp_filter"].fresh_from_default);
  EXPECT_EQ(by["net.ipv4.conf.eth0.rp_filter"].fresh, S("2"));
  EXPECT_EQ(by["net.ipv4.conf.eth0.rp_filter"].verdict, Verdict::Changed);
  EXPECT_FALSE(by["net.ipv6.conf.lo.stable_secret"].target.has_value());
  EXPECT_FALSE(by["net.ipv6.conf.lo.stable_secret"].differs);
}

TEST(NetnsVerdict, RecordingGivesBirthAndLastWrite) {
  std::string text =
      R"({"time":"2026-11-22T11:00:00.000000001Z","event":"netns_create","proc":{"pid":10,"tid":10,"ppid":1,"comm":"runc:[1:CHILD]","uid":0},"cgroup":null,"netns":4026532250,"container":null,"netns_container":null,"cross_namespace":false,"defaults":{"net.ipv4.tcp_keepalive_time":"7200"},"differs_from_host":[{"sysctl":"net.ipv4.tcp_keepalive_time","value":"7200","host":"600"}]})"
      "\n"
      R"({"time":"2026-11-22T11:00:00.000000002Z","event":"sysctl_write","proc":{"pid":11,"tid":11,"ppid":10,"comm":"runc:[2:INIT]","uid":0},"cgroup":null,"netns":4026532250,"container":null,"netns_container":null,"cross_namespace":false,"sysctl":"net.ipv4.tcp_keepalive_time","old_value":"7200","value":"900","result":"ok","file_pos":0})"
      "\n\n"
      R"({"time":"2026-11-22T11:00:00.000000003Z","event":"sysctl_write","proc":{"pid":12,"tid":12,"ppid":1,"comm":"sh","uid":0},"cgroup":null,"netns":4026532250,"container":null,"netns_container":null,"cross_namespace":false,"sysctl":"net.ipv4.tcp_keepalive_time","old_value":"900","value":"1000","result":"ok","file_pos":0})"
      "\n";
  Recording r = parse_recording(text, "s.jsonl");
  EXPECT_EQ(r.events, 3u);
  ASSERT_EQ(r.defaults.count(4026532250u), 1u);
  EXPECT_EQ(r.defaults[4026532250u]["net.ipv4.tcp_keepalive_time"], "7200");
  ASSERT_EQ(r.births["net.ipv4.tcp_keepalive_time"].size(), 1u);
  EXPECT_EQ(r.births["net.ipv4.tcp_keepalive_time"][0].host, "600");
  auto w = r.last_write.at({4026532250u, "net.ipv4.tcp_keepalive_time"});
  EXPECT_EQ(w.comm, "sh");
  EXPECT_EQ(w.as<SysctlWrite>().value, "1000");

  SysctlMap host{{"net.ipv4.tcp_keepalive_time", {"7200", 0}}};
  SysctlMap target{{"net.ipv4.tcp_keepalive_time", {"1000", 0}}};
  auto rows = compute_diff(host, target, host, KernelContext{}, &r, 4026532250u);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, Verdict::Changed);
  EXPECT_EQ(rows[0].rule.birth,
            Birth::Reset);  // the recorded birth got 7200 while the host had 600
  EXPECT_EQ(rows[0].born, S("7200"));
  ASSERT_TRUE(rows[0].last_write.has_value());
  EXPECT_EQ(rows[0].last_write->pid, 12u);
}

TEST(NetnsVerdict, MalformedRecordingNamesFileAndLine) {
  try {
    parse_recording("{\"event\":\"sysctl_read\",\"time\":\"2026-11-22T11:00:00Z\"}\nnot json\n",
                    "x.jsonl");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "x.jsonl:2: not a JSON line");
  }
  EXPECT_THROW(parse_recording("{\"event\":\"bogus\",\"time\":\"2026-11-22T11:00:00Z\"}\n", "y"),
               UsageError);
}

TEST(NetnsVerdict, KernelConfigDefaultCongestionControl) {
  EXPECT_EQ(default_cc_from_config("CONFIG_X=y\nCONFIG_DEFAULT_TCP_CONG=\"bbr\"\n"), S("bbr"));
  EXPECT_EQ(default_cc_from_config("# CONFIG_DEFAULT_TCP_CONG=\"bbr\" is not set\n"), kNone);
  EXPECT_EQ(default_cc_from_config(""), kNone);
}

TEST(NetnsClassify, RuncRules) {
  EXPECT_EQ(runc_rule("net.ipv4.tcp_keepalive_time").ns, SysctlScope::Net);
  EXPECT_TRUE(runc_rule("net.ipv4.tcp_keepalive_time").allowed);
  EXPECT_EQ(runc_rule("kernel.shm_rmid_forced").ns, SysctlScope::Ipc);
  EXPECT_EQ(runc_rule("fs.mqueue.msg_max").ns, SysctlScope::Ipc);
  EXPECT_EQ(runc_rule("kernel.shm_next_id").ns, SysctlScope::Global);  // not in runc's exact list
  EXPECT_EQ(runc_rule("kernel.domainname").ns, SysctlScope::Uts);
  EXPECT_TRUE(runc_rule("kernel.domainname").allowed);
  EXPECT_EQ(runc_rule("kernel.hostname").ns, SysctlScope::Uts);
  EXPECT_FALSE(runc_rule("kernel.hostname").allowed);
  EXPECT_EQ(runc_rule("user.max_user_namespaces").ns, SysctlScope::User);
  EXPECT_EQ(runc_rule("vm.swappiness").ns, SysctlScope::Global);
  EXPECT_FALSE(runc_rule("vm.swappiness").allowed);
}

TEST(NetnsClassify, KubernetesRules) {
  EXPECT_EQ(k8s_rule("net.ipv4.tcp_keepalive_time").safe_since, S("1.29"));
  EXPECT_EQ(k8s_rule("net.ipv4.tcp_rmem").safe_since, S("1.32"));
  EXPECT_EQ(k8s_rule("net.ipv4.ip_local_reserved_ports").safe_since, S("1.27"));
  EXPECT_EQ(k8s_rule("kernel.shm_rmid_forced").safe_since, S("1.4"));
  EXPECT_EQ(k8s_rule("kernel.shm_rmid_forced").ns, SysctlScope::Ipc);
  EXPECT_EQ(k8s_rule("kernel.shm_next_id").ns, SysctlScope::Ipc);
  EXPECT_EQ(k8s_rule("kernel.sem").ns, SysctlScope::Ipc);
  EXPECT_EQ(k8s_rule("net.core.somaxconn").ns, SysctlScope::Net);
  EXPECT_FALSE(k8s_rule("net.core.somaxconn").safe_since.has_value());
  EXPECT_EQ(k8s_rule("kernel.hostname").ns, SysctlScope::Global);
  EXPECT_EQ(k8s_rule("vm.swappiness").ns, SysctlScope::Global);
  EXPECT_EQ(k8s_rule("net.ipv4.tcp_keepalive_time").safe_kernel, S("4.5"));
  EXPECT_FALSE(k8s_rule("net.ipv4.tcp_syncookies").safe_kernel.has_value());
}

// The kubelet's safe set (pkg/kubelet/sysctl/safe_sysctls.go as of v1.37 and
// master; versions from each entry's PR and pkg/util/kernel/constants.go).
TEST(NetnsClassify, KubernetesSafeSetIsTheKubeletsAsOf137) {
  struct Want {
    const char* name;
    const char* since;
    const char* kernel;  // "" = none named
  };
  const Want want[] = {
      {"kernel.shm_rmid_forced", "1.4", ""},
      {"net.ipv4.ip_local_port_range", "1.4", ""},
      {"net.ipv4.tcp_syncookies", "1.4", ""},
      {"net.ipv4.ping_group_range", "1.18", ""},
      {"net.ipv4.ip_unprivileged_port_start", "1.22", ""},
      {"net.ipv4.ip_local_reserved_ports", "1.27", "3.16"},
      {"net.ipv4.tcp_keepalive_time", "1.29", "4.5"},
      {"net.ipv4.tcp_fin_timeout", "1.29", "4.6"},
      {"net.ipv4.tcp_keepalive_intvl", "1.29", "4.5"},
      {"net.ipv4.tcp_keepalive_probes", "1.29", "4.5"},
      {"net.ipv4.tcp_rmem", "1.32", "4.15"},
      {"net.ipv4.tcp_wmem", "1.32", "4.15"},
      {"net.ipv4.tcp_slow_start_after_idle", "1.37", "4.15"},
      {"net.ipv4.tcp_notsent_lowat", "1.37", "4.6"},
  };
  const auto set = k8s_safe_set();
  ASSERT_EQ(set.size(), std::size(want));
  for (size_t i = 0; i < set.size(); ++i) {
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(set[i].name, want[i].name);
    EXPECT_EQ(set[i].since, want[i].since);
    EXPECT_EQ(set[i].kernel.value_or(""), want[i].kernel);
    // k8s_rule agrees with the table, and every entry is namespaced.
    const K8sRule r = k8s_rule(set[i].name);
    EXPECT_EQ(r.safe_since, set[i].since);
    EXPECT_EQ(r.safe_kernel, set[i].kernel);
    EXPECT_NE(r.ns, SysctlScope::Global);
  }
}

TEST(NetnsClassify, Suggestions) {
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  std::vector<std::string> all{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
                               "net.ipv4.tcp_keepalive_probes", "vm.swappiness", "kernel.hostname"};
  auto c = closest_names("net.ipv4.tcp_keepalive_tme", all, 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(unknown_name_message("vm.swapiness", {"vm.swappiness"}),
            "unknown sysctl 'vm.swapiness' (closest: vm.swappiness)");
}

TEST(NetnsWire, EncodeDecodeKeepsAnyBytes) {
  SysctlMap m{{"a.b", {std::string("x\0y\n:12", 7), 0}}, {"c", {"", 5}}, {"d", {"4096\t1\t2", 0}}};
  auto back = decode_map(encode(m));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back["a.b"].value, std::string("x\0y\n:12", 7));
  EXPECT_EQ(back["c"].err, 5);
  EXPECT_EQ(back["d"].value, "4096\t1\t2");
  EXPECT_THROW(decode_map("5:abc"), Error);
  EXPECT_THROW(decode_map("x:abc"), Error);
  EXPECT_THROW(decode_map("1:a1:z0:"), Error);
}

// Issue 19: conf.all/conf.default carry the kernel source and say whether
// this host confirmed the rule by measurement.
TEST(NetnsLogic, DevconfEvidenceNamesTheKernelSourceAndWhetherMeasured) {
  KernelContext k;
  k.devconf_mode = 0;
  auto at_default = birth_rule("net.ipv4.conf.all.rp_filter", S("0"), S("0"), k);
  EXPECT_EQ(at_default.birth, Birth::Inherited);
  EXPECT_NE(at_default.evidence.find("devinet_init_net() in net/ipv4/devinet.c"), std::string::npos)
      << at_default.evidence;
  EXPECT_NE(at_default.evidence.find("not confirmed here"), std::string::npos)
      << at_default.evidence;
  EXPECT_NE(at_default.evidence.find("also the compiled default"), std::string::npos)
      << at_default.evidence;
  auto changed_host = birth_rule("net.ipv4.conf.all.rp_filter", S("1"), S("1"), k);
  EXPECT_EQ(changed_host.birth, Birth::Inherited);
  EXPECT_NE(changed_host.evidence.find(
                "measured: a fresh netns got the host's '1', not the compiled default '0'"),
            std::string::npos)
      << changed_host.evidence;
  auto v6 = birth_rule("net.ipv6.conf.all.forwarding", S("0"), S("0"), k);
  EXPECT_EQ(v6.birth, Birth::Reset);
  EXPECT_NE(v6.evidence.find("addrconf_init_net() in net/ipv6/addrconf.c"), std::string::npos)
      << v6.evidence;
  EXPECT_NE(v6.evidence.find("not confirmed here"), std::string::npos) << v6.evidence;
  auto v6m = birth_rule("net.ipv6.conf.all.forwarding", S("1"), S("0"), k);
  EXPECT_NE(v6m.evidence.find("measured: a fresh netns gets '0', the host has '1'"),
            std::string::npos)
      << v6m.evidence;
  auto dev = birth_rule("net.ipv4.conf.lo.rp_filter", S("1"), S("0"), k);
  EXPECT_NE(dev.evidence.find("inetdev_init()"), std::string::npos) << dev.evidence;
}

TEST(NetnsLogic, GlobalSysctlsAreSharedNotCopied) {
  KernelContext k;
  auto r = birth_rule("net.core.rmem_max", S("212992"), S("212992"), k);
  EXPECT_EQ(r.birth, Birth::Inherited);
  EXPECT_NE(r.evidence.find("not per netns, sysctl_rmem_max"), std::string::npos) << r.evidence;
}

// A listed namespace is opened only while its pid (or bind mount) still is
// that namespace: the pid may have exited and been reused by a process of
// another one (here: our own pid, listed with another namespace's inode).
TEST(NetnsOwners, ListedNetnsIsOpenedOnlyIfStillTheSame) {
  const NetnsInode mine = netns_inode_of_pid(getpid());
  ASSERT_NE(mine, 0u);
  NetnsInfo same{.inode = mine, .pid = getpid()};
  auto fd = open_listed_netns(same);
  ASSERT_TRUE(fd) << fd.error().what();
  EXPECT_TRUE(fd->valid());

  NetnsInfo reused{.inode = mine + 1u, .pid = getpid()};
  auto stale = open_listed_netns(reused);
  ASSERT_FALSE(stale);
  EXPECT_NE(std::string(stale.error().what()).find("no longer netns " + std::to_string(mine + 1)),
            std::string::npos)
      << stale.error().what();
  // A bind mount that still names it is the next try.
  reused.inode = mine;
  reused.pid = 999999999;  // no such pid
  reused.names = {"/proc/self/ns/net"};
  EXPECT_TRUE(open_listed_netns(reused));
  EXPECT_FALSE(open_listed_netns(NetnsInfo{.inode = mine}));
}
