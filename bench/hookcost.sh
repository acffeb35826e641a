#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What one syscall tracepoint costs every other syscall (BENCHMARKS.md,
# "Why unrelated syscalls pay"). Runs loadgen's write-devnull and read-pread
# with nothing attached, then with one empty BPF program (bpftrace) on:
#   exit-acct   syscalls:sys_exit_acct   (a syscall nobody calls)
#   enter-acct  syscalls:sys_enter_acct  (same, on the entry side)
#   exit-write  syscalls:sys_exit_write  (the write-result hook's position)
# conditions interleaved, and prints the median CPU ns/op of loadgen's thread
# and the ratio to "none".
#
#   sudo ./bench/hookcost.sh [REPS]        (default 5; BUILD_DIR overrides ./build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
reps=${1:-5}
[[ $(id -u) -eq 0 ]] || { echo "hookcost.sh: needs root" >&2; exit 1; }
[[ -x $build/bench/loadgen ]] || { echo "hookcost.sh: $build/bench/loadgen missing: build first" >&2; exit 1; }
command -v bpftrace >/dev/null || { echo "hookcost.sh: bpftrace missing (./scripts/deps.sh)" >&2; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

declare -A probe=([exit-acct]=tracepoint:syscalls:sys_exit_acct [enter-acct]=tracepoint:syscalls:sys_enter_acct
                  [exit-write]=tracepoint:syscalls:sys_exit_write)
conds=(none exit-acct enter-acct exit-write)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

for ((r = 1; r <= reps; r++)); do
  for c in "${conds[@]}"; do
    if [[ $c != none ]]; then
      bpftrace -o "$tmp/out" -e "${probe[$c]} { }" > "$tmp/err" 2>&1 & pid=$!
      for ((i = 0; i < 600; i++)); do grep -q Attaching "$tmp/out" 2>/dev/null && break; sleep 0.05; done
      grep -q Attaching "$tmp/out" || { echo "hookcost.sh: bpftrace did not attach: $(cat "$tmp/err")" >&2; exit 1; }
    fi
    for w in write-devnull:500000 read-pread:200000; do
      v=$("$build/bench/loadgen" "${w%%:*}" "${w##*:}")
      echo "${w%%:*},$c,${v##* }" >> "$tmp/csv"  # last field: CPU ns/op of loadgen's thread
    done
    if [[ -n $pid ]]; then kill -INT "$pid"; wait "$pid" || true; pid=""; fi
  done
done
python3 - "$tmp/csv" <<'PY'
import csv, statistics, sys
d = {}
for w, c, v in csv.reader(open(sys.argv[1])):
    d.setdefault((w, c), []).append(float(v))
print("| workload | hook | median ns/op | ratio to none | spread |")
print("|---|---|---|---|---|")
for w in ("write-devnull", "read-pread"):
    base = statistics.median(d[(w, "none")])
    for c in ("none", "exit-acct", "enter-acct", "exit-write"):
        v = d[(w, c)]; m = statistics.median(v)
        print(f"| {w} | {c} | {m:.0f} | {m/base:.2f}x | ±{(max(v)-min(v))/m*100:.0f}% |")
PY
