// SPDX-License-Identifier: Apache-2.0
// The --rules options of trace and record (cli layer).
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "detect/rules.hpp"

namespace sysctlscope::cli {

namespace {
// "--rules: FILE: reason" (the hint says what is wrong; an open error has none).
UsageError pack_error(const Error& e) {
  return UsageError("--rules: " + e.object() + ": " + (e.hint().empty() ? e.what() : e.hint()));
}
}  // namespace

std::unique_ptr<detect::Detector> RulesOptions::load() const {
  auto min = detect::parse_severity(min_severity);
  if (!min)
    throw UsageError("--min-severity: \"" + min_severity +
                     "\" is not info, low, medium, high or critical");
  if (packs.empty()) {
    if (min_severity != "info") throw UsageError("--min-severity needs --rules");
    return nullptr;
  }
  auto p = detect::load_packs(packs);
  if (!p) throw pack_error(p.error());
  return std::make_unique<detect::Detector>(std::move(*p), *min);
}

void add_rules_options(CLI::App* app, RulesOptions& o) {
  std::string names;
  for (auto n : detect::builtin_pack_names()) names += (names.empty() ? "" : ", ") + std::string(n);
  app->add_option("--rules", o.packs,
                  "Detection rule packs: built in (" + names +
                      ") or a pack file, comma-separated or repeated (docs/rules.md)")
      ->allow_extra_args(false);
  app->add_option("--min-severity", o.min_severity,
                  "With --rules: only rules of this severity or worse (info, low, medium, high, "
                  "critical)");
}

void register_rules(CLI::App& app, Registry& reg) {
  struct Args {
    std::vector<std::string> packs;
    bool markdown = false;
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand("rules", "List the detection rules of packs (built in by default)");
  sub->add_option("--rules", a->packs, "Packs to list: built-in names or pack files (default: all built in)")
      ->allow_extra_args(false);
  sub->add_flag("--markdown", a->markdown, "docs/rules.md's table");
  reg.add(sub, [a]() {
    std::vector<std::string> specs = a->packs;
    if (specs.empty())
      for (auto n : detect::builtin_pack_names()) specs.emplace_back(n);
    auto p = detect::load_packs(specs);
    if (!p) throw pack_error(p.error());
    if (a->markdown) {
      std::fputs(detect::markdown_table(*p).c_str(), stdout);
      return 0;
    }
    for (const auto& pack : *p)
      for (const auto& r : pack.rules)
        std::printf("%-28s %-8s %-10s %s\n", r.id.c_str(),
                    std::string(detect::severity_name(r.severity)).c_str(),
                    r.technique.empty() ? "-" : r.technique.c_str(), r.description.c_str());
    return 0;
  });
}

}  // namespace sysctlscope::cli
