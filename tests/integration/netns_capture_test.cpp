// SPDX-License-Identifier: Apache-2.0
// netns_create birth snapshots and netns_enter against the real kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

const std::vector<std::string> kArgs = {"--type", "netns_create,netns_enter,sysctl_write"};

bool create_of(const Json& e, uint64_t netns) { return is_event(e, "netns_create") && e["netns"] == netns; }

std::vector<Json> creates_of(const std::vector<Json>& evs, uint64_t netns) {
  return select(evs, [&](const Json& e) { return create_of(e, netns); });
}

// A named netns (ip netns add), deleted on scope exit.
struct NamedNetns {
  std::string name = "sstest-" + std::to_string(getpid()) + "-" + std::to_string(rand() % 100000);
  NamedNetns() { EXPECT_EQ(run({"ip", "netns", "add", name}).status, 0); }
  ~NamedNetns() { run({"ip", "netns", "del", name}); }
  uint64_t inode() const { return cgroup_id_of_path("/run/netns/" + name); }  // stat().st_ino
};

std::string slash_path(const std::string& dotted) {
  std::string p = "/proc/sys/";
  for (char c : dotted) p.push_back(c == '.' ? '/' : (c == '/' ? '.' : c));
  return p;
}


// Compares every captured default with what `enter` + sh reads from /proc/sys
// (one reader prints NUL-separated values in name order); returns how many.
size_t compare_with_proc(const Json& defaults, std::vector<std::string> enter) {
  std::string script;
  std::vector<std::string> names;
  for (auto it = defaults.begin(); it != defaults.end(); ++it) {
    names.push_back(it.key());
    script += "cat '" + slash_path(it.key()) + "'; printf '\\0'; ";
  }
  enter.insert(enter.end(), {"sh", "-c", script});
  auto r = run(enter);
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> values;
  std::string cur;
  for (char c : r.out) {
    if (c == '\0') {
      if (!cur.empty() && cur.back() == '\n') cur.pop_back();
      values.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  EXPECT_EQ(values.size(), names.size());
  size_t compared = 0;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    EXPECT_EQ(defaults[names[i]], values[i]) << names[i];
    ++compared;
  }
  return compared;
}

// `unshare -U -r -n sleep 60` in the background: a netns owned by a new user
// namespace that stays alive while the test reads it; killed on scope exit.
struct UsernsNetns {
  pid_t pid = -1;
  UsernsNetns() {
    pid = fork();
    if (pid == 0) {
      execlp("unshare", "unshare", "-U", "-r", "-n", "sleep", "60", (char*)nullptr);
      _exit(127);
    }
    // unshare execs sleep in the same process once both namespaces exist.
    for (int i = 0; i < 500 && pid > 0 && netns_of(pid) == netns_of(0); ++i) usleep(10000);
  }
  ~UsernsNetns() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  uint64_t netns() const { return netns_of(pid); }
};

uint64_t userns_of(pid_t pid) {
  struct stat st {};
  std::string p = pid ? "/proc/" + std::to_string(pid) + "/ns/user" : "/proc/self/ns/user";
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST(NetnsCapture, EveryCapturedDefaultMatchesProcInsideTheNamespace) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  NamedNetns ns;
  uint64_t ino = ns.inode();
  ASSERT_NE(ino, 0u);
  auto ev = t.wait_for([&](const Json& e) { return create_of(e, ino); });
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["via"], "unshare");
  EXPECT_EQ((*ev)["parent_netns"], netns_of(0));
  EXPECT_EQ((*ev)["proc"]["comm"], "ip");
  const Json& defaults = (*ev)["defaults"];
  size_t compared = compare_with_proc(defaults, {"ip", "netns", "exec", ns.name});
  std::cout << "[ compared ] " << compared << " birth defaults with /proc/sys inside the netns ("
            << (ev->contains("unmapped") ? (*ev)["unmapped"].size() : 0) << " unmapped)\n";
  EXPECT_GE(compared, 250u);
  for (const char* must : {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_rmem",
                           "net.ipv4.ip_local_port_range", "net.ipv4.ping_group_range", "net.ipv4.conf.all.rp_filter",
                           "net.ipv4.conf.default.forwarding", "net.core.somaxconn", "net.unix.max_dgram_qlen",
                           "net.ipv6.conf.all.forwarding", "net.ipv4.ip_forward"})
    EXPECT_TRUE(defaults.contains(must)) << must;
  EXPECT_EQ(creates_of(t.stop(), ino).size(), 1u);
}

TEST(NetnsCapture, CloneClone3AndUnshareEachGiveExactlyOneCreate) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto c = run({CLONE_NETNS, "clone"});
  auto c3 = run({CLONE_NETNS, "clone3"});
  auto u = sh("unshare -n sh -c 'readlink /proc/self/ns/net'");
  ASSERT_EQ(c.status, 0);
  ASSERT_EQ(c3.status, 0);
  ASSERT_EQ(u.status, 0);
  uint64_t nc = std::stoull(c.out), nc3 = std::stoull(c3.out);
  uint64_t nu = std::stoull(u.out.substr(u.out.find('[') + 1));
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, nu); }));
  auto evs = t.stop();
  auto a = creates_of(evs, nc), b = creates_of(evs, nc3), d = creates_of(evs, nu);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(a[0]["via"], "clone");
  EXPECT_EQ(b[0]["via"], "clone3");
  EXPECT_EQ(d[0]["via"], "unshare");
  for (auto* e : {&a[0], &b[0], &d[0]}) {
    EXPECT_EQ((*e)["parent_netns"], netns_of(0));
    EXPECT_EQ((*e)["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");
  }
  EXPECT_EQ(a[0]["proc"]["comm"], "clone_netns");
}

TEST(NetnsCapture, SeedScenarioInheritedAndResetAtBirth) {
  auto avail = read_sysctl("net.ipv4.tcp_available_congestion_control");
  std::string host_cc = read_sysctl("net.ipv4.tcp_congestion_control");
  std::string other;
  for (const char* c : {"cubic", "reno", "bbr"})
    if (host_cc != c && (" " + avail + " ").find(std::string(" ") + c + " ") != std::string::npos) other = c;
  ASSERT_FALSE(other.empty()) << "no second built-in congestion control in: " << avail;
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // A birth just before the change primes the tool's cache of host values:
  // the change below must still be seen.
  auto prime = sh("unshare -n sh -c 'readlink /proc/self/ns/net'");
  ASSERT_EQ(prime.status, 0);
  uint64_t prime_ino = std::stoull(prime.out.substr(prime.out.find('[') + 1));
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, prime_ino); }));
  uint64_t ino;
  {
    SysctlGuard cc("net.ipv4.tcp_congestion_control"), kt("net.ipv4.tcp_keepalive_time"),
        ki("net.ipv4.tcp_keepalive_intvl"), kp("net.ipv4.tcp_keepalive_probes");
    cc.set(other);
    kt.set("600");
    ki.set("10");
    kp.set("6");
    auto u = sh("unshare -n sh -c 'readlink /proc/self/ns/net'");
    ASSERT_EQ(u.status, 0);
    ino = std::stoull(u.out.substr(u.out.find('[') + 1));
    ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, ino); }));
  }
  EXPECT_EQ(read_sysctl("net.ipv4.tcp_keepalive_time"), "7200");
  auto evs = creates_of(t.stop(), ino);
  ASSERT_EQ(evs.size(), 1u);
  const Json& d = evs[0]["defaults"];
  EXPECT_EQ(d["net.ipv4.tcp_congestion_control"], other);  // copied from the host
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_time"], "7200");     // reset by tcp_sk_init()
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_intvl"], "75");
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_probes"], "9");
  std::map<std::string, std::pair<std::string, std::string>> differs;
  for (auto& x : evs[0]["differs_from_host"]) differs[x["sysctl"]] = {x["value"], x["host"]};
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_time"], std::make_pair(std::string("7200"), std::string("600")));
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_intvl"], std::make_pair(std::string("75"), std::string("10")));
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_probes"], std::make_pair(std::string("9"), std::string("6")));
  EXPECT_EQ(differs.count("net.ipv4.tcp_congestion_control"), 0u);
}

TEST(NetnsCapture, RuncContainerBirthThenLinuxSysctlWriteAndNsenter) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer::Options o;
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "600"}};
  RuncContainer c(o);
  pid_t pid = c.start_detached();
  ASSERT_GT(pid, 0);
  uint64_t cns = netns_of(pid);
  auto r = run({"nsenter", "-t", std::to_string(pid), "-n", "true"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return is_event(e, "netns_enter") && e["netns"] == cns; }));
  auto evs = t.stop();
  auto births = creates_of(evs, cns);
  ASSERT_EQ(births.size(), 1u);
  EXPECT_EQ(births[0]["via"], "unshare");  // runc's nsexec unshares the netns
  EXPECT_EQ(births[0]["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");
  auto writes = select(evs, [&](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.tcp_keepalive_time") && e["netns"] == cns;
  });
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0]["old_value"], "7200");
  EXPECT_EQ(writes[0]["value"], "600");
  EXPECT_LT(births[0]["time"].get<std::string>(), writes[0]["time"].get<std::string>());
  auto enters = select(evs, [&](const Json& e) { return is_event(e, "netns_enter") && e["netns"] == cns; });
  ASSERT_GE(enters.size(), 1u);
  EXPECT_EQ(enters.back()["from_netns"], netns_of(0));
  EXPECT_EQ(enters.back()["proc"]["comm"], "nsenter");
}

// unshare(CLONE_NEWUSER | CLONE_NEWNET) in one call (rootless containers,
// unshare -Urn): one netns_create owned by the new user namespace, every
// default matches /proc inside it, and the tables the kernel does not register
// for such a netns (net.core.xfrm_*, net.ipv6.route.*) are not claimed.
TEST(NetnsCapture, NetnsOwnedByANewUserNamespace) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  UsernsNetns u;
  ASSERT_GT(u.pid, 0);
  uint64_t ino = u.netns();
  ASSERT_NE(ino, netns_of(0)) << "unshare -U -r -n did not start";
  auto plain = sh("unshare -n sh -c 'readlink /proc/self/ns/net'");
  ASSERT_EQ(plain.status, 0);
  uint64_t plain_ino = std::stoull(plain.out.substr(plain.out.find('[') + 1));
  auto ev = t.wait_for([&](const Json& e) { return create_of(e, ino); });
  ASSERT_TRUE(ev) << t.stderr_text();
  auto pev = t.wait_for([&](const Json& e) { return create_of(e, plain_ino); });
  ASSERT_TRUE(pev) << t.stderr_text();
  EXPECT_EQ((*ev)["via"], "unshare");
  EXPECT_EQ((*ev)["parent_netns"], netns_of(0));
  EXPECT_EQ((*ev)["userns"], userns_of(u.pid));
  EXPECT_NE((*ev)["userns"], userns_of(0));
  EXPECT_EQ((*pev)["userns"], userns_of(0));
  const Json& d = (*ev)["defaults"];
  // Read as a task of the initial user namespace (nsenter -n only), as the
  // snapshot renders ping_group_range.
  size_t compared = compare_with_proc(d, {"nsenter", "-t", std::to_string(u.pid), "-n"});
  std::cout << "[ compared ] " << compared << " birth defaults in a user-namespace-owned netns\n";
  EXPECT_GE(compared, 250u);
  auto listed = [](const Json& birth, const char* n) {
    if (birth["defaults"].contains(n)) return true;
    if (!birth.contains("unmapped")) return false;
    for (auto& x : birth["unmapped"])
      if (x == n) return true;
    return false;
  };
  for (const char* hidden : {"net.core.xfrm_acq_expires", "net.ipv6.route.gc_timeout"}) {
    EXPECT_TRUE(listed(*pev, hidden)) << hidden << " missing from a plain netns";
    EXPECT_FALSE(listed(*ev, hidden)) << hidden << " claimed for a user-namespace-owned netns";
    EXPECT_NE(run({"nsenter", "-t", std::to_string(u.pid), "-n", "test", "-e", slash_path(hidden)}).status, 0);
  }
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_time"], "7200");
  EXPECT_EQ(creates_of(t.stop(), ino).size(), 1u);
}

TEST(NetnsCapture, CloneWithANewUserNamespace) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto c = run({CLONE_NETNS, "clone-userns"});
  ASSERT_EQ(c.status, 0) << c.err;
  uint64_t ino = std::stoull(c.out);
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, ino); })) << t.stderr_text();
  auto evs = creates_of(t.stop(), ino);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["via"], "clone");
  EXPECT_EQ(evs[0]["parent_netns"], netns_of(0));
  EXPECT_NE(evs[0]["userns"], userns_of(0));
  EXPECT_FALSE(evs[0]["defaults"].contains("net.core.xfrm_acq_expires"));
  EXPECT_EQ(evs[0]["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");
}
