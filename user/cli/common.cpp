// SPDX-License-Identifier: Apache-2.0
#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "output/escape.hpp"

namespace sysctlscope::cli {

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

bool stop_requested() { return g_stop != 0; }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout ends output via EPIPE instead
}

void add_filter_options(CLI::App* app, FilterOptions& o) {
  app->add_option("--type", o.types, "Event types, comma separated (" + public_type_names() + ")")
      ->delimiter(',');
  app->add_option("--sysctl", o.sysctls,
                  "Only sysctls matching this glob on dotted names, e.g. "
                  "'net.ipv4.tcp_*' (repeatable)");
  app->add_option("--pid", o.pid, "Only this process id");
  app->add_option("--comm", o.comms, "Only processes with this command name (repeatable)");
  app->add_flag("--failed", o.failed, "Only failed writes (result not ok) and blocked writes");
  app->add_option(
      "--container", o.containers,
      "Only events of this container (id prefix or name), as the actor or as the owner of the "
      "netns touched (repeatable)");
  app->add_option("--pod", o.pods,
                  "Only events of this Kubernetes pod (actor or netns owner; repeatable)");
  app->add_option(
      "--k8s-namespace", o.k8s_namespaces,
      "Only events of pods in this Kubernetes namespace (actor or netns owner; repeatable)");
  app->add_flag("--host", o.host,
                "Only events of host processes (not in a container); with --container/--pod: host "
                "processes acting in that container's netns");
}

Filter FilterOptions::build() const {
  Filter f;
  f.types = Filter::parse_types(types);
  for (const auto& g : sysctls) Filter::validate_glob(g);
  f.sysctl_globs = sysctls;
  if (pid != -1) {
    if (pid <= 0 || pid > 4194304)
      throw UsageError("--pid must be a process id, got " + std::to_string(pid));
    f.pid = static_cast<uint32_t>(pid);
  }
  f.comms = comms;
  f.failed_only = failed;
  for (const auto* list : {&containers, &pods, &k8s_namespaces})
    for (const auto& v : *list)
      if (v.empty())
        throw UsageError("--container, --pod and --k8s-namespace need a non-empty value");
  // --host with --container X is meaningful: host processes acting in X's netns.
  f.containers = containers;
  f.pods = pods;
  f.k8s_namespaces = k8s_namespaces;
  f.host_only = host;
  if (f.failed_only && !f.types.empty()) {
    bool any = false;
    std::string can_fail;
    for_each_event_type([&](auto t) {
      using T = typename decltype(t)::type;
      if (!T::kInfo.can_fail || !T::kInfo.is_public) return;
      can_fail += (can_fail.empty() ? "" : " and ") + std::string(T::kInfo.name);
      for (auto w : f.types) any |= w == kTypeOf<T>;
    });
    if (!any) throw UsageError("--failed keeps only " + can_fail + " events; --type excludes them");
  }
  return f;
}

std::unique_ptr<Output> open_output(const std::string& flag, const FormatChoice& choice) {
  if (flag.empty())
    return make_output(isatty(STDOUT_FILENO) ? choice.tty : choice.other, STDOUT_FILENO);
  for (auto w : choice.words)
    if (w == flag) return make_output(*format_named(w), STDOUT_FILENO);
  std::string use;
  for (size_t i = 0; i < choice.words.size(); ++i)
    use += std::string(i == 0 ? "" : i + 1 == choice.words.size() ? " or " : ", ") +
           std::string(choice.words[i]);
  throw UsageError("unknown " + std::string(choice.what) + " format '" + terminal_safe(flag) +
                   "' (use " + use + ")");
}

}  // namespace sysctlscope::cli
