// SPDX-License-Identifier: Apache-2.0
// A real runc container: runc's init applies linux.sysctl, then the
// container's own cat reads it back.
#include <gtest/gtest.h>

#include "harness.hpp"

using namespace sstest;

TEST(RuncE2E, LinuxSysctlWriteAndContainerRead) {
  Tracer t({"--sysctl", "net.ipv4.tcp_keepalive_time"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  RuncContainer::Options o;
  o.args = {"cat", "/proc/sys/net/ipv4/tcp_keepalive_time"};
  o.sysctl = {{"net.ipv4.tcp_keepalive_time", "600"}};
  RuncContainer c(o);
  auto r = c.run_to_exit();
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.out, "600\n");
  ASSERT_TRUE(t.wait_for([](const Json& e) { return is_event(e, "sysctl_read") && e["value"] == "600"; }));
  auto evs = t.stop();

  auto writes = select(evs, [](const Json& e) {
    return is_event(e, "sysctl_write", "net.ipv4.tcp_keepalive_time") && e["value"] == "600";
  });
  ASSERT_EQ(writes.size(), 1u);
  const Json& w = writes[0];
  EXPECT_EQ(w["old_value"], "7200");
  EXPECT_EQ(w["proc"]["comm"], "runc:[2:INIT]");
  EXPECT_NE(w["netns"], netns_of(0)) << "runc writes inside the container's netns";
  auto reads = select(evs, [&](const Json& e) { return is_event(e, "sysctl_read") && e["netns"] == w["netns"]; });
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0]["value"], "600");
  EXPECT_EQ(reads[0]["proc"]["comm"], "cat");
  // Both in the container's cgroup (runc's default: /<id>).
  EXPECT_EQ(reads[0]["cgroup"]["id"], w["cgroup"]["id"]);
  EXPECT_EQ(w["cgroup"]["path"], "/" + c.id());
}
