// SPDX-License-Identifier: Apache-2.0
// Every subcommand registers itself on the app; main() runs the chosen one.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "detect/rules.hpp"
#include "model/filter.hpp"
#include "output/output.hpp"
#include "policy/policy.hpp"

namespace sysctlscope::cli {

// The command selected on the command line; returns the exit status.
using Runner = std::function<int()>;

struct Registry {
  std::vector<std::pair<CLI::App*, Runner>> commands;
  // The global --btf FILE ("": the running kernel's BTF), read by runners.
  std::string btf_file;
  void add(CLI::App* sub, Runner r) { commands.emplace_back(sub, std::move(r)); }
};

// Options shared by trace, record and replay.
struct FilterOptions {
  std::vector<std::string> types;
  std::vector<std::string> sysctls;
  std::vector<std::string> comms;
  int64_t pid = -1;
  bool failed = false;
  std::vector<std::string> containers, pods, k8s_namespaces;
  bool host = false;
  // Turns the options into a validated Filter (throws UsageError).
  Filter build() const;
};
void add_filter_options(CLI::App* app, FilterOptions& o);

// --policy FILE|DIR... [--enforce [--dry-run]] for trace and record
// (user/cli/policy_commands.cpp). load() returns nullptr without --policy; throws
// UsageError (a bad policy line: "file:line: reason").
struct PolicyOptions {
  std::vector<std::string> paths;
  bool enforce = false, dry_run = false;
  std::unique_ptr<policy::Policy> load() const;
  uint32_t enforce_mode() const;  // enum ss_enforce_mode
};
void add_policy_options(CLI::App* app, PolicyOptions& o);
// session_start's "policy" member (docs/recording.md).
nlohmann::ordered_json policy_json(const policy::Policy& p, uint32_t enforce_mode);

// --rules PACK|FILE[,..] [--min-severity S] for trace and record
// (user/detect/cli.cpp). load() returns nullptr without --rules; throws
// UsageError (a bad pack: "file: reason").
struct RulesOptions {
  std::vector<std::string> packs;
  std::string min_severity = "info";
  std::unique_ptr<detect::Detector> load() const;
};
void add_rules_options(CLI::App* app, RulesOptions& o);

// What `-o` may say for a command: the words it accepts (its usage error
// lists them in this order) and the format when `-o` is absent, on a
// terminal and otherwise. The default is trace's: json or table; the table
// on a terminal, JSON otherwise.
struct FormatChoice {
  const char* what = "output";
  std::vector<std::string_view> words{"json", "table"};
  Format tty = Format::Text, other = Format::Json;
};
// The Output for `-o flag` on stdout; throws UsageError on a word the command does not accept.
std::unique_ptr<Output> open_output(const std::string& flag, const FormatChoice& choice = {});

// Set by SIGINT/SIGTERM; long-running commands poll it.
bool stop_requested();
void install_stop_handlers();

void register_trace(CLI::App& app, Registry& reg);
void register_netns(CLI::App& app, Registry& reg);  // netns list, diff, explain (user/cli/netns_commands.cpp)
void register_forensics(CLI::App& app, Registry& reg);  // record, report, replay (user/cli/forensics_commands.cpp)
void register_policy(CLI::App& app, Registry& reg);  // check (user/cli/policy_commands.cpp)
void register_rules(CLI::App& app, Registry& reg);   // rules (user/cli/rules_commands.cpp)

}  // namespace sysctlscope::cli
