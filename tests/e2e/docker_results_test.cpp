// SPDX-License-Identifier: Apache-2.0
// Issue 16 item 4: runc init's sysctl writes in short-lived Docker containers
// get a definite result in the default (readback) mode: the container's
// netns dies right after its one process, so the result comes from the
// writer's exit snapshot or Docker's netns handle, never "unknown".
#include <gtest/gtest.h>

#include <string>

#include "harness.hpp"

using namespace sstest;

TEST(DockerResults, ShortLivedContainersWritesAreDefinite) {
  // scripts/test.sh starts dockerd and imports the image (scripts/runtimes.sh).
  ASSERT_EQ(run({"docker", "image", "inspect", "sysctlscope-busybox:latest"}).status, 0)
      << "no dockerd or no test image: run scripts/runtimes.sh start";
  Tracer t({"--type", "sysctl_write"});
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  for (int i = 1; i <= 3; ++i) {
    const std::string ka = std::to_string(640 + i);
    auto r = run({"docker", "run", "--rm", "--sysctl", "net.ipv4.tcp_keepalive_time=" + ka,
                  "sysctlscope-busybox:latest", "true"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto ev = t.wait_for([&](const Json& e) {
      return is_event(e, "sysctl_write", "net.ipv4.tcp_keepalive_time") && e["value"] == ka;
    });
    ASSERT_TRUE(ev) << t.stderr_text();
    EXPECT_EQ((*ev)["result"], "ok") << ev->dump();
    EXPECT_EQ((*ev)["result_source"], "readback");
  }
  t.stop();
  EXPECT_EQ(t.exit_status(), 0) << t.stderr_text();
}
