#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The manifests under deploy/kubernetes pass validate_k8s.py, and the check
# is not vacuous: each mutation below (a typo'd field, a wrong type, a
# privileged container, a writable host mount, a missing probe) is rejected.
set -euo pipefail
here=$(dirname "$0")
manifest=$here/../../deploy/kubernetes/sysctlscope.yaml
check=$here/validate_k8s.py
"$check" "$manifest"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
mutate() { # description, sed expression
  sed "$2" "$manifest" >"$tmp/m.yaml"
  if out=$("$check" "$tmp/m.yaml"); then
    echo "not rejected: $1" >&2
    fails=$((fails + 1))
  else
    echo "rejected ($1): ${out%%$'\n'*}"
  fi
}
mutate "typo in a field" 's/hostPID: true/hostPid: true/'
mutate "wrong type" 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: thirty/'
mutate "privileged" 's/privileged: false/privileged: true/'
mutate "writable host mount" '0,/readOnly: true/s//readOnly: false/'
mutate "no liveness on /healthz" 's#path: /healthz#path: /metrics#'
mutate "extra capability" 's/"SYS_PTRACE"\]/"SYS_PTRACE", "NET_ADMIN"]/'
mutate "missing required field" '/^  selector:/,/^  updateStrategy:/{/updateStrategy/!d}'
((fails == 0))
