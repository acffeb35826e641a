// SPDX-License-Identifier: Apache-2.0
// Policies against the real kernel (docs/policy.md): `check` exit codes and
// findings, live drift from `trace --policy`, `--enforce` refusing writes in
// the kernel (and nothing left enforcing after exit), `--dry-run`, globs,
// a Docker container matched by name. Host sysctls are restored by guards.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "harness.hpp"

using namespace sstest;

namespace {

const char* kProbes = "net.ipv4.tcp_keepalive_probes";  // rarely written by anyone else

std::string write_policy(const TempDir& d, const std::string& name, const std::string& text) {
  const std::string p = d.path() + "/" + name;
  std::ofstream(p) << text;
  return p;
}


std::string random_suffix() {
  std::random_device rd;
  return std::to_string(rd() % 1000000);
}

// A named netns (/run/netns/NAME), deleted on destruction.
class NamedNetns {
 public:
  NamedNetns() : name_("sstest-pol-" + random_suffix()) {
    auto r = run({"ip", "netns", "add", name_});
    if (r.status != 0) throw std::runtime_error("ip netns add: " + r.err);
    inode_ = std::stoull(sh("stat -L -c %i /run/netns/" + name_).out);
  }
  ~NamedNetns() { run({"ip", "netns", "del", name_}); }
  RunResult exec(const std::string& cmd) const {
    return run({"ip", "netns", "exec", name_, "sh", "-c", cmd});
  }
  uint64_t inode() const { return inode_; }

 private:
  std::string name_;
  uint64_t inode_ = 0;
};

std::string keep_only(const std::string& v) { return std::to_string(std::stoll(v) + 1); }

}  // namespace

TEST(Policy, CheckHostSatisfiedViolatedAndBadLine) {
  TempDir d;
  const std::string cur = read_sysctl(kProbes);
  auto ok = write_policy(d, "ok.conf",
                         "# the current value\n" + std::string(kProbes) + " = " + cur + "\n");
  auto r = run({binary(), "check", "--policy", ok, "-o", "json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");

  auto bad_value = keep_only(cur);
  auto viol = write_policy(d, "viol.conf",
                           std::string(kProbes) + " = " + cur +
                               "\nnet/ipv4/tcp_keepalive_probes = " + bad_value +
                               "\n-kernel.sstest_no_such_sysctl = 1\n");
  r = run({binary(), "check", "--policy", viol, "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto evs = json_lines(r.out);
  ASSERT_EQ(evs.size(), 1u) << r.out;
  EXPECT_EQ(evs[0]["event"], "sysctl_drift");
  EXPECT_EQ(evs[0]["sysctl"], kProbes);
  EXPECT_EQ(evs[0]["expected"], bad_value);
  EXPECT_EQ(evs[0]["value"], cur);
  EXPECT_EQ(evs[0]["policy"], viol + ":2") << "the later line decides";
  EXPECT_EQ(evs[0]["cause"], "check");
  EXPECT_EQ(evs[0]["netns"], netns_of(getpid())) << "the host netns";
  EXPECT_TRUE(evs[0]["proc"].is_null());

  // Missing explicit sysctl (without '-'): drift, missing.
  auto miss = write_policy(d, "miss.conf", "kernel.sstest_no_such_sysctl = 1\n");
  r = run({binary(), "check", "--policy", miss, "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  evs = json_lines(r.out);
  ASSERT_EQ(evs.size(), 1u) << r.out;
  EXPECT_EQ(evs[0]["missing"], true);

  auto bad = write_policy(d, "bad.conf", std::string(kProbes) + " = 1\nthis is not a rule\n");
  r = run({binary(), "check", "--policy", bad});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "sysctlscope: error: " + bad +
                       ":2: not an assignment (name = value): 'this is not a rule'\n");
  EXPECT_EQ(r.out, "");
}

TEST(Policy, CheckGlobInScratchNetns) {
  NamedNetns ns;
  ASSERT_EQ(ns.exec("echo 2 > /proc/sys/net/ipv4/conf/lo/rp_filter").status, 0);
  TempDir d;
  auto p =
      write_policy(d, "glob.conf", "# sysctlscope: scope=netns\nnet.ipv4.conf.*.rp_filter = 0\n");
  auto r = run({binary(), "check", "--policy", p, "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto mine = select(json_lines(r.out), [&](const Json& e) { return e["netns"] == ns.inode(); });
  ASSERT_EQ(mine.size(), 1u) << r.out;
  EXPECT_EQ(mine[0]["sysctl"], "net.ipv4.conf.lo.rp_filter");
  EXPECT_EQ(mine[0]["value"], "2");
  EXPECT_EQ(mine[0]["policy"], p + ":2");
}

TEST(Policy, TraceDriftAndResolvedOnHostWrite) {
  SysctlGuard g(kProbes);
  TempDir d;
  auto p = write_policy(d, "p.conf", std::string(kProbes) + " = " + g.original() + "\n");
  Tracer t({"--policy", p});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  const std::string other = keep_only(g.original());
  g.set(other);
  auto drift = t.wait_for([&](const Json& e) { return is_event(e, "sysctl_drift", kProbes); });
  ASSERT_TRUE(drift) << t.stderr_text();
  EXPECT_EQ((*drift)["cause"], "write");
  EXPECT_EQ((*drift)["old_value"], g.original());
  EXPECT_EQ((*drift)["value"], other);
  EXPECT_EQ((*drift)["expected"], g.original());
  EXPECT_EQ((*drift)["policy"], p + ":1");
  EXPECT_EQ((*drift)["proc"]["pid"], getpid());
  EXPECT_FALSE(drift->contains("resolved"));
  g.set(g.original());
  auto resolved = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_drift", kProbes) && e.value("resolved", false);
  });
  ASSERT_TRUE(resolved);
  EXPECT_EQ((*resolved)["value"], g.original());
  auto evs = t.stop();
  // Each drift follows its write.
  auto writes = select(evs, [](const Json& e) { return is_event(e, "sysctl_write", kProbes); });
  auto drifts = select(evs, [](const Json& e) { return is_event(e, "sysctl_drift", kProbes); });
  EXPECT_EQ(writes.size(), 2u);
  EXPECT_EQ(drifts.size(), 2u);
}

TEST(Policy, TraceBirthAndWriteDriftInScratchNetns) {
  TempDir d;
  auto p =
      write_policy(d, "p.conf", "# sysctlscope: scope=netns\nnet.ipv4.tcp_keepalive_time = 600\n");
  Tracer t({"--policy", p});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r =
      sh("unshare -n sh -c 'readlink /proc/self/ns/net; "
         "echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time; "
         "echo 900 > /proc/sys/net/ipv4/tcp_keepalive_time'");
  ASSERT_EQ(r.status, 0) << r.err;
  uint64_t netns = std::stoull(r.out.substr(r.out.find('[') + 1));
  auto mine = [&](const Json& e) {
    return is_event(e, "sysctl_drift", "net.ipv4.tcp_keepalive_time") && e["netns"] == netns;
  };
  ASSERT_TRUE(t.wait_for([&](const Json& e) { return mine(e) && e["value"] == "900"; }))
      << t.stderr_text();
  auto evs = select(t.stop(), mine);
  ASSERT_EQ(evs.size(), 3u);
  // Born with the kernel default 7200: drift at birth.
  EXPECT_EQ(evs[0]["cause"], "netns_create");
  EXPECT_EQ(evs[0]["value"], "7200");
  // 7200 -> 600 restores the policy, 600 -> 900 breaks it again.
  EXPECT_EQ(evs[1]["cause"], "write");
  EXPECT_EQ(evs[1]["resolved"], true);
  EXPECT_EQ(evs[2]["old_value"], "600");
  EXPECT_EQ(evs[2]["value"], "900");
  EXPECT_FALSE(evs[2].contains("resolved"));
}

TEST(Policy, EnforceDeniesAndDetachLiftsIt) {
  SysctlGuard g(kProbes);
  TempDir d;
  auto p = write_policy(d, "p.conf", std::string(kProbes) + " = " + g.original() + "\n");
  const std::string other = keep_only(g.original());
  // sysctl(8) prints the errno it got (dash's echo says "I/O error" for any).
  const std::string cmd = "sysctl -w " + std::string(kProbes) + "=" + other;
  {
    Tracer t({"--policy", p, "--enforce"});
    ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
    auto r = sh(cmd);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    EXPECT_EQ(read_sysctl(kProbes), g.original()) << "the refused write changed nothing";
    // Writing the expected value passes; so do reads.
    EXPECT_EQ(sh("echo " + g.original() + " > /proc/sys/net/ipv4/tcp_keepalive_probes").status, 0);
    auto drift = t.wait_for([&](const Json& e) {
      return is_event(e, "sysctl_drift", kProbes) && e.value("denied", false);
    });
    ASSERT_TRUE(drift) << t.stderr_text();
    EXPECT_EQ((*drift)["value"], other);
    auto evs = t.stop();
    auto denied = select(evs, [&](const Json& e) {
      return is_event(e, "sysctl_write", kProbes) && e.value("denied", false);
    });
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]["result"], "EPERM");
    EXPECT_EQ(denied[0]["value"], other);
  }
  // The tracer is gone: nothing enforces any more.
  auto r = sh(cmd);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_sysctl(kProbes), other);
}

// IPC and UTS sysctls are per namespace (docs/policy.md, Scopes): a host
// rule refuses and judges writes to the host's, never to a private one's.
TEST(Policy, EnforceHostIpcUtsRulesSpareTheirOwnNamespaces) {
  SysctlGuard ipc("kernel.shmmni");
  SysctlGuard uts("kernel.domainname");
  TempDir d;
  auto p = write_policy(
      d, "p.conf",
      "kernel.shmmni = " + ipc.original() + "\nkernel.domainname = " + uts.original() + "\n");
  const std::string other = keep_only(ipc.original());
  Tracer t({"--policy", p, "--enforce"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // Own IPC and UTS namespaces: allowed; the writer lives on so that the
  // judge can look its namespace up.
  auto r = sh("unshare -iu sh -c 'echo " + other +
              " > /proc/sys/kernel/shmmni && echo sstest > /proc/sys/kernel/domainname && "
              "cat /proc/sys/kernel/shmmni /proc/sys/kernel/domainname; sleep 1'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, other + "\nsstest\n");
  EXPECT_EQ(read_sysctl("kernel.shmmni"), ipc.original());
  // The host's: refused.
  EXPECT_NE(sh("echo " + other + " > /proc/sys/kernel/shmmni").status, 0);
  EXPECT_NE(sh("echo sstest > /proc/sys/kernel/domainname").status, 0);
  EXPECT_EQ(read_sysctl("kernel.shmmni"), ipc.original());
  EXPECT_EQ(read_sysctl("kernel.domainname"), uts.original());
  ASSERT_TRUE(t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_drift", "kernel.domainname") && e.value("denied", false);
  })) << t.stderr_text();
  auto evs = t.stop();
  for (const char* name : {"kernel.shmmni", "kernel.domainname"}) {
    auto writes = select(evs, [&](const Json& e) { return is_event(e, "sysctl_write", name); });
    ASSERT_EQ(writes.size(), 2u) << name;
    EXPECT_FALSE(writes[0].contains("denied")) << writes[0].dump();
    EXPECT_EQ(writes[1]["denied"], true) << writes[1].dump();
    auto drifts = select(evs, [&](const Json& e) { return is_event(e, "sysctl_drift", name); });
    ASSERT_EQ(drifts.size(), 1u) << name << ": only the host write drifts";
    EXPECT_EQ(drifts[0]["denied"], true);
  }
}

// `check` run in IPC/UTS namespaces of its own (a container) judges the
// host's IPC/UTS sysctls, not its own copies.
TEST(Policy, CheckReadsHostIpcUtsSysctlsFromItsOwnNamespaces) {
  const std::string shmmni = read_sysctl("kernel.shmmni"), dom = read_sysctl("kernel.domainname");
  TempDir d;
  auto ok = write_policy(d, "ok.conf",
                         "kernel.shmmni = " + shmmni + "\nkernel.domainname = " + dom + "\n");
  auto bad = write_policy(d, "bad.conf", "kernel.shmmni = " + keep_only(shmmni) + "\n");
  auto check_in_own = [&](const std::string& policy) {
    return sh("unshare -iu sh -c 'echo " + keep_only(keep_only(shmmni)) +
              " > /proc/sys/kernel/shmmni && echo sstest-own > /proc/sys/kernel/domainname && " +
              binary() + " check --policy " + policy + " -o json'");
  };
  auto r = check_in_own(ok);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  r = check_in_own(bad);
  EXPECT_EQ(r.status, 1) << r.err;
  auto evs = json_lines(r.out);
  ASSERT_EQ(evs.size(), 1u) << r.out;
  EXPECT_EQ(evs[0]["value"], shmmni) << "the host's value, not ours";
  EXPECT_EQ(read_sysctl("kernel.shmmni"), shmmni);
  EXPECT_EQ(read_sysctl("kernel.domainname"), dom);
}

TEST(Policy, DryRunMarksGlobWritesInNetnsWithoutDenying) {
  NamedNetns ns;
  TempDir d;
  auto p =
      write_policy(d, "glob.conf", "# sysctlscope: scope=netns\nnet.ipv4.conf.*.rp_filter = 0\n");
  Tracer t({"--policy", p, "--enforce", "--dry-run"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = ns.exec(
      "echo 2 > /proc/sys/net/ipv4/conf/lo/rp_filter; cat /proc/sys/net/ipv4/conf/lo/rp_filter");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2\n") << "--dry-run refuses nothing";
  auto w = t.wait_for([&](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.conf.lo.rp_filter") && e["netns"] == ns.inode();
  });
  ASSERT_TRUE(w) << t.stderr_text();
  EXPECT_EQ((*w)["would_deny"], true);
  EXPECT_FALSE(w->contains("denied"));
  t.stop();
}

TEST(Policy, EnforceGlobInNetnsDenies) {
  NamedNetns ns;
  TempDir d;
  auto p =
      write_policy(d, "glob.conf", "# sysctlscope: scope=netns\nnet.ipv4.conf.*.rp_filter = 0\n");
  Tracer t({"--policy", p, "--enforce"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  auto r = ns.exec("echo 2 > /proc/sys/net/ipv4/conf/default/rp_filter");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(ns.exec("cat /proc/sys/net/ipv4/conf/default/rp_filter").out, "0\n");
  EXPECT_EQ(ns.exec("echo 0 > /proc/sys/net/ipv4/conf/lo/rp_filter").status, 0);
  t.stop();
}

// The kernel's verdict is userspace's (normalize_value: blank runs are one
// space, leading and trailing ones do not count) for any value it reads
// whole (255 bytes); a 63-byte expected value passes with echo's newline.
TEST(Policy, EnforceComparesValuesTheWayUserspaceNormalisesThem) {
  NamedNetns ns;
  // ip_local_reserved_ports: a per-netns list of any length. Odd ports are
  // never merged into ranges, so /proc prints them as written.
  auto ports = [](int four_digit, int five_digit) {
    std::string v;
    for (int k = 0; k < four_digit; ++k) v += (v.empty() ? "" : ",") + std::to_string(2000 + 2 * k);
    for (int k = 0; k < five_digit; ++k) v += "," + std::to_string(20000 + 2 * k);
    return v;
  };
  const std::string v63 = ports(2, 9), v64 = ports(1, 10);
  ASSERT_EQ(v63.size(), 63u);
  ASSERT_EQ(v64.size(), 64u);
  const std::string rmem = "/proc/sys/net/ipv4/tcp_rmem",
                    res = "/proc/sys/net/ipv4/ip_local_reserved_ports";
  auto put = [&](const std::string& path, const std::string& printf_fmt) {
    return ns.exec("printf '" + printf_fmt + "' > " + path).status == 0;
  };
  for (const auto& v : {v63, v64}) {
    ASSERT_TRUE(put(res, v + "\\n"));
    ASSERT_EQ(ns.exec("cat " + res).out, v + "\n");
  }
  ASSERT_TRUE(put(res, v63 + "\\n"));
  const std::string r = ns.exec("cat " + rmem).out;  // "4096\t131072\t6291456\n"
  ASSERT_EQ(std::count(r.begin(), r.end(), '\t'), 2) << r;
  const std::string a = r.substr(0, r.find('\t')),
                    c = r.substr(r.rfind('\t') + 1, r.size() - r.rfind('\t') - 2),
                    b = r.substr(a.size() + 1, r.size() - a.size() - c.size() - 3);
  TempDir d;
  auto p = write_policy(d, "p.conf",
                        "# sysctlscope: scope=netns\nnet.ipv4.tcp_rmem = " + a + " " + b + " " + c +
                            "\nnet.ipv4.ip_local_reserved_ports = " + v63 + "\n");
  Tracer t({"--policy", p, "--enforce"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // The expected value however it is spelt: allowed.
  EXPECT_TRUE(put(rmem, a + "  " + b + "\\t\\t" + c + "\\n")) << "blank runs";
  EXPECT_TRUE(put(rmem, "  \\t" + a + " " + b + " " + c)) << "leading blanks";
  EXPECT_TRUE(put(rmem, a + " " + b + " " + c + std::string(100, ' ') + "\\n")) << "over 64 bytes";
  EXPECT_TRUE(put(res, v63 + "\\n")) << "63 bytes and the newline of echo";
  // Anything else: refused.
  EXPECT_FALSE(put(rmem, a + " " + b + " " + c + "1"));
  EXPECT_FALSE(put(rmem, a + " " + b));
  EXPECT_FALSE(put(rmem, a + " " + b + " " + c + " 1"));
  EXPECT_FALSE(put(rmem, a + b + " " + c)) << "a blank is not optional";
  EXPECT_FALSE(put(rmem, a + " " + b + " " + c + std::string(150, ' ') + "1")) << "read whole";
  EXPECT_FALSE(put(rmem, a + " " + b + " 1" + std::string(300, ' ') + "\\n"))
      << "differs within the 255 bytes the kernel reads";
  // Past those 255 bytes the kernel cannot tell: it allows (docs/policy.md).
  EXPECT_TRUE(put(rmem, a + " " + b + " " + c + std::string(300, ' ') + "\\n"));
  EXPECT_FALSE(put(res, v64 + "\\n"));
  EXPECT_EQ(ns.exec("cat " + rmem).out, r);
  EXPECT_EQ(ns.exec("cat " + res).out, v63 + "\n");
  auto evs = t.stop();
  auto denied = select(evs, [&](const Json& e) {
    return e["netns"] == ns.inode() && e.value("denied", false) && e["event"] == "sysctl_write";
  });
  EXPECT_EQ(denied.size(), 7u);
}

// A 64-byte expected value: its writes pass (the kernel read 64 bytes
// before, so they were always refused).
TEST(Policy, EnforceSixtyFourByteValue) {
  NamedNetns ns;
  std::string v64 = "2000";
  for (int k = 0; k < 10; ++k) v64 += "," + std::to_string(20000 + 2 * k);
  ASSERT_EQ(v64.size(), 64u);
  const std::string res = "/proc/sys/net/ipv4/ip_local_reserved_ports";
  auto put = [&](const std::string& printf_fmt) {
    return ns.exec("printf '" + printf_fmt + "' > " + res).status == 0;
  };
  ASSERT_TRUE(put(v64));
  TempDir d;
  auto p = write_policy(
      d, "p.conf", "# sysctlscope: scope=netns\nnet.ipv4.ip_local_reserved_ports = " + v64 + "\n");
  Tracer t({"--policy", p, "--enforce"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  EXPECT_TRUE(put(v64 + "\\n"));
  EXPECT_TRUE(put(v64));
  EXPECT_FALSE(put(v64 + ",30000"));
  EXPECT_FALSE(put("2002" + v64.substr(4)));
  EXPECT_EQ(ns.exec("cat " + res).out, v64 + "\n");
  t.stop();
}

TEST(Policy, CheckContainerScopedRuleWithDocker) {
  // scripts/runtimes.sh start semantics: start dockerd (and import the image)
  // when they are not there; leave running what others started.
  if (sh("docker image inspect sysctlscope-busybox:latest >/dev/null 2>&1").status != 0) {
    auto up = sh(std::string(SS_SOURCE_DIR) + "/scripts/runtimes.sh start");
    ASSERT_EQ(up.status, 0) << "scripts/runtimes.sh start failed: " << up.out << up.err;
  }
  const std::string name = "sstest-pol-" + random_suffix();
  struct Rm {
    std::string n;
    ~Rm() { sh("docker rm -f " + n + " >/dev/null 2>&1"); }
  } rm{name};
  auto r = sh("docker run -d --name " + name +
              " --sysctl net.ipv4.tcp_keepalive_time=600 sysctlscope-busybox:latest sleep 120");
  ASSERT_EQ(r.status, 0) << r.err;
  TempDir d;
  auto p = write_policy(
      d, "ct.conf", "# sysctlscope: container=" + name + "\nnet.ipv4.tcp_keepalive_time = 300\n");
  r = run({binary(), "check", "--policy", p, "-o", "json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto evs = json_lines(r.out);
  ASSERT_EQ(evs.size(), 1u) << r.out;
  EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time");
  EXPECT_EQ(evs[0]["value"], "600");
  EXPECT_EQ(evs[0]["container"]["name"], name);
  EXPECT_EQ(evs[0]["netns_container"]["name"], name);

  auto ok = write_policy(
      d, "ok.conf", "# sysctlscope: container=" + name + "\nnet.ipv4.tcp_keepalive_time = 600\n");
  r = run({binary(), "check", "--policy", ok, "-o", "json"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

// `check` run inside a private netns (`unshare -n`, `ip netns exec`) judges
// the host's net.* values and labels them with the host's netns: before,
// it read its own netns's value and labelled it with the host's inode.
TEST(Policy, CheckInPrivateNetnsReadsAndLabelsTheHostsNetSysctls) {
  const std::string host_ka = read_sysctl("net.ipv4.tcp_keepalive_time");
  const std::string own_ka = host_ka == "4321" ? "4322" : "4321";
  TempDir d;
  auto p = write_policy(d, "ka.conf", "net.ipv4.tcp_keepalive_time = 1\n");
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &st), 0);  // the test runs in the host netns
  const uint64_t host_inode = st.st_ino;
  auto judge = [&](const RunResult& r, const char* how) {
    EXPECT_EQ(r.status, 1) << how << ": " << r.out << r.err;
    auto evs = json_lines(r.out);
    ASSERT_EQ(evs.size(), 1u) << how << ": " << r.out;
    EXPECT_EQ(evs[0]["sysctl"], "net.ipv4.tcp_keepalive_time") << how;
    EXPECT_EQ(evs[0]["value"], host_ka) << how << ": the host's value, not the private netns's";
    EXPECT_EQ(evs[0]["netns"].get<uint64_t>(), host_inode) << how;
  };
  // The private netns holds another value, so reading the wrong one shows.
  judge(sh("unshare -n sh -c 'echo " + own_ka + " > /proc/sys/net/ipv4/tcp_keepalive_time && " +
           binary() + " check --policy " + p + " -o json'"),
        "unshare -n");
  NamedNetns ns;
  judge(ns.exec("echo " + own_ka + " > /proc/sys/net/ipv4/tcp_keepalive_time && " + binary() +
                " check --policy " + p + " -o json"),
        "ip netns exec");
  EXPECT_EQ(read_sysctl("net.ipv4.tcp_keepalive_time"), host_ka);
}
