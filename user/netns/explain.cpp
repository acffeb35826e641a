// SPDX-License-Identifier: Apache-2.0
#include "netns/explain.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "core/error.hpp"
#include "model/event.hpp"
#include "model/sysctl_path.hpp"
#include "netns/classify.hpp"
#include "netns/diff.hpp"
#include "netns/nsexec.hpp"
#include "netns/verdict.hpp"
#include "output/escape.hpp"

namespace sysctlscope::netns {

using Json = nlohmann::ordered_json;

namespace {

std::string path_of(const std::string& dotted) { return "/proc/sys/" + dotted_to_slash(dotted); }

std::optional<std::string> read_host(const std::string& dotted, int* err) {
  SysctlValue v = read_sysctl_value(dotted);
  *err = v.err;
  if (v.err) return std::nullopt;
  return v.value;
}

bool is_int(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return s.size() < 19;
}

int clone_flag(SysctlScope k) {
  switch (k) {
    case SysctlScope::Net:
      return CLONE_NEWNET;
    case SysctlScope::Ipc:
      return CLONE_NEWIPC;
    case SysctlScope::Uts:
      return CLONE_NEWUTS;
    case SysctlScope::User:
      return CLONE_NEWUSER;
    case SysctlScope::Global:
      return 0;
  }
  return 0;
}

std::string q(const std::string& v) { return "'" + v + "'"; }

struct Confirmation {
  SysctlScope ns = SysctlScope::Global;
  std::optional<bool> confirmed;  // nullopt: no experiment possible
  std::string evidence;
  std::optional<std::string> fresh;  // the value in a new namespace of that type
};

// Checks on this kernel that `candidate` really holds the sysctl: a new
// namespace of that type shows its own value, or a write there does not reach
// the host. Writes happen only inside the throwaway namespace; the host value
// is compared before and after and put back should it ever have moved.
Confirmation confirm(SysctlScope candidate, const std::string& name,
                     const std::optional<std::string>& host) {
  Confirmation c;
  c.ns = candidate;
  if (candidate == SysctlScope::Global) {
    c.evidence =
        "no namespace holds it: one value for the whole host (not probed: a probe would change the "
        "host)";
    return c;
  }
  std::string nsname(name_of(candidate));
  auto fresh = value_in_new_ns(clone_flag(candidate), name);
  if (!fresh) {
    c.evidence = "could not probe a new " + nsname + " namespace: " + fresh.error().what();
    return c;
  }
  if (!fresh->exists) {
    c.ns = SysctlScope::Global;
    c.confirmed = true;
    c.evidence = "absent from a new " + nsname + " namespace: only the host has it on this kernel";
    return c;
  }
  if (fresh->value.err) {
    // Exists there (that is what makes it per-namespace) but has no readable value.
    c.confirmed = true;
    c.evidence = "present in a new " + nsname +
                 " namespace (unreadable there too: " + errno_name(fresh->value.err) + ")";
    return c;
  }
  c.fresh = fresh->value.value;
  if (candidate == SysctlScope::Net) {
    c.confirmed = true;
    c.evidence = "present in a fresh network namespace with its own value " + q(*c.fresh) +
                 (host ? " (host " + q(*host) + ")" : "");
    return c;
  }
  if (host && *c.fresh != *host) {
    c.confirmed = true;
    c.evidence = "a new " + nsname + " namespace shows " + q(*c.fresh) + ", the host " + q(*host);
    return c;
  }
  // Equal values: write a different one inside a throwaway namespace.
  std::optional<std::string> probe;
  if (candidate == SysctlScope::Uts)
    probe = "sysctlscope-probe";
  else if (host) {
    // Integers, or tab-separated integers (kernel.sem): move the first one a
    // step towards/over 0 so a -1 sentinel or a minimum stays in range.
    auto tab = host->find('\t');
    std::string first = host->substr(0, tab),
                rest = tab == std::string::npos ? "" : host->substr(tab);
    bool ints = is_int(first);
    for (size_t i = 0, j; ints && i < rest.size(); i = j) {
      j = rest.find('\t', i + 1);
      ints = is_int(rest.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1));
    }
    if (ints) {
      long long v = std::stoll(first);
      probe = std::to_string(v <= 0 ? v + 1 : v - 1) + rest;
    }
  }
  if (!probe || !host) {
    c.evidence = "a new " + nsname + " namespace shows the host's value; not probed further";
    return c;
  }
  auto wrote = value_in_new_ns(clone_flag(candidate), name, probe);
  int err = 0;
  auto after = read_host(name, &err);
  if (after != host) {
    std::ofstream(path_of(name)) << *host;  // put the host back at once
    c.confirmed = false;
    c.evidence =
        "a write in a new " + nsname + " namespace reached the host (restored): not namespaced";
    return c;
  }
  if (wrote && wrote->exists && !wrote->value.err && wrote->value.value == *probe) {
    c.confirmed = true;
    c.evidence =
        "writing " + q(*probe) + " in a new " + nsname + " namespace left the host at " + q(*host);
  } else {
    c.evidence = "a new " + nsname +
                 " namespace shows the host's value; a probe write there failed" +
                 (wrote ? std::string() : std::string(": ") + wrote.error().what());
  }
  return c;
}

}  // namespace

std::string unknown_name_message(const std::string& dotted, const std::vector<std::string>& all) {
  std::string msg = "unknown sysctl '" + terminal_safe(dotted) + "'";
  auto close = closest_names(dotted, all, 3);
  if (!close.empty()) {
    msg += " (closest: ";
    for (size_t i = 0; i < close.size(); ++i) msg += (i ? ", " : "") + close[i];
    msg += ")";
  }
  return msg;
}

Json explain_sysctl(const std::string& raw) {
  std::string name = normalize_sysctl_name(raw);
  if (name.empty()) throw UsageError("empty sysctl name");
  std::string path = path_of(name);
  if (!valid_sysctl_name(name))
    throw UsageError("invalid sysctl name '" + terminal_safe(raw) + "'");
  if (::access(path.c_str(), F_OK) != 0 ||
      ::access((path + "/.").c_str(), F_OK) == 0)  // a directory is not a sysctl
    throw UsageError(unknown_name_message(name, list_sysctl_names("/proc/sys")));

  int herr = 0;
  auto host = read_host(name, &herr);
  RuncRule runc = runc_rule(name);
  K8sRule k8s = k8s_rule(name);
  SysctlScope candidate = runc.ns != SysctlScope::Global ? runc.ns : k8s.ns;
  Confirmation conf = confirm(candidate, name, host);
  SysctlScope ns = conf.ns;

  Json j;
  j["sysctl"] = name;
  j["path"] = path;
  j["namespace"] = std::string(name_of(ns));
  j["confirmed"] = conf.confirmed ? Json(*conf.confirmed) : Json(nullptr);
  j["evidence"] = conf.evidence;
  j["host_value"] = host ? Json(*host) : Json(nullptr);
  if (!host) j["host_error"] = errno_name(herr);

  Json nn = nullptr;
  if (ns == SysctlScope::Net) {
    KernelContext k = read_kernel_context();
    BirthRule r = birth_rule(name, host, conf.fresh, k);
    nn = Json{{"verdict", std::string(to_string(r.birth))},
              {"host", host ? Json(*host) : Json(nullptr)},
              {"fresh", conf.fresh ? Json(*conf.fresh) : Json(nullptr)},
              {"evidence", r.evidence}};
  }
  j["new_netns"] = nn;

  j["runc"] = Json{{"allowed", runc.allowed && ns != SysctlScope::Global}, {"rule", runc.reason}};
  if (runc.allowed && ns == SysctlScope::Global && runc.ns == SysctlScope::Net)
    j["runc"]["rule"] =
        runc.reason + "; but this kernel has it only in the host netns, so the write fails";
  Json kube;
  kube["namespace"] = k8s.ns == SysctlScope::Global ? Json(nullptr) : Json(std::string(name_of(k8s.ns)));
  kube["safe"] = k8s.safe_since.has_value();
  kube["safe_since"] = k8s.safe_since ? Json(*k8s.safe_since) : Json(nullptr);
  kube["safe_kernel"] = k8s.safe_kernel ? Json(*k8s.safe_kernel) : Json(nullptr);
  j["kubernetes"] = kube;

  // How to set it per container.
  std::vector<std::string> how;
  bool per_container = ns != SysctlScope::Global;
  const std::string nv = name + "=VALUE";
  std::string k8s_line;
  if (k8s.ns != SysctlScope::Global && ns != SysctlScope::Global) {
    k8s_line =
        "Kubernetes: pod spec.securityContext.sysctls: [{name: " + name + ", value: \"VALUE\"}]";
    if (k8s.safe_since)
      k8s_line += " (safe since Kubernetes " + *k8s.safe_since +
                  (k8s.safe_kernel ? " on kernel " + *k8s.safe_kernel + " or newer" : "") +
                  ": allowed by default)";
    else
      k8s_line += " (unsafe: the node's kubelet needs --allowed-unsafe-sysctls=" + name +
                  " and the pod's namespace must permit it)";
  }
  switch (ns) {
    case SysctlScope::Net:
      how.push_back("docker run --sysctl " + nv +
                    " (the container needs its own netns: not with --network=host)");
      how.push_back(k8s_line + "; not with hostNetwork: true");
      how.push_back("OCI/runc: config.json linux.sysctl {\"" + name + "\": \"VALUE\"}");
      how.push_back("running container, as root on the host: nsenter -t PID -n sysctl -w " + nv +
                    " (/proc/sys is read-only inside the container)");
      break;
    case SysctlScope::Ipc:
      if (runc.allowed) {
        how.push_back("docker run --sysctl " + nv + " (not with --ipc=host)");
        if (!k8s_line.empty()) how.push_back(k8s_line + "; not with hostIPC: true");
        how.push_back("OCI/runc: config.json linux.sysctl {\"" + name + "\": \"VALUE\"}");
      } else {
        how.push_back("runc and Docker reject " + name +
                      " as a sysctl even though the kernel keeps it per IPC namespace");
        if (!k8s_line.empty()) how.push_back(k8s_line + " (the runtime will still reject it)");
      }
      break;
    case SysctlScope::Uts:
      if (name == "kernel.hostname") {
        how.push_back(
            "not as a sysctl (runc rejects it): docker run --hostname NAME, Kubernetes pod "
            "spec.hostname, "
            "OCI config.json \"hostname\"");
      } else {
        how.push_back("docker run --domainname VALUE; OCI/runc: config.json linux.sysctl {\"" +
                      name + "\": \"VALUE\"} (needs a UTS namespace)");
        how.push_back("Kubernetes: not accepted as a sysctl (not in its namespaced set)");
      }
      break;
    case SysctlScope::User:
      how.push_back("OCI/runc: config.json linux.sysctl {\"" + name +
                    "\": \"VALUE\"} with a user namespace");
      how.push_back("Docker and Kubernetes do not accept it as a sysctl");
      break;
    case SysctlScope::Global:
      how.push_back(
          "cannot be set per container: it is host-global, every container sees the host's value; "
          "set it "
          "on the host (sysctl -w " +
          nv + ", persisted in /etc/sysctl.d/), which affects all containers");
      how.push_back("runc, Docker and Kubernetes reject it in a container spec");
      break;
  }
  j["per_container"] = per_container;
  j["how_to_set"] = how;
  return j;
}

std::string explanation_text(const Json& j) {
  // Values are whatever the kernel holds (hostname, core_pattern, ...): terminal-safe, tabs as
  // spaces.
  auto s = [](const Json& v) {
    if (v.is_null()) return std::string("-");
    std::string t = v.is_string() ? v.get<std::string>() : v.dump();
    std::replace(t.begin(), t.end(), '\t', ' ');
    return terminal_safe(t);
  };
  std::string out;
  auto line = [&](const std::string& k, const std::string& v) {
    out += "  " + k;
    out.append(k.size() < 16 ? 16 - k.size() : 1, ' ');
    out += v + "\n";
  };
  out += s(j["sysctl"]) + "\n";
  std::string ns = s(j["namespace"]);
  line("namespace:",
       ns == "none" ? "none (host-global)" : ns + " (one value per " + ns + " namespace)");
  line("on this kernel:", (j["confirmed"].is_null()     ? std::string("not confirmed: ")
                           : j["confirmed"].get<bool>() ? std::string("confirmed: ")
                                                        : std::string("CONTRADICTED: ")) +
                              s(j["evidence"]));
  line("host value:", j["host_value"].is_null()
                          ? "unreadable (" + s(j.value("host_error", Json("?"))) + ")"
                          : s(j["host_value"]));
  if (!j["new_netns"].is_null())
    line("new netns gets:", s(j["new_netns"]["verdict"]) + ": " + s(j["new_netns"]["evidence"]));
  line("runc:", s(j["runc"]["rule"]));
  const auto& k = j["kubernetes"];
  std::string kt = k["namespace"].is_null()
                       ? "not a namespaced sysctl (rejected)"
                       : s(k["namespace"]) + "-namespaced, " +
                             (k["safe"].get<bool>()
                                  ? "safe since Kubernetes " + s(k["safe_since"]) +
                                        (k["safe_kernel"].is_null()
                                             ? std::string()
                                             : ", needs kernel " + s(k["safe_kernel"]) + "+")
                                  : std::string("unsafe"));
  line("kubernetes:", kt);
  bool first = true;
  for (const auto& h : j["how_to_set"]) {
    line(first ? "how to set:" : "", s(h));
    first = false;
  }
  return out;
}

}  // namespace sysctlscope::netns
