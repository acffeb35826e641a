// SPDX-License-Identifier: Apache-2.0
// Expected sysctl values from sysctl.d files (docs/policy.md): parsing with
// systemd-sysctl's rules, the scope extension for container namespaces, and
// the question "which rule governs this sysctl here, and is it satisfied?".
// Pure: reads the policy files it is given and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "model/event.hpp"

namespace sysctlscope::policy {

// The kernel's fixed inodes of the initial IPC and UTS namespaces
// (PROC_IPC_INIT_INO, PROC_UTS_INIT_INO in include/linux/proc_ns.h); netns
// inodes are allocated from 0xF0000000 up, so they never collide.
inline constexpr uint32_t kHostIpcInode = 0xEFFFFFFFu;
inline constexpr uint32_t kHostUtsInode = 0xEFFFFFFEu;

// Where the sysctl an event's task read or wrote lives, for the policy
// (docs/policy.md, Scopes): the host's copy (init_net's for net.*, the
// initial IPC/UTS namespace's for those, every global sysctl), another
// netns's (net.*: its scopes decide), or a private IPC/UTS namespace's (no
// rule governs it). `writer_ns`: the inode of the task's IPC or UTS
// namespace when known; without it a task in a container is taken to be in
// the container's own (runtimes give each container its own IPC and UTS
// namespaces unless told --ipc=host/--uts=host) and any other task in the
// host's. Pure: the report (and the reader fuzzer) judge with it.
enum class Place { Host, Netns, Private };
Place place_of(const Event& e, NetnsInode host_netns,
               std::optional<uint32_t> writer_ns = std::nullopt);

// Where a rule applies (`# sysctlscope: scope=...`, docs/policy.md).
struct Scope {
  bool host = true;         // the host (init_net, and every global sysctl)
  bool any_netns = false;   // every other network namespace
  bool containers = false;  // namespaces owned by a container
  // Containers matched by these globs (all given ones must match; an empty
  // glob is not a condition). Any set: containers = true.
  std::string name, pod, k8s_namespace;
  std::string text = "host";  // as written, for messages
  // Applies to a netns that is not the host's, owned by `owner` (nullopt: no container).
  bool covers_netns(const std::optional<ContainerInfo>& owner) const;
};

struct Rule {
  std::string pattern;          // dotted; may hold fnmatch globs
  std::string expected;         // as written (trimmed)
  std::string norm;             // normalize_value(expected): what values are compared with
  bool ignore_missing = false;  // "-name": no finding when the sysctl does not exist
  bool glob = false;
  bool exclude = false;  // "-name" without "=": no glob sets it (systemd-sysctl)
  Scope scope;
  std::string file;
  unsigned line = 0;
  std::string where() const { return file + ":" + std::to_string(line); }
  bool matches_name(std::string_view dotted) const;
};

// A policy file that does not parse: the message starts with "file:line: ".
class PolicyError : public UsageError {
 public:
  using UsageError::UsageError;
};

class Policy {
 public:
  // One file's text. Throws PolicyError on the first bad line.
  void add_text(std::string_view text, const std::string& file);
  // --policy values: files, directories (their *.conf), in systemd-sysctl's
  // order (docs/policy.md). Throws PolicyError (unreadable, bad line).
  static Policy load(const std::vector<std::string>& paths);
  // Files' texts (file, text), as a recording holds them, for readers in
  // other layers: a bad line is an Error with PolicyError's message.
  static Expected<Policy> parse(const std::vector<std::pair<std::string, std::string>>& files);

  const std::vector<Rule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }
  // The rule that decides `dotted` in a place (host, or a netns owned by
  // `owner`): the last explicit assignment in scope, else the last glob in
  // scope (systemd-sysctl: explicit settings win over globs). nullptr: none.
  const Rule* rule_for(std::string_view dotted, bool host_netns,
                       const std::optional<ContainerInfo>& owner) const;
  // Every source file, in the order read (recordings carry the policy).
  const std::vector<std::pair<std::string, std::string>>& sources() const { return sources_; }

 private:
  std::vector<Rule> rules_;
  std::vector<std::pair<std::string, std::string>> sources_;  // file -> text
};

// A sysctl.d name as systemd-sysctl normalises it, in our dotted form
// ('/' standing for a '.' inside a component).
std::string systemd_sysctl_name(std::string_view name);

// Values compare the way the kernel prints them: blank runs are one separator.
bool value_satisfies(const Rule& r, std::string_view value);

// systemd-sysctl's directories, in precedence order (sysctl.d(5)).
inline const std::vector<std::string> kSystemDirs = {"/etc/sysctl.d", "/run/sysctl.d",
                                                     "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
                                                     "/lib/sysctl.d"};

}  // namespace sysctlscope::policy
