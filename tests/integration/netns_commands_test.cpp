// SPDX-License-Identifier: Apache-2.0
// `netns list`, `diff` and `explain` against the real kernel: real runc
// containers, real `ip netns add` namespaces, host sysctls changed only inside
// SysctlGuard scopes (restored even when an assertion fails).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

// `ip netns add` namespace, deleted on scope exit.
class NamedNetns {
 public:
  NamedNetns() {
    name_ = "sstest-ns-" + std::to_string(std::random_device{}() % 1000000);
    auto r = run({"ip", "netns", "add", name_});
    if (r.status != 0) throw std::runtime_error("ip netns add failed: " + r.err);
  }
  ~NamedNetns() { run({"ip", "netns", "del", name_}); }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  uint64_t inode() const {
    struct stat st {};
    return ::stat(path().c_str(), &st) == 0 ? st.st_ino : 0;
  }

 private:
  std::string name_;
};

Json run_json(const std::vector<std::string>& args, int want_status = 0) {
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  EXPECT_EQ(r.status, want_status) << r.err;
  return Json::parse(r.out);  // -o json: one document
}

const Json* row(const Json& diff, const std::string& sysctl) {
  for (const auto& r : diff["rows"])
    if (r["sysctl"] == sysctl) return &r;
  return nullptr;
}

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST(NetnsCommands, DiffOnRuncContainerSaysChanged) {
  RuncContainer::Options o;
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "600"}};
  RuncContainer c(o);
  pid_t pid = c.start_detached();
  ASSERT_GT(pid, 0);

  // By id prefix (the full id minus its last character).
  Json d = run_json({"diff", c.id().substr(0, c.id().size() - 1), "-o", "json"});
  EXPECT_EQ(d["target"]["kind"], "container");
  EXPECT_EQ(d["target"]["container"]["id"], c.id());
  EXPECT_EQ(d["target"]["netns"], netns_of(pid));
  EXPECT_GT(d["compared"].get<int>(), 300) << "every per-netns sysctl is compared";
  const Json* k = row(d, "net.ipv4.tcp_keepalive_time");
  ASSERT_NE(k, nullptr) << d.dump();
  EXPECT_EQ((*k)["target"], "600");
  EXPECT_EQ((*k)["fresh"], "7200");
  EXPECT_EQ((*k)["verdict"], "changed");
  EXPECT_EQ((*k)["host"], read_sysctl("net.ipv4.tcp_keepalive_time"));
  // Default output: differing rows only.
  for (const auto& r : d["rows"])
    EXPECT_TRUE(r["verdict"] == "changed" || r["host"] != r["target"]) << r.dump();

  // The same namespace by pid, as a table.
  auto t = run({binary(), "diff", std::to_string(pid), "-o", "table"});
  ASSERT_EQ(t.status, 0) << t.err;
  bool found = false;
  std::istringstream lines(t.out);
  for (std::string l; std::getline(lines, l);) {
    auto w = split_ws(l);
    if (w.size() >= 5 && w[0] == "net.ipv4.tcp_keepalive_time") {
      found = true;
      EXPECT_EQ(w[2], "600");
      EXPECT_EQ(w[3], "7200");
      EXPECT_EQ(w[4], "changed");
    }
  }
  EXPECT_TRUE(found) << t.out;
}

TEST(NetnsCommands, DiffSeedScenarioResetAndInherited) {
  // Another built-in congestion control than the host's current one.
  std::string cur = read_sysctl("net.ipv4.tcp_congestion_control");
  std::string other;
  for (const auto& cc : split_ws(read_sysctl("net.ipv4.tcp_available_congestion_control")))
    if (cc != cur && (other.empty() || cc == "cubic")) other = cc;
  ASSERT_FALSE(other.empty()) << "only one congestion control available";

  SysctlGuard g_cc("net.ipv4.tcp_congestion_control"), g_t("net.ipv4.tcp_keepalive_time"),
      g_i("net.ipv4.tcp_keepalive_intvl"), g_p("net.ipv4.tcp_keepalive_probes");
  g_cc.set(other);
  g_t.set("600");
  g_i.set("10");
  g_p.set("6");
  NamedNetns ns;

  Json d = run_json({"diff", ns.name(), "--all", "-o", "json"});
  EXPECT_EQ(d["target"]["kind"], "name");
  EXPECT_EQ(d["target"]["netns"], ns.inode());
  EXPECT_EQ(d["target"]["names"], Json::array({ns.path()}));
  struct Want {
    const char* sysctl;
    const char* host;
    const char* target;
  };
  for (Want w : {Want{"net.ipv4.tcp_keepalive_time", "600", "7200"},
                 Want{"net.ipv4.tcp_keepalive_intvl", "10", "75"},
                 Want{"net.ipv4.tcp_keepalive_probes", "6", "9"}}) {
    const Json* r = row(d, w.sysctl);
    ASSERT_NE(r, nullptr) << w.sysctl;
    EXPECT_EQ((*r)["host"], w.host) << w.sysctl;
    EXPECT_EQ((*r)["target"], w.target) << w.sysctl;
    EXPECT_EQ((*r)["fresh"], w.target) << w.sysctl;
    EXPECT_EQ((*r)["verdict"], "reset") << w.sysctl;
  }
  const Json* cc = row(d, "net.ipv4.tcp_congestion_control");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ((*cc)["host"], other);
  EXPECT_EQ((*cc)["target"], other);
  EXPECT_EQ((*cc)["verdict"], "inherited") << (*cc)["evidence"];

  // Without --all: the keepalive rows differ from the host, the congestion control does not.
  Json dd = run_json({"diff", ns.path(), "-o", "json"});
  EXPECT_NE(row(dd, "net.ipv4.tcp_keepalive_time"), nullptr);
  EXPECT_EQ(row(dd, "net.ipv4.tcp_congestion_control"), nullptr);
  EXPECT_LT(dd["rows"].size(), d["rows"].size());
  // By netns inode too.
  Json di = run_json({"diff", std::to_string(ns.inode()), "-o", "json"});
  EXPECT_EQ(di["target"]["netns"], ns.inode());
  EXPECT_EQ(row(di, "net.ipv4.tcp_keepalive_probes")->at("verdict"), "reset");
}

TEST(NetnsCommands, DiffLeavesHostValuesAlone) {
  NamedNetns ns;
  auto before =
      run({"sh", "-c", "cd /proc/sys/net && grep -r . ipv4/tcp_* core/somaxconn 2>/dev/null"});
  Json d = run_json({"diff", ns.name(), "--all", "-o", "json"});
  auto after =
      run({"sh", "-c", "cd /proc/sys/net && grep -r . ipv4/tcp_* core/somaxconn 2>/dev/null"});
  EXPECT_EQ(before.out, after.out);
  EXPECT_FALSE(d["rows"].empty());
}

TEST(NetnsCommands, DiffFromRecordingSaysWhoChangedIt) {
  Tracer t({"--sysctl", "net.ipv4.tcp_keepalive_time", "--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer::Options o;
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "900"}};
  RuncContainer c(o);
  pid_t pid = c.start_detached();
  uint64_t ino = netns_of(pid);
  auto w = t.wait_for([&](const Json& e) { return e["netns"] == ino && e["value"] == "900"; });
  ASSERT_TRUE(w);
  t.stop();
  TempDir dir;
  std::string file = dir.path() + "/session.jsonl";
  {
    std::ifstream in(t.stdout_path());
    std::ofstream out(file);
    out << in.rdbuf();
  }
  Json d = run_json({"diff", c.id(), "--from", file, "-o", "json"});
  const Json* k = row(d, "net.ipv4.tcp_keepalive_time");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ((*k)["verdict"], "changed");
  ASSERT_TRUE(k->contains("last_write")) << k->dump();
  EXPECT_EQ((*k)["last_write"]["proc"]["comm"], "runc:[2:INIT]");
  EXPECT_EQ((*k)["last_write"]["old_value"], "7200");
  EXPECT_EQ((*k)["last_write"]["value"], "900");
  EXPECT_EQ((*k)["last_write"]["result"],
            (*w)["result"]);  // as recorded ("unknown" without result capture)
  EXPECT_EQ((*k)["last_write"]["time"], (*w)["time"]);
  EXPECT_GE(d["recording"]["events"].get<int>(), 1);
}

TEST(NetnsCommands, DiffBadTargetIsUsageError) {
  auto r = run({binary(), "diff", "sstest-no-such-container-zz"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no container id or prefix"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  auto f = run({binary(), "diff", "1", "--from", "/nonexistent/file"});
  EXPECT_EQ(f.status, 2) << f.err;
}

TEST(NetnsCommands, ListShowsNamedNetnsAndRuncOwner) {
  NamedNetns ns;
  RuncContainer c(RuncContainer::Options{});
  pid_t pid = c.start_detached();
  uint64_t cino = netns_of(pid);
  Json l = run_json({"netns", "list", "-o", "json"});
  const Json *named = nullptr, *cont = nullptr, *host = nullptr;
  for (const auto& n : l["namespaces"]) {
    if (n["netns"] == ns.inode()) named = &n;
    if (n["netns"] == cino) cont = &n;
    if (n["host"] == true) host = &n;
  }
  ASSERT_NE(named, nullptr) << l.dump();
  EXPECT_EQ((*named)["names"], Json::array({ns.path()}));
  EXPECT_EQ((*named)["processes"], 0);
  EXPECT_TRUE((*named)["pid"].is_null());
  EXPECT_TRUE((*named)["container"].is_null());
  ASSERT_NE(cont, nullptr) << l.dump();
  EXPECT_EQ((*cont)["container"]["id"], c.id());
  EXPECT_EQ((*cont)["container"]["runtime"], "runc");
  EXPECT_EQ((*cont)["processes"], 1);
  EXPECT_EQ((*cont)["pid"], pid);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ((*host)["netns"], netns_of(0));

  auto t = run({binary(), "netns", "list", "-o", "table"});
  ASSERT_EQ(t.status, 0);
  EXPECT_NE(t.out.find("runc:" + c.id()), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(ns.path()), std::string::npos) << t.out;
}

TEST(NetnsCommands, ExplainNetSysctl) {
  Json e = run_json({"explain", "net/ipv4/tcp_keepalive_time", "-o", "json"});
  EXPECT_EQ(e["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(e["namespace"], "net");
  EXPECT_EQ(e["confirmed"], true) << e["evidence"];
  EXPECT_EQ(e["kubernetes"]["namespace"], "net");
  EXPECT_EQ(e["kubernetes"]["safe"], true);
  EXPECT_EQ(e["kubernetes"]["safe_since"], "1.29");
  EXPECT_EQ(e["kubernetes"]["safe_kernel"], "4.5");
  EXPECT_NE(e["how_to_set"].dump().find("safe since Kubernetes 1.29 on kernel 4.5 or newer"),
            std::string::npos);
  EXPECT_EQ(e["runc"]["allowed"], true);
  EXPECT_EQ(e["per_container"], true);
  EXPECT_EQ(e["host_value"], read_sysctl("net.ipv4.tcp_keepalive_time"));
  EXPECT_EQ(e["new_netns"]["fresh"], "7200");
  EXPECT_NE(e["how_to_set"].dump().find("docker run --sysctl net.ipv4.tcp_keepalive_time="),
            std::string::npos);
  EXPECT_NE(e["how_to_set"].dump().find("securityContext.sysctls"), std::string::npos);
}

TEST(NetnsCommands, ExplainKeepaliveResetWithHostChanged) {
  SysctlGuard g("net.ipv4.tcp_keepalive_time");
  g.set("600");
  Json e = run_json({"explain", "net.ipv4.tcp_keepalive_time", "-o", "json"});
  EXPECT_EQ(e["host_value"], "600");
  EXPECT_EQ(e["new_netns"]["verdict"], "reset");
  EXPECT_EQ(e["new_netns"]["fresh"], "7200");
}

// On a host at the defaults a measurement cannot tell reset from inherited:
// the kernel's code does, and the evidence says it was not confirmed here.
TEST(NetnsCommands, ExplainAtHostDefaultsTellsTheSeedLesson) {
  SysctlGuard g("net.ipv4.tcp_keepalive_time");
  g.set("7200");
  Json e = run_json({"explain", "net.ipv4.tcp_keepalive_time", "-o", "json"});
  EXPECT_EQ(e["new_netns"]["verdict"], "reset");
  std::string ev = e["new_netns"]["evidence"];
  EXPECT_NE(ev.find("tcp_sk_init()"), std::string::npos) << ev;
  EXPECT_NE(ev.find("not confirmed here"), std::string::npos) << ev;
  Json cc = run_json({"explain", "net.ipv4.tcp_congestion_control", "-o", "json"});
  EXPECT_EQ(cc["new_netns"]["verdict"], "inherited") << cc.dump();
  Json rp = run_json({"explain", "net.ipv4.conf.all.rp_filter", "-o", "json"});
  const std::string mode = read_sysctl("net.core.devconf_inherit_init_net");
  EXPECT_EQ(rp["new_netns"]["verdict"], mode == "2" ? "reset" : "inherited") << rp.dump();
  // The kernel's code, and whether this host confirmed it (at defaults it cannot).
  std::string rpe = rp["new_netns"]["evidence"];
  EXPECT_NE(rpe.find("devinet_init_net() in net/ipv4/devinet.c"), std::string::npos) << rpe;
  if (read_sysctl("net.ipv4.conf.all.rp_filter") == "0") {
    EXPECT_NE(rpe.find("not confirmed here"), std::string::npos) << rpe;
  }
  std::string cce = cc["new_netns"]["evidence"];
  EXPECT_NE(cce.find("tcp_sk_init()"), std::string::npos) << cce;
}

TEST(NetnsCommands, ExplainIpcUtsAndHostGlobal) {
  std::string shm = read_sysctl("kernel.shm_rmid_forced"), hn = read_sysctl("kernel.hostname");
  Json ipc = run_json({"explain", "kernel.shm_rmid_forced", "-o", "json"});
  EXPECT_EQ(ipc["namespace"], "ipc");
  EXPECT_EQ(ipc["confirmed"], true) << ipc["evidence"];
  EXPECT_EQ(ipc["kubernetes"]["namespace"], "ipc");
  EXPECT_EQ(ipc["kubernetes"]["safe"], true);
  EXPECT_EQ(ipc["runc"]["allowed"], true);
  EXPECT_TRUE(ipc["new_netns"].is_null());

  Json uts = run_json({"explain", "kernel.hostname", "-o", "json"});
  EXPECT_EQ(uts["namespace"], "uts");
  EXPECT_EQ(uts["confirmed"], true) << uts["evidence"];
  EXPECT_EQ(uts["runc"]["allowed"], false);
  EXPECT_NE(uts["runc"]["rule"].get<std::string>().find("rejected"), std::string::npos);
  EXPECT_TRUE(uts["kubernetes"]["namespace"].is_null());
  EXPECT_NE(uts["how_to_set"].dump().find("--hostname"), std::string::npos);

  Json vm = run_json({"explain", "vm.swappiness", "-o", "json"});
  EXPECT_EQ(vm["namespace"], "none");
  EXPECT_EQ(vm["per_container"], false);
  EXPECT_EQ(vm["runc"]["allowed"], false);
  EXPECT_EQ(vm["kubernetes"]["safe"], false);
  EXPECT_NE(vm["how_to_set"].dump().find("cannot be set per container"), std::string::npos);
  EXPECT_EQ(vm["host_value"], read_sysctl("vm.swappiness"));

  // The probes wrote only inside throwaway namespaces.
  EXPECT_EQ(read_sysctl("kernel.shm_rmid_forced"), shm);
  EXPECT_EQ(read_sysctl("kernel.hostname"), hn);

  // A net.* key the kernel keeps only in init_net is not per container.
  Json g = run_json({"explain", "net.core.devconf_inherit_init_net", "-o", "json"});
  EXPECT_EQ(g["namespace"], "none");
  EXPECT_EQ(g["confirmed"], true);
}

TEST(NetnsCommands, ExplainTypoSuggestsAndExits2) {
  auto r = run({binary(), "explain", "net.ipv4.tcp_keepalive_tme"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "sysctlscope: error: unknown sysctl 'net.ipv4.tcp_keepalive_tme' (closest: "
            "net.ipv4.tcp_keepalive_time, "
            "net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes)\n");
  auto dir = run({binary(), "explain", "net.ipv4"});
  EXPECT_EQ(dir.status, 2) << "a directory is not a sysctl";
}

TEST(NetnsCommands, ExplainTextOutput) {
  auto r = run({binary(), "explain", "kernel.shm_rmid_forced", "-o", "text"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("kernel.shm_rmid_forced\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("namespace:      ipc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("safe since Kubernetes 1.4\n"), std::string::npos) << r.out;
  // A master/v1.37 addition: both versions on the kubernetes line.
  r = run({binary(), "explain", "net.ipv4.tcp_notsent_lowat", "-o", "text"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("net-namespaced, safe since Kubernetes 1.37, needs kernel 4.6+"),
            std::string::npos)
      << r.out;
}

// The devconf_inherit_init_net rule against the kernel: with the host's
// conf.default changed (affects only devices created later), a new netns copies
// the IPv4 block and resets the IPv6 one in mode 0; modes 1/2 as documented.
TEST(NetnsCommands, DiffDevconfFollowsInheritMode) {
  int mode = std::stoi(read_sysctl("net.core.devconf_inherit_init_net"));
  ASSERT_TRUE(mode >= 0 && mode <= 3);
  SysctlGuard g4("net.ipv4.conf.default.arp_announce"), g6("net.ipv6.conf.default.hop_limit");
  std::string v4 = g4.original() == "2" ? "1" : "2";
  std::string v6 = g6.original() == "63" ? "62" : "63";
  g4.set(v4);
  g6.set(v6);
  NamedNetns ns;
  Json d = run_json({"diff", ns.name(), "--all", "-o", "json"});
  EXPECT_EQ(d["devconf_inherit_init_net"], mode);
  const Json* r4 = row(d, "net.ipv4.conf.default.arp_announce");
  const Json* r6 = row(d, "net.ipv6.conf.default.hop_limit");
  ASSERT_NE(r4, nullptr);
  ASSERT_NE(r6, nullptr);
  bool v4_copied = mode != 2, v6_copied = mode == 1 || mode == 3;
  EXPECT_EQ((*r4)["target"] == v4, v4_copied) << r4->dump();
  EXPECT_EQ((*r6)["target"] == v6, v6_copied) << r6->dump();
  EXPECT_EQ((*r4)["verdict"], v4_copied ? "inherited" : "reset") << r4->dump();
  EXPECT_EQ((*r6)["verdict"], v6_copied ? "inherited" : "reset") << r6->dump();
  EXPECT_NE(
      (*r4)["evidence"].get<std::string>().find("devconf_inherit_init_net=" + std::to_string(mode)),
      std::string::npos);
}

TEST(NetnsCommands, ExplainUnreadableEntryStillClassified) {
  Json e = run_json({"explain", "net.ipv4.route.flush", "-o", "json"});  // write-only
  EXPECT_EQ(e["namespace"], "net");
  EXPECT_EQ(e["confirmed"], true);
  EXPECT_TRUE(e["host_value"].is_null());
  EXPECT_EQ(e["host_error"], "EACCES");
}
