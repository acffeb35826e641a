// SPDX-License-Identifier: Apache-2.0
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "sysctlscope_version.hpp"

using namespace sysctlscope;

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_logger_st("sysctlscope");
  logger->set_pattern("sysctlscope: %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"sysctlscope: observe every sysctl read and write, per container and network namespace"};
  app.set_version_flag("--version", std::string("sysctlscope ") + kVersion);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Debug logs, including libbpf's")->configurable(false);
  cli::Registry reg;
  app.add_option("--btf", reg.btf_file,
                 "The kernel's BTF from this file (kernels built without "
                 "CONFIG_DEBUG_INFO_BTF; e.g. from BTFHub) instead of /sys/kernel/btf/vmlinux")
      ->check(CLI::ExistingFile);
  app.fallthrough();
  cli::register_trace(app, reg);
  cli::register_netns(app, reg);
  cli::register_forensics(app, reg);
  cli::register_policy(app, reg);
  cli::register_rules(app, reg);

  // CLI11 would only say "A subcommand is required" for a misspelt command.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (auto& [sub, run] : reg.commands) {
      known |= sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "sysctlscope: error: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sysctlscope: error: %s (see --help)\n", e.what());
    return 2;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);

  try {
    for (auto& [sub, run] : reg.commands)
      if (sub->parsed()) return run();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "sysctlscope: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sysctlscope: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
