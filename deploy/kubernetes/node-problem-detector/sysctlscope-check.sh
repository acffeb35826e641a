#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# node-problem-detector custom plugin: the node's sysctls against its policy
# and, when SYSCTLSCOPE_RULES names packs (e.g. "hardening"), against the
# packs' safe values (`check --rules`, docs/rules.md).
# `sysctlscope check` exits 0 (every rule holds), 1 (drift) or 2 (bad policy
# or usage): exactly NPD's OK, NonOK and Unknown. NPD shows the first line of
# stdout as the condition's message: check's summary line.
bin=${SYSCTLSCOPE_BIN:-sysctlscope}
policy=${SYSCTLSCOPE_POLICY:-/etc/sysctl.d}
err=$(mktemp) || exit 2
trap 'rm -f "$err"' EXIT
rules=${SYSCTLSCOPE_RULES:-}
if [ -n "$rules" ]; then
  "$bin" check --policy "$policy" --rules "$rules" -o json >/dev/null 2>"$err"
else
  "$bin" check --policy "$policy" -o json >/dev/null 2>"$err"
fi
rc=$?
# One line: the policy's summary, then the rules' (or the error).
tr '\n' ';' <"$err" | sed 's/;$//; s/;/; /g'
echo
case $rc in
  0 | 1) exit "$rc" ;;
  *) exit 2 ;;
esac
