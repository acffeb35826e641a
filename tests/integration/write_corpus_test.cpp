// SPDX-License-Identifier: Apache-2.0
// The kernel write corpus (tests/corpus/kernel_writes.tsv) on the real kernel
// and through the real tool, in both result modes: every case is first
// checked against what the kernel really did (the helper's own write() result
// and read-back), then the tool's `sysctl_write` for it must say the same in
// `--write-results syscall` (the errno) and `readback` (ok / not_applied,
// never unknown), with `stored` where the kernel stored something else than
// the written text or the old value. net.* and UTS cases run in a scratch
// net+UTS namespace; the host values they touch are restored by guards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <sstream>

#include "harness.hpp"
#include "model/event.hpp"
#include "write_corpus.hpp"

using namespace sstest;

namespace {

struct Truth {
  std::string result, before, after;
};

struct Tally {
  size_t cases = 0, agree = 0, unknown = 0;
};

// Runs one group of the corpus through the tool in one result mode and checks
// every case. `wrap`: the command prefix (unshare ...) or empty.
void run_group(const std::vector<WriteCase>& all, const std::string& group, bool syscall,
               const std::string& wrap, Tally& tally) {
  std::vector<WriteCase> cases;
  for (const auto& c : all)
    if (c.group == group) cases.push_back(c);
  ASSERT_FALSE(cases.empty()) << group;
  size_t writes = 0;
  for (const auto& c : cases) writes += c.setup == "-" ? 1 : 2;

  std::vector<std::string> args = {"--type", "sysctl_write"};
  if (syscall) args.insert(args.end(), {"--write-results", "syscall"});
  Tracer t(args);
  ASSERT_TRUE(t.wait_ready()) << t.stderr_text();
  // The helper stays a moment after its last write: the read-back of a UTS
  // sysctl goes through the writer.
  auto r = sh(wrap + " sh -c 'echo $$; exec " SYSCTL_WRITE_CASES " -g " + group + " -s 0.5 " +
              SS_SOURCE_DIR "/tests/corpus/kernel_writes.tsv'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream out(r.out);
  std::string line;
  std::getline(out, line);
  const long pid = std::stol(line);
  std::map<std::string, Truth> truth;
  while (std::getline(out, line)) {
    std::vector<std::string> col;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) col.push_back(c);
    while (col.size() < 4) col.push_back("");
    truth[col[0]] = {col[1], col[2], col[3]};
  }
  auto mine = [&](const Json& e) { return is_event(e, "sysctl_write") && e["proc"]["pid"] == pid; };
  for (int i = 0; i < 100 && select(t.events(), mine).size() < writes; ++i) usleep(100000);
  const auto evs = select(t.stop(), mine);
  ASSERT_EQ(evs.size(), writes) << t.stderr_text();

  size_t k = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(syscall ? "syscall" : "readback") + " " + c.id + " (" + c.sysctl +
                 " <- \"" + c.value + "\")");
    if (c.setup != "-") ++k;  // the setup write
    const Json& e = evs[k++];
    ++tally.cases;
    // 1. The corpus is what this kernel does.
    ASSERT_TRUE(truth.count(c.id));
    const Truth& tr = truth[c.id];
    EXPECT_EQ(tr.result, c.result) << "the kernel's write() result";
    EXPECT_EQ(tr.before, c.old);
    EXPECT_TRUE(c.after_matches(tr.after)) << "the kernel stored '" << tr.after << "'";
    // 2. The tool saw this very write.
    EXPECT_EQ(e["sysctl"], c.sysctl);
    EXPECT_EQ(e["file_pos"], c.pos);
    const std::string res = e["result"];
    if (res == "unknown") ++tally.unknown;
    // 3. Its verdict is the kernel's.
    const std::string bytes = c.bytes();
    bool agree;
    if (syscall) {
      EXPECT_EQ(e["result_source"], "syscall");
      agree = res == (c.ok() ? "ok" : c.result);
      if (c.ok() && c.taken() < bytes.size())
        EXPECT_EQ(e.value("bytes_written", 0u), c.taken()) << "a short write";
      else
        EXPECT_FALSE(e.contains("bytes_written"));
    } else {
      EXPECT_EQ(e["result_source"], "readback");
      agree = res == (c.ok() ? "ok" : "not_applied");
    }
    EXPECT_TRUE(agree) << "result " << res << ", the kernel said " << tr.result;
    if (agree) ++tally.agree;
    // 4. `stored`: what the kernel holds when it is neither the text written
    // (ok) nor the old value (refused). Syscall mode gives it where the
    // errno and the handler's rules determine it.
    std::string written = bytes;
    if (!written.empty() && written.back() == '\n') written.pop_back();
    const std::string plain = sysctlscope::normalize_value(c.ok() ? written : c.old);
    if (tr.after != plain && (!syscall || c.after.find("..") == std::string::npos))
      EXPECT_EQ(e.value("stored", std::string("<absent>")), tr.after);
    else
      EXPECT_FALSE(e.contains("stored")) << e.dump();
  }
}

}  // namespace

TEST(Writes, CorpusAgreesWithTheKernelInBothResultModes) {
  const auto all = load_write_corpus(SS_SOURCE_DIR "/tests/corpus/kernel_writes.tsv");
  ASSERT_GE(all.size(), 40u);
  for (const bool syscall : {false, true}) {
    Tally tally;
    run_group(all, "ns", syscall, "unshare -n -u", tally);
    {
      SysctlGuard g("vm.hugetlb_optimize_vmemmap");
      run_group(all, "global", syscall, "", tally);
    }
    {
      // Writes at an offset parsed from their first byte (the tool reads the
      // mode when it judges: the guard outlives the tracer).
      SysctlGuard g("kernel.sysctl_writes_strict");
      g.set("0");
      run_group(all, "warn", syscall, "unshare -n -u", tally);
    }
    std::cout << "[ corpus ] " << (syscall ? "syscall" : "readback") << ": " << tally.cases
              << " cases, " << tally.agree << " agree with the kernel, " << tally.unknown
              << " unknown\n";
    EXPECT_EQ(tally.cases, all.size());
    EXPECT_EQ(tally.unknown, 0u);
  }
}
