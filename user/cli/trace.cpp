// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/live.hpp"
#include "core/error.hpp"

namespace sysctlscope::cli {

void register_trace(CLI::App& app, Registry& reg) {
  auto args = std::make_shared<LiveArgs>();
  auto* sub = app.add_subcommand("trace", "Stream sysctl activity live");
  sub->footer(R"(Examples:
  sysctlscope trace                               # everything, table on a terminal
  sysctlscope trace -o json --type sysctl_write   # writes only, JSON lines
  sysctlscope trace --sysctl 'net.ipv4.tcp_*'     # TCP sysctls in every namespace
  sysctlscope trace --failed                      # writes that did not take effect
  sysctlscope trace --comm runc:[2:INIT] --count 10
  sysctlscope trace --duration 30 -o json > sysctl.jsonl
  sysctlscope trace --policy /etc/sysctl.d        # sysctl_drift when a write breaks the node's config
  sysctlscope trace --policy base.conf --enforce  # and refuse such writes (EPERM)
  sysctlscope trace --rules escape,hardening      # detection events (docs/rules.md))");
  args->add_to(sub);
  reg.add(sub, [args, &reg]() {
    auto built = args->build(reg.btf_file);
    auto sink = open_output(args->output);
    install_stop_handlers();
    session::Session live(std::move(built.opt), *sink);
    PipelineStats st = live.run(stop_requested);
    std::fprintf(stderr, "%llu events, %llu lost\n", static_cast<unsigned long long>(st.emitted),
                 static_cast<unsigned long long>(st.lost));
    return 0;
  });
}

}  // namespace sysctlscope::cli
