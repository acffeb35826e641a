# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2154  # $pid and $tmp belong to the sourcing script
# Sourced by the bench scripts that start a BPF program's owner (a tracer,
# or bpf_hold with the floor) in the background: the owner's pid is $pid,
# scratch files live in $tmp.

# Stops the owner and removes $tmp. Background jobs of a script ignore
# SIGINT: the floor loader stops on stdin EOF (fd 9), every tracer on SIGTERM.
bench_cleanup() {
  exec 9>&- 2>/dev/null || true
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}

# Waits until FILE shows PATTERN (the owner is attached); exits the script
# when the owner dies or SECONDS pass.
bench_wait_for() { # file pattern seconds
  local i me
  me=$(basename "$0")
  for ((i = 0; i < $3 * 20; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$me: tracer died: $(cat "$1")" >&2; exit 1; }
    sleep 0.05
  done
  echo "$me: tracer not ready after $3 s: $(cat "$1")" >&2
  exit 1
}
