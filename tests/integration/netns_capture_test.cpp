// SPDX-License-Identifier: Apache-2.0
// netns_create birth snapshots and netns_enter against the real kernel.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace sstest;

namespace {

const std::vector<std::string> kArgs = {"--type", "netns_create,netns_enter,sysctl_write"};

// Netns inodes are recycled as soon as a namespace is gone, and other tests
// create namespaces concurrently: a birth is identified by its inode AND its
// creator (pid), or for `ip netns add` by its inode, comm and a start time.
bool create_of(const Json& e, uint64_t netns, pid_t creator = 0) {
  return is_event(e, "netns_create") && e["netns"] == netns &&
         (!creator || e["proc"]["pid"] == creator);
}

std::vector<Json> creates_of(const std::vector<Json>& evs, uint64_t netns, pid_t creator = 0) {
  return select(evs, [&](const Json& e) { return create_of(e, netns, creator); });
}

// Now, formatted like the events' `time` (RFC 3339, ns, UTC): later births
// compare greater as strings.
std::string now_rfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

// The clone helper in hold mode: the netns stays alive (its inode cannot be
// reused) until this object goes away.
struct ClonedNetns {
  pid_t creator = 0, child = 0;
  uint64_t inode = 0;
  explicit ClonedNetns(const std::string& mode) {
    auto r = run({CLONE_NETNS, mode, "hold"});
    EXPECT_EQ(r.status, 0) << r.err;
    std::istringstream in(r.out);
    in >> creator >> inode >> child;
    EXPECT_GT(child, 0) << r.out;
  }
  ~ClonedNetns() {
    if (child > 0) kill(child, SIGKILL);  // reparented: init reaps it
  }
};

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

// `unshare FLAGS sleep 60` in the background: a netns that stays alive while
// the test reads it (its inode cannot be reused); killed on scope exit. The
// creator is `pid` (unshare execs sleep in the same process).
struct HeldNetns {
  pid_t pid = -1;
  explicit HeldNetns(std::vector<std::string> flags) {
    std::vector<std::string> argv = {"unshare"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"sleep", "60"});
    pid = fork();
    if (pid == 0) {
      std::vector<char*> a;
      for (auto& x : argv) a.push_back(x.data());
      a.push_back(nullptr);
      execvp(a[0], a.data());
      _exit(127);
    }
    // Both namespaces exist once the netns link differs from ours.
    for (int i = 0; i < 500 && pid > 0 && netns_of(pid) == netns_of(0); ++i) usleep(10000);
  }
  ~HeldNetns() {
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
  const std::string start = now_rfc3339();
  NamedNetns ns;
  uint64_t ino = ns.inode();
  ASSERT_NE(ino, 0u);
  auto ours = [&](const Json& e) {
    return create_of(e, ino) && e["proc"]["comm"] == "ip" && e["time"].get<std::string>() >= start;
  };
  auto ev = t.wait_for(ours);
  ASSERT_TRUE(ev) << t.stderr_text();
  EXPECT_EQ((*ev)["via"], "unshare");
  EXPECT_EQ((*ev)["parent_netns"], netns_of(0));
  EXPECT_EQ((*ev)["proc"]["comm"], "ip");
  const Json& defaults = (*ev)["defaults"];
  size_t compared = compare_with_proc(defaults, {"ip", "netns", "exec", ns.name});
  std::cout << "[ compared ] " << compared << " birth defaults with /proc/sys inside the netns ("
            << (ev->contains("unmapped") ? (*ev)["unmapped"].size() : 0) << " unmapped)\n";
  EXPECT_GE(compared, 250u);
  for (const char* must :
       {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_congestion_control", "net.ipv4.tcp_rmem",
        "net.ipv4.ip_local_port_range", "net.ipv4.ping_group_range", "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.default.forwarding", "net.core.somaxconn", "net.unix.max_dgram_qlen",
        "net.ipv6.conf.all.forwarding", "net.ipv4.ip_forward"})
    EXPECT_TRUE(defaults.contains(must)) << must;
  EXPECT_EQ(select(t.stop(), ours).size(), 1u);
}

TEST(NetnsCapture, CloneClone3AndUnshareEachGiveExactlyOneCreate) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ClonedNetns c("clone"), c3("clone3");
  HeldNetns u({"-n"});
  ASSERT_GT(c.child, 0);
  ASSERT_GT(c3.child, 0);
  ASSERT_NE(u.netns(), netns_of(0));
  uint64_t nu = u.netns();
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, nu, u.pid); }));
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, c3.inode, c3.creator); }));
  auto evs = t.stop();
  auto a = creates_of(evs, c.inode, c.creator), b = creates_of(evs, c3.inode, c3.creator),
       d = creates_of(evs, nu, u.pid);
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
    if (host_cc != c && (" " + avail + " ").find(std::string(" ") + c + " ") != std::string::npos)
      other = c;
  ASSERT_FALSE(other.empty()) << "no second built-in congestion control in: " << avail;
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // A birth just before the change primes the tool's cache of host values:
  // the change below must still be seen.
  HeldNetns prime({"-n"});
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, prime.netns(), prime.pid); }));
  uint64_t ino;
  pid_t creator;
  {
    SysctlGuard cc("net.ipv4.tcp_congestion_control"), kt("net.ipv4.tcp_keepalive_time"),
        ki("net.ipv4.tcp_keepalive_intvl"), kp("net.ipv4.tcp_keepalive_probes");
    cc.set(other);
    kt.set("600");
    ki.set("10");
    kp.set("6");
    HeldNetns u({"-n"});
    ino = u.netns();
    creator = u.pid;
    ASSERT_NE(ino, netns_of(0));
    ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, ino, creator); }));
  }
  EXPECT_EQ(read_sysctl("net.ipv4.tcp_keepalive_time"), "7200");
  auto evs = creates_of(t.stop(), ino, creator);
  ASSERT_EQ(evs.size(), 1u);
  const Json& d = evs[0]["defaults"];
  EXPECT_EQ(d["net.ipv4.tcp_congestion_control"], other);  // copied from the host
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_time"], "7200");     // reset by tcp_sk_init()
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_intvl"], "75");
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_probes"], "9");
  std::map<std::string, std::pair<std::string, std::string>> differs;
  for (auto& x : evs[0]["differs_from_host"]) differs[x["sysctl"]] = {x["value"], x["host"]};
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_time"],
            std::make_pair(std::string("7200"), std::string("600")));
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_intvl"],
            std::make_pair(std::string("75"), std::string("10")));
  EXPECT_EQ(differs["net.ipv4.tcp_keepalive_probes"],
            std::make_pair(std::string("9"), std::string("6")));
  EXPECT_EQ(differs.count("net.ipv4.tcp_congestion_control"), 0u);
}

TEST(NetnsCapture, RuncContainerBirthThenLinuxSysctlWriteAndNsenter) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string start = now_rfc3339();
  RuncContainer::Options o;
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "600"}};
  RuncContainer c(o);
  pid_t pid = c.start_detached();
  ASSERT_GT(pid, 0);
  uint64_t cns = netns_of(pid);
  auto r = run({"nsenter", "-t", std::to_string(pid), "-n", "true"});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(
      t.wait_for([&](const Json& e) { return is_event(e, "netns_enter") && e["netns"] == cns; }));
  auto evs = t.stop();
  // The container is alive: no later netns can have its inode; earlier ones
  // are before `start`.
  auto births = select(evs, [&](const Json& e) {
    return create_of(e, cns) && e["time"].get<std::string>() >= start;
  });
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
  auto enters =
      select(evs, [&](const Json& e) { return is_event(e, "netns_enter") && e["netns"] == cns; });
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
  HeldNetns u({"-U", "-r", "-n"}), plain({"-n"});
  ASSERT_GT(u.pid, 0);
  uint64_t ino = u.netns(), plain_ino = plain.netns();
  ASSERT_NE(ino, netns_of(0)) << "unshare -U -r -n did not start";
  ASSERT_NE(plain_ino, netns_of(0));
  auto ev = t.wait_for([&](const Json& e) { return create_of(e, ino, u.pid); });
  ASSERT_TRUE(ev) << t.stderr_text();
  auto pev = t.wait_for([&](const Json& e) { return create_of(e, plain_ino, plain.pid); });
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
    EXPECT_NE(run({"nsenter", "-t", std::to_string(u.pid), "-n", "test", "-e", slash_path(hidden)})
                  .status,
              0);
  }
  EXPECT_EQ(d["net.ipv4.tcp_keepalive_time"], "7200");
  EXPECT_EQ(creates_of(t.stop(), ino, u.pid).size(), 1u);
}

TEST(NetnsCapture, CloneWithANewUserNamespace) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  ClonedNetns c("clone-userns");
  ASSERT_GT(c.child, 0);
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return create_of(e, c.inode, c.creator); }))
      << t.stderr_text();
  auto evs = creates_of(t.stop(), c.inode, c.creator);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["via"], "clone");
  EXPECT_EQ(evs[0]["parent_netns"], netns_of(0));
  EXPECT_EQ(evs[0]["userns"], userns_of(c.child));
  EXPECT_NE(evs[0]["userns"], userns_of(0));
  EXPECT_FALSE(evs[0]["defaults"].contains("net.core.xfrm_acq_expires"));
  EXPECT_EQ(evs[0]["defaults"]["net.ipv4.tcp_keepalive_time"], "7200");
}

// The tracer re-reads host sysctls for differs_from_host: those reads are its
// own and must never come out as events, while other processes' reads do.
TEST(NetnsCapture, TracerOwnHostReReadsAreNotEvents) {
  Tracer t({"--type", "netns_create,sysctl_read"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  HeldNetns u({"-n"});
  uint64_t nu = u.netns();
  ASSERT_NE(nu, netns_of(0));
  auto ev = t.wait_for([&](const Json& e) { return create_of(e, nu, u.pid); });
  ASSERT_TRUE(ev) << t.stderr_text();
  ASSERT_TRUE((*ev)["differs_from_host"].is_array());  // the host values were read
  ASSERT_EQ(run({"cat", "/proc/sys/net/ipv4/tcp_keepalive_probes"}).status, 0);
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_read", "net.ipv4.tcp_keepalive_probes") &&
           e["proc"]["comm"] == "cat";
  }));
  auto evs = t.stop();
  auto own = select(evs, [&](const Json& e) {
    return is_event(e, "sysctl_read") && e["proc"]["pid"] == static_cast<int64_t>(t.pid());
  });
  EXPECT_EQ(own.size(), 0u) << (own.empty() ? "" : own[0].dump());
}

// Issue 19: every entry of a fresh netns's /proc/sys/net is in the birth
// record: decoded (equal to /proc), global (the host's value, equal to
// /proc) or unmapped with the reason. Nothing wrong, nothing unexplained.
TEST(NetnsCapture, BirthSnapshotAccountsForEveryEntryOfAFreshNetns) {
  Tracer t(kArgs);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  HeldNetns held({"-n"});
  ASSERT_GT(held.pid, 0);
  const uint64_t ino = held.netns();
  ASSERT_NE(ino, netns_of(0));
  auto ev = t.wait_for([&](const Json& e) { return create_of(e, ino, held.pid); });
  ASSERT_TRUE(ev) << t.stderr_text();
  // Every readable file, read inside the netns: "path\0value\0" pairs.
  auto r = run({"nsenter", "-t", std::to_string(held.pid), "-n", "sh", "-c",
                "find /proc/sys/net -type f | while read -r f; do v=$(cat \"$f\" 2>/dev/null) && "
                "printf '%s\\0%s\\0' \"$f\" \"$v\"; done"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, std::string> proc;
  {
    std::vector<std::string> f;
    std::string cur;
    for (char c : r.out) {
      if (c) {
        cur.push_back(c);
        continue;
      }
      f.push_back(cur);
      cur.clear();
    }
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      std::string name;
      for (char c : f[i].substr(std::string("/proc/sys/").size()))
        name.push_back(c == '/' ? '.' : c == '.' ? '/' : c);
      proc[name] = f[i + 1];
    }
  }
  ASSERT_GT(proc.size(), 200u);
  const Json& d = (*ev)["defaults"];
  const Json g = ev->contains("global") ? (*ev)["global"] : Json::object();
  const Json um = ev->contains("unmapped") ? (*ev)["unmapped"] : Json::array();
  const Json why = ev->contains("unmapped_reasons") ? (*ev)["unmapped_reasons"] : Json::object();
  std::set<std::string> unmapped;
  for (const auto& n : um) unmapped.insert(n.get<std::string>());
  size_t decoded = 0, global = 0, explained = 0;
  std::vector<std::string> unexplained;
  for (const auto& [name, value] : proc) {
    if (d.contains(name)) {
      EXPECT_EQ(d[name], value) << name << " decoded wrong";
      ++decoded;
    } else if (g.contains(name)) {
      EXPECT_EQ(g[name], value) << name << " (global)";
      ++global;
    } else if (unmapped.count(name) && why.contains(name)) {
      ++explained;
    } else {
      unexplained.push_back(name);
    }
  }
  std::cout << "[ coverage ] " << proc.size() << " readable entries: " << decoded << " decoded, "
            << global << " global, " << explained << " unmapped with a reason, "
            << unexplained.size() << " unexplained\n";
  EXPECT_TRUE(unexplained.empty())
      << unexplained.size()
      << " neither decoded nor explained, first: " << (unexplained.empty() ? "" : unexplained[0]);
  // Every entry is decoded or global: mptcp, br_netfilter and nf_defrag_ipv6
  // through their net_generic() slots.
  EXPECT_EQ(explained, 0u) << "unmapped: " << um.dump() << " why: " << why.dump();
  for (const char* must :
       {"net.mptcp.add_addr_timeout", "net.mptcp.scheduler", "net.bridge.bridge-nf-call-iptables",
        "net.netfilter.nf_conntrack_frag6_timeout", "net.netfilter.nf_conntrack_count",
        "net.ipv4.ip_local_reserved_ports"})
    if (proc.count(must)) {
      EXPECT_TRUE(d.contains(must)) << must;
    }
  for (const char* must :
       {"net.ipv4.conf.lo.rp_filter", "net.ipv6.conf.lo.disable_ipv6",
        "net.ipv4.neigh.lo.unres_qlen", "net.ipv6.neigh.lo.retrans_time_ms", "net.ipv4.ipfrag_time",
        "net.ipv4.tcp_ehash_entries", "net.ipv6.icmp.ratemask", "net.ipv4.tcp_fastopen_key"})
    if (proc.count(must)) {
      EXPECT_TRUE(d.contains(must)) << must;
    }
  if (proc.count("net.core.rmem_max")) {
    EXPECT_TRUE(g.contains("net.core.rmem_max"));
  }
  if (proc.count("net.netfilter.nf_conntrack_tcp_timeout_established")) {
    EXPECT_TRUE(d.contains("net.netfilter.nf_conntrack_tcp_timeout_established"));
  }
}
