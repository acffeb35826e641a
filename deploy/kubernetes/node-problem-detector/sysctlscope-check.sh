#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# node-problem-detector custom plugin: the node's sysctls against its policy.
# `sysctlscope check` exits 0 (every rule holds), 1 (drift) or 2 (bad policy
# or usage): exactly NPD's OK, NonOK and Unknown. NPD shows the first line of
# stdout as the condition's message: check's summary line.
bin=${SYSCTLSCOPE_BIN:-sysctlscope}
policy=${SYSCTLSCOPE_POLICY:-/etc/sysctl.d}
err=$(mktemp) || exit 2
trap 'rm -f "$err"' EXIT
"$bin" check --policy "$policy" -o json >/dev/null 2>"$err"
rc=$?
tail -n 1 "$err"
case $rc in
  0 | 1) exit "$rc" ;;
  *) exit 2 ;;
esac
