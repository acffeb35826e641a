#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Offline schema check of deploy/kubernetes/*.yaml, and the deployment rules.

kubectl cannot validate without an API server: even `apply --dry-run=client`
and `create --dry-run=client` fetch the discovery document and the OpenAPI
schema from one (`--local` modes only parse). So each object is checked
against the Kubernetes API types as generated in Debian's python3-kubernetes
(its models' attribute_map / openapi_types): every field must exist in its
type, with the right JSON type, recursively; then the client's own
deserializer builds the object, which enforces the required fields. Then the
DaemonSet is held to what docs/deploy.md promises (no privileged, the four
capabilities, read-only host mounts, /healthz liveness, ...).

Usage: validate_k8s.py FILE...  (exit 0: valid; 1: one line per problem)
"""
import json
import re
import sys

import yaml
import kubernetes.client as k8s
from kubernetes.client import ApiClient

KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
}
problems = []


def check(value, typ, path):
    """Structural check of decoded YAML against a generated model type name."""
    if value is None:
        return
    m = re.fullmatch(r"list\[(.*)\]", typ)
    if m:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, v in enumerate(value):
            check(v, m.group(1), f"{path}[{i}]")
        return
    m = re.fullmatch(r"dict\(str, (.*)\)", typ)
    if m:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map")
            return
        for k, v in value.items():
            check(v, m.group(1), f"{path}.{k}")
        return
    simple = {"str": str, "bool": bool, "int": int, "float": (int, float), "datetime": str}
    if typ in simple:
        ok = isinstance(value, simple[typ]) and not (typ == "int" and isinstance(value, bool))
        if not ok:
            problems.append(f"{path}: expected {typ}, got {type(value).__name__}")
        return
    if typ == "object":  # IntOrString, Quantity: a string or a number
        if not isinstance(value, (str, int, float)):
            problems.append(f"{path}: expected a string or number")
        return
    cls = getattr(k8s, typ)
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object ({typ})")
        return
    json_to_attr = {v: k for k, v in cls.attribute_map.items()}
    for k, v in value.items():
        if k not in json_to_attr:
            problems.append(f"{path}: unknown field '{k}' in {typ}")
            continue
        check(v, cls.openapi_types[json_to_attr[k]], f"{path}.{k}")


class _Resp:
    def __init__(self, obj):
        self.data = json.dumps(obj)


def main(files):
    docs = []
    for f in files:
        with open(f) as fh:
            docs += [(f, d) for d in yaml.safe_load_all(fh) if d]
    for f, d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        if key not in KINDS:
            problems.append(f"{f}: unsupported {key}")
            continue
        where = f"{f}:{d['kind']}/{d.get('metadata', {}).get('name')}"
        check(d, KINDS[key], where)
        try:  # required fields, enum-free value checks of the client
            ApiClient().deserialize(_Resp(d), KINDS[key])
        except (ValueError, TypeError) as e:
            problems.append(f"{where}: {e}")
    ds = [d for _, d in docs if d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        problems.append(f"expected exactly one DaemonSet, found {len(ds)}")
    else:
        rules(ds[0])
    for p in problems:
        print(p)
    return 1 if problems else 0


def rules(ds):
    def need(cond, what):
        if not cond:
            problems.append("DaemonSet: " + what)

    spec = ds["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    sc = c.get("securityContext", {})
    need(not sc.get("privileged", False), "must not be privileged")
    need(spec.get("hostPID") is True, "needs hostPID")
    need(not spec.get("hostNetwork", False), "needs no hostNetwork")
    need(not spec.get("hostIPC", False), "needs no hostIPC")
    caps = sc.get("capabilities", {})
    need(sorted(caps.get("add", [])) == ["BPF", "PERFMON", "SYS_ADMIN", "SYS_PTRACE"],
         "capabilities must be exactly BPF, PERFMON, SYS_ADMIN, SYS_PTRACE")
    need(caps.get("drop") == ["ALL"], "must drop every other capability")
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    host = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    for name, path in host.items():
        need(mounts.get(name, {}).get("readOnly") is True, f"host mount {path} must be read-only")
    want = {"/sys/fs/cgroup", "/sys/kernel/btf", "/run", "/var/lib/docker",
            "/var/lib/containers", "/var/lib/containerd"}
    need(set(host.values()) == want, f"host mounts must be {sorted(want)}")
    for name, path in host.items():
        need(mounts[name]["mountPath"] == path, f"{path} must be mounted at the same path")
    args = c.get("args", [])
    need(args[:3] == ["trace", "-o", "json"], "must print JSON lines (trace -o json)")
    need("--metrics-addr" in args, "must serve metrics")
    port = args[args.index("--metrics-addr") + 1].rsplit(":", 1)[1] if "--metrics-addr" in args else ""
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    need(str(ports.get("metrics")) == port, "port 'metrics' must be the --metrics-addr port")
    lp = c.get("livenessProbe", {}).get("httpGet", {})
    need(lp.get("path") == "/healthz" and lp.get("port") in ("metrics", ports.get("metrics")),
         "livenessProbe must GET /healthz on the metrics port")
    res = c.get("resources", {})
    for kind in ("requests", "limits"):
        need({"cpu", "memory"} <= set(res.get(kind, {})), f"resources.{kind} needs cpu and memory")
    need({"operator": "Exists"} in spec.get("tolerations", []), "must tolerate every taint")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
