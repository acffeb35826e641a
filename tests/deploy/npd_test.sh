#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The node-problem-detector plugin (deploy/kubernetes/node-problem-detector),
# offline: its config has the custom-plugin fields NPD reads, every rule runs
# the shipped script, and the script run against the real binary maps
# `check` to NPD's statuses: 0 OK, 1 NonOK (drift), 2 Unknown (bad policy).
# Usage: npd_test.sh SYSCTLSCOPE_BINARY
set -euo pipefail
here=$(dirname "$0")
dir=$here/../../deploy/kubernetes/node-problem-detector
bin=$1
python3 - "$dir/sysctlscope-plugin.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["plugin"] == "custom", "plugin must be custom"
assert set(c) <= {"plugin", "pluginConfig", "source", "metricsReporting", "conditions", "rules"}, set(c)
assert set(c["pluginConfig"]) <= {"invoke_interval", "timeout", "max_output_length", "concurrency",
                                  "enable_message_change_based_condition_update"}
types = {k["type"] for k in c["conditions"]}
for r in c["rules"]:
    assert r["type"] in ("temporary", "permanent"), r
    assert r["path"].endswith("/sysctlscope-check.sh"), r["path"]
    if r["type"] == "permanent":
        assert r["condition"] in types, r
print("plugin config ok")
PY
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ostype=$(cat /proc/sys/kernel/ostype)
run() { # expected status, policy text
  printf '%s\n' "$2" >"$tmp/p.conf"
  set +e
  msg=$(SYSCTLSCOPE_BIN=$bin SYSCTLSCOPE_POLICY=$tmp/p.conf "$dir/sysctlscope-check.sh")
  rc=$?
  set -e
  echo "status $rc: $msg"
  [[ $rc == "$1" ]] || { echo "expected status $1" >&2; exit 1; }
  [[ -n $msg ]] || { echo "no message" >&2; exit 1; }
}
run 0 "kernel.ostype = $ostype"
run 1 "kernel.ostype = Not$ostype"
run 2 "kernel.ostype"
# SYSCTLSCOPE_RULES: the packs' safe values too (check --rules).
rules() { # expected status, safe value of kernel.ostype
  printf '{"pack":"npd","rules":[{"id":"npd.ostype","severity":"low","description":"d","remediation":"r","sysctls":["kernel.ostype"],"safe":{"kernel.ostype":"%s"}}]}\n' "$2" >"$tmp/npd.json"
  printf 'kernel.ostype = %s\n' "$ostype" >"$tmp/p.conf"
  set +e
  msg=$(SYSCTLSCOPE_BIN=$bin SYSCTLSCOPE_POLICY=$tmp/p.conf SYSCTLSCOPE_RULES=$tmp/npd.json "$dir/sysctlscope-check.sh")
  rc=$?
  set -e
  echo "status $rc: $msg"
  [[ $rc == "$1" ]] || { echo "expected status $1" >&2; exit 1; }
  [[ $msg == *"checked against rules"* ]] || { echo "no rules summary" >&2; exit 1; }
}
rules 0 "$ostype"
rules 1 "Not$ostype"
