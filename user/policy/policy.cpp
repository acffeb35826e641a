// SPDX-License-Identifier: Apache-2.0
#include "policy/policy.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "model/sysctl_path.hpp"

namespace sysctlscope::policy {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kBlank = " \t\r\n\f\v";
constexpr std::string_view kScopeTag = "sysctlscope:";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(kBlank);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kBlank) - b + 1);
}

[[noreturn]] void fail(const std::string& file, unsigned line, const std::string& what) {
  throw PolicyError(file + ":" + std::to_string(line) + ": " + what);
}

bool glob_match(const std::string& pattern, std::string_view s) {
  return ::fnmatch(pattern.c_str(), std::string(s).c_str(), 0) == 0;
}

// "# sysctlscope: scope=containers,pod=web-*" -> the scope of what follows.
Scope parse_scope(std::string_view spec, const std::string& file, unsigned line) {
  Scope sc;
  sc.text = std::string(trim(spec));
  sc.host = false;
  bool any = false;
  std::string_view rest = sc.text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      fail(file, line, "scope item without '=': '" + std::string(item) + "'");
    const std::string_view k = trim(item.substr(0, eq));
    const std::string v(trim(item.substr(eq + 1)));
    if (v.empty()) fail(file, line, "empty value for scope key '" + std::string(k) + "'");
    any = true;
    if (k == "scope") {
      if (v == "host")
        sc.host = true;
      else if (v == "all")
        sc.host = sc.any_netns = true;
      else if (v == "netns")
        sc.any_netns = true;
      else if (v == "containers")
        sc.containers = true;
      else
        fail(file, line, "unknown scope '" + v + "' (host, all, netns, containers)");
    } else if (k == "container") {
      sc.name = v, sc.containers = true;
    } else if (k == "pod") {
      sc.pod = v, sc.containers = true;
    } else if (k == "namespace") {
      sc.k8s_namespace = v, sc.containers = true;
    } else {
      fail(file, line,
           "unknown scope key '" + std::string(k) + "' (scope, container, pod, namespace)");
    }
  }
  if (!any) fail(file, line, "empty sysctlscope scope");
  return sc;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PolicyError(path + ": cannot read policy file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw PolicyError(path + ": cannot read policy file");
  return ss.str();
}

}  // namespace

bool Scope::covers_netns(const std::optional<ContainerInfo>& owner) const {
  if (any_netns) return true;
  if (!containers || !owner) return false;
  auto ok = [](const std::string& g, const std::string& v) {
    return g.empty() || glob_match(g, v);
  };
  // A container is matched by its name or its id.
  const bool name_ok = name.empty() || glob_match(name, owner->name) || glob_match(name, owner->id);
  return name_ok && ok(pod, owner->pod) && ok(k8s_namespace, owner->k8s_namespace);
}

std::string systemd_sysctl_name(std::string_view name) {
  // systemd's sysctl_normalize() (src/shared/sysctl-util.c, cases in
  // src/test/test-sysctl-util.c): the first separator decides the style, a
  // leading '/' included; in dotted style '.' and '/' swap. The path is then
  // simplified: empty and "." components go, a leading '/' goes. ".." stays,
  // so valid_sysctl_name() refuses it (systemd would write through
  // /proc/sys/a/../b: docs/policy.md, deviations).
  std::string path(name);
  if (const auto sep = path.find_first_of("/."); sep != std::string::npos && path[sep] == '.')
    for (char& c : path) c = c == '.' ? '/' : c == '/' ? '.' : c;
  std::string dotted;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    if (!comp.empty() && comp != ".") {
      for (char& c : comp) c = c == '.' ? '/' : c;  // dotted form: '/' is a '.' in a component
      if (!dotted.empty()) dotted += '.';
      dotted += comp;
    }
    i = j + 1;
  }
  return dotted;
}

namespace {
// A dotted name in /proc/sys path form: the separators swap ('.' <-> '/'),
// as systemd-sysctl's sysctl_normalize() does for dotted names.
std::string slash_form(std::string_view dotted) {
  std::string out(dotted);
  for (char& c : out) c = c == '.' ? '/' : c == '/' ? '.' : c;
  return out;
}
}  // namespace

bool Rule::matches_name(std::string_view dotted) const {
  if (!glob) return pattern == dotted;
  // systemd-sysctl expands a glob with glob(3) under /proc/sys: a wildcard
  // matches within one path component and not a leading '.'
  // (src/sysctl/sysctl.c apply_glob_option, glob_extend(..., GLOB_NOCHECK)).
  return ::fnmatch(slash_form(pattern).c_str(), slash_form(dotted).c_str(),
                   FNM_PATHNAME | FNM_PERIOD) == 0;
}

Place place_of(const Event& e, NetnsInode host_netns, std::optional<uint32_t> writer_ns) {
  const SysctlScope s = scope_of(e.sysctl());
  if (s == SysctlScope::Net)
    return e.netns == 0 || e.netns == host_netns ? Place::Host : Place::Netns;
  if (s != SysctlScope::Ipc && s != SysctlScope::Uts) return Place::Host;
  const uint32_t host_ns = s == SysctlScope::Ipc ? kHostIpcInode : kHostUtsInode;
  if (writer_ns) return *writer_ns == host_ns ? Place::Host : Place::Private;
  // --enforce keys these by the writer's own IPC/UTS namespace: a verdict
  // means the kernel found the host's entry there.
  if (const auto* w = e.get_if<SysctlWrite>(); w && (w->denied || w->would_deny))
    return Place::Host;
  return e.container ? Place::Private : Place::Host;
}

bool value_satisfies(const Rule& r, std::string_view value) {
  return normalize_value(value) == r.norm;
}

Expected<Policy> Policy::parse(const std::vector<std::pair<std::string, std::string>>& files) {
  Policy p;
  try {
    for (const auto& [file, text] : files) p.add_text(text, file);
  } catch (const PolicyError& e) {
    return Error(e.what(), "");
  }
  return p;
}

void Policy::add_text(std::string_view text, const std::string& file) {
  sources_.emplace_back(file, std::string(text));
  Scope scope;  // plain sysctl.d files: the host, as systemd-sysctl applies them
  unsigned lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    std::string_view raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    std::string_view l = trim(raw);
    if (l.empty()) continue;
    if (l.front() == '#' || l.front() == ';') {
      std::string_view c = trim(l.substr(1));
      if (c.substr(0, kScopeTag.size()) == kScopeTag) {
        std::string_view spec = trim(c.substr(kScopeTag.size()));
        if (spec.substr(0, 6) != "scope=" && spec.find('=') == std::string_view::npos)
          fail(file, lineno, "bad sysctlscope comment (expected '# sysctlscope: scope=...')");
        scope = parse_scope(spec, file, lineno);
      }
      continue;
    }
    Rule r;
    r.file = file;
    r.line = lineno;
    r.scope = scope;
    const auto eq = l.find('=');
    std::string_view name = trim(l.substr(0, eq));
    if (!name.empty() && name.front() == '-') {
      r.ignore_missing = true;
      name = trim(name.substr(1));
    }
    if (eq == std::string_view::npos) {
      // "-key": excluded from globs (sysctl.d(5)); a bare "key" is not an assignment.
      if (!r.ignore_missing)
        fail(file, lineno, "not an assignment (name = value): '" + std::string(l) + "'");
      r.exclude = true;
    }
    if (name.empty()) fail(file, lineno, "empty sysctl name");
    if (name.find_first_of(kBlank) != std::string_view::npos)
      fail(file, lineno, "blank inside sysctl name '" + std::string(name) + "'");
    r.pattern = systemd_sysctl_name(name);
    if (!valid_sysctl_name(r.pattern))
      fail(file, lineno, "bad sysctl name '" + std::string(name) + "'");
    r.glob = r.pattern.find_first_of("*?[") != std::string::npos;
    if (r.exclude && r.glob)
      fail(file, lineno, "an exclusion ('-name' without '=') cannot be a glob");
    if (!r.exclude) {
      r.expected = std::string(trim(l.substr(eq + 1)));
      r.norm = normalize_value(r.expected);
    }
    rules_.push_back(std::move(r));
  }
}

Policy Policy::load(const std::vector<std::string>& paths) {
  // systemd-sysctl: every *.conf of every directory, sorted by file name
  // regardless of directory; a name in an earlier directory masks the same
  // name in later ones. Files named directly come after, in command-line order.
  std::map<std::string, std::string> by_name;  // file name -> path
  std::vector<std::string> dirs, files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      fs::path norm = fs::path(p).lexically_normal();
      if (!norm.has_filename() && norm.has_parent_path()) norm = norm.parent_path();  // "dir/"
      const bool system =
          std::find(kSystemDirs.begin(), kSystemDirs.end(), norm.string()) != kSystemDirs.end();
      // One standard directory means "this node's own configuration": all of them.
      for (const auto& d : system ? kSystemDirs : std::vector<std::string>{p})
        if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      throw PolicyError(p + ": no such policy file or directory");
    }
  }
  std::set<std::string> seen_dirs;
  for (const auto& d : dirs) {
    std::error_code ec;
    auto canon = fs::canonical(d, ec);
    if (ec) continue;  // a standard directory this host does not have
    if (!seen_dirs.insert(canon.string()).second) continue;  // /lib -> /usr/lib
    for (const auto& ent : fs::directory_iterator(d, ec)) {
      const std::string fname = ent.path().filename().string();
      // conf_files_list(): "*.conf", hidden files (a leading '.') skipped.
      if (ent.path().extension() != ".conf" || fname.front() == '.') continue;
      by_name.try_emplace(fname, ent.path().string());
    }
    if (ec) throw PolicyError(d + ": cannot list policy directory: " + ec.message());
  }
  Policy pol;
  for (const auto& [name, path] : by_name) pol.add_text(read_file(path), path);
  for (const auto& f : files) pol.add_text(read_file(f), f);
  return pol;
}

const Rule* Policy::rule_for(std::string_view dotted, bool host_netns,
                             const std::optional<ContainerInfo>& owner) const {
  // systemd-sysctl keeps one entry per name in file order
  // (src/sysctl/sysctl.c parse_file): a reassignment with another value (a
  // bare "-name" included) replaces the entry and moves it to the end, the
  // same value keeps its place. An explicit entry for the name decides (a
  // bare "-name" one: nothing expected); otherwise every glob matching it is
  // applied in entry order, so the last one placed wins.
  const Rule* explicit_entry = nullptr;
  struct GlobEntry {
    const Rule* rule;
    size_t place;
  };
  std::vector<GlobEntry> globs;  // entries of glob names, in scope (few)
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (!(host_netns ? r.scope.host : r.scope.covers_netns(owner))) continue;
    if (!r.glob) {
      if (r.pattern == dotted && !(explicit_entry && explicit_entry->exclude == r.exclude &&
                                   explicit_entry->expected == r.expected))
        explicit_entry = &r;
      continue;
    }
    auto it = std::find_if(globs.begin(), globs.end(),
                           [&](const GlobEntry& g) { return g.rule->pattern == r.pattern; });
    if (it == globs.end())
      globs.push_back({&r, i});
    else if (it->rule->expected != r.expected)
      *it = {&r, i};
  }
  if (explicit_entry) return explicit_entry->exclude ? nullptr : explicit_entry;
  const GlobEntry* best = nullptr;
  for (const auto& g : globs)
    if (g.rule->matches_name(dotted) && (!best || g.place > best->place)) best = &g;
  return best ? best->rule : nullptr;
}

}  // namespace sysctlscope::policy
