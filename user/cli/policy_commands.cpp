// SPDX-License-Identifier: Apache-2.0
// `check` and the --policy options of trace and record (cli layer).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "model/sysctl_path.hpp"
#include "netns/nsexec.hpp"
#include "policy/audit.hpp"
#include "sysctlscope/event.h"

namespace sysctlscope::cli {

namespace {

constexpr const char* kPolicyHelp =
    "Expected values: sysctl.d files or directories (repeatable; docs/policy.md). "
    "A standard directory such as /etc/sysctl.d means all of systemd-sysctl's";

struct CheckArgs {
  std::vector<std::string> policy;
  RulesOptions rules;
  std::string output;
};

int run_check(const CheckArgs& a) {
  if (a.policy.empty() && a.rules.packs.empty())
    throw UsageError("check needs --policy, --rules or both");
  PolicyOptions po;
  po.paths = a.policy;
  auto pol = po.load();
  auto det = a.rules.load();
  auto sink = open_output(a.output);
  const uint64_t now = epoch_ns();
  bool found = false;
  if (pol) {
    size_t governed = 0, drift = 0;
    for (const auto& b : policy::bind_now(*pol)) {
      ++governed;
      if (b.satisfied()) continue;
      ++drift;
      sink->write(policy::drift_event(b, now));
    }
    std::fprintf(stderr, "%zu sysctl(s) checked, %zu drift\n", governed, drift);
    found |= drift > 0;
  }
  if (det) {
    // Host-global sysctls read the same from any namespace; a net.* one is
    // read in the caller's netns (the DaemonSet runs in the host's).
    auto r = det->audit(
        [](const std::string& name) -> std::optional<std::string> {
          auto v = netns::read_sysctl_value(name);
          if (v.err) return std::nullopt;
          return v.value;
        },
        now);
    struct stat st {};
    const NetnsInode own = ::stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
    for (auto& d : r.detections) {
      if (scope_of(d.as<Detection>().sysctl) == SysctlScope::Net) d.netns = own;
      sink->write(d);
    }
    std::fprintf(stderr, "%zu sysctl(s) checked against rules, %zu unsafe%s\n", r.checked,
                 r.detections.size(),
                 r.absent ? (", " + std::to_string(r.absent) + " absent on this kernel").c_str()
                          : "");
    found |= !r.detections.empty();
  }
  sink->flush();
  return found ? 1 : 0;
}

}  // namespace

std::unique_ptr<policy::Policy> PolicyOptions::load() const {
  if (paths.empty()) {
    if (enforce || dry_run) throw UsageError("--enforce and --dry-run need --policy");
    return nullptr;
  }
  if (dry_run && !enforce) throw UsageError("--dry-run goes with --enforce");
  auto p = std::make_unique<policy::Policy>(policy::Policy::load(paths));
  if (p->empty()) throw UsageError("--policy: no rules in " + paths.front());
  return p;
}

uint32_t PolicyOptions::enforce_mode() const {
  if (!enforce) return SS_ENFORCE_OFF;
  return dry_run ? SS_ENFORCE_DRY_RUN : SS_ENFORCE_DENY;
}

void add_policy_options(CLI::App* app, PolicyOptions& o) {
  app->add_option("--policy", o.paths, kPolicyHelp)->allow_extra_args(false);
  app->add_flag("--enforce", o.enforce,
                "Refuse writes that break a --policy rule (EPERM); off by default, lifted on exit");
  app->add_flag("--dry-run", o.dry_run,
                "With --enforce: mark the writes that would be refused (would_deny), refuse none");
}

nlohmann::ordered_json policy_json(const policy::Policy& p, uint32_t enforce_mode) {
  nlohmann::ordered_json j;
  j["enforce"] = enforce_mode == SS_ENFORCE_DENY      ? "deny"
                 : enforce_mode == SS_ENFORCE_DRY_RUN ? "dry_run"
                                                      : "off";
  auto files = nlohmann::ordered_json::array();
  for (const auto& [file, text] : p.sources()) files.push_back({{"file", file}, {"text", text}});
  j["files"] = std::move(files);
  return j;
}

void register_policy(CLI::App& app, Registry& reg) {
  auto a = std::make_shared<CheckArgs>();
  auto* sub = app.add_subcommand(
      "check",
      "Audit the host and every namespace in scope against a sysctl.d policy, and the host "
      "against the safe values of rule packs");
  sub->add_option("--policy", a->policy, kPolicyHelp)->allow_extra_args(false);
  add_rules_options(sub, a->rules);
  sub->add_option("-o,--output", a->output,
                  "json or table (default: table on a terminal, JSON lines otherwise)");
  sub->footer(R"(Exit status: 0 every rule holds, 1 drift found (one sysctl_drift event each) or a
sysctl outside a rule's safe values (one detection event each), 2 bad policy, pack or usage
(one line naming file:line).
Examples:
  sysctlscope check --policy /etc/sysctl.d         # the node against its own configuration
  sysctlscope check --policy k8s-node.conf -o json
  sysctlscope check --rules hardening             # kptr_restrict, ptrace_scope, ... now)");
  reg.add(sub, [a]() { return run_check(*a); });
}

}  // namespace sysctlscope::cli
