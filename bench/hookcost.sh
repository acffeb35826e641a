#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a syscall-exit hook costs the syscalls it was not put there for
# (BENCHMARKS.md, "Unrelated syscalls"). Conditions, interleaved:
#   none         nothing attached
#   slowpath     an empty program on sys_exit_acct (a syscall nobody calls):
#                the syscall slow path alone, which every enabled syscall
#                tracepoint puts every task on
#   dispatch     one tp_btf/sys_exit program that filters on the syscall number
#   per-syscall  classic tracepoints on sys_exit_open/openat that return at
#                once on success (sysctlscope's shape)
#   sysctlscope  `sysctlscope trace -o json > /dev/null`, the default tracer
# The load generator is pinned to the last CPU and the hooks' owners to CPU 0,
# so preemption by the tracer's consumer does not enter the numbers. Prints
# the median CPU ns/op of loadgen's thread, the ratio to "none", and the
# median and quartiles of the per-repetition paired ratios.
#
#   sudo ./bench/hookcost.sh [REPS]        (default 11; BUILD_DIR overrides ./build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
reps=${1:-11}
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "hookcost.sh: REPS must be a positive integer, got '$reps'" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "hookcost.sh: needs root" >&2; exit 1; }
for f in sysctlscope bench/loadgen bench/bpf_hold bench/hookshape.bpf.o; do
  [[ -e $build/$f ]] || { echo "hookcost.sh: $build/$f missing: build first (./scripts/build.sh)" >&2; exit 1; }
done
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

last=$(($(nproc) - 1))
# Hook owner on CPU 0, load on the last CPU. An array prefix, not a shell
# function: taskset execs, so $! of a background job is the owner itself.
pin0=() pinl=()
if ((last > 0)); then pin0=(taskset -c 0) pinl=(taskset -c "$last"); fi

declare -A progs=([slowpath]=exit_acct [dispatch]=exit_dispatch [per-syscall]=exit_openat,exit_open)
conds=(none slowpath dispatch per-syscall sysctlscope)
works=(write-devnull:400000 read-pread:200000 open-close:100000 open-erofs:50000)
tmp=$(mktemp -d)
pid=""
cleanup() {
  exec 9>&- 2>/dev/null || true
  if [[ -n $pid ]]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
wait_for() {  # file word
  for ((i = 0; i < 600; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "hookcost.sh: no '$2' from the hook owner: $(tail -n 3 "$1")" >&2; exit 1
}

for ((r = 1; r <= reps; r++)); do
  for c in "${conds[@]}"; do
    : > "$tmp/err"
    case $c in
      none) ;;
      sysctlscope)
        "${pin0[@]}" "$build/sysctlscope" trace -o json > /dev/null 2> "$tmp/err" & pid=$!
        wait_for "$tmp/err" Tracing ;;
      *)
        rm -f "$tmp/hold"; mkfifo "$tmp/hold"
        "${pin0[@]}" "$build/bench/bpf_hold" "$build/bench/hookshape.bpf.o" "${progs[$c]}" < "$tmp/hold" 2> "$tmp/err" & pid=$!
        exec 9> "$tmp/hold"
        wait_for "$tmp/err" ready ;;
    esac
    for w in "${works[@]}"; do
      v=$("${pinl[@]}" "$build/bench/loadgen" "${w%%:*}" "${w##*:}")
      echo "${w%%:*},$c,$r,${v##* }" >> "$tmp/csv"  # last field: CPU ns/op of loadgen's thread
    done
    if [[ -n $pid ]]; then
      if [[ $c == sysctlscope ]]; then kill -INT "$pid"; else exec 9>&-; fi
      wait "$pid" || true; pid=""
    fi
  done
done
python3 - "$tmp/csv" "${conds[*]}" "${works[*]}" <<'PY'
import csv, statistics, sys
conds, works = sys.argv[2].split(), [w.split(":")[0] for w in sys.argv[3].split()]
d = {}
for w, c, r, v in csv.reader(open(sys.argv[1])):
    d.setdefault((w, c), {})[int(r)] = float(v)
print("| workload | hook | median ns/op | ratio to none | paired ratio: median [quartiles] |")
print("|---|---|---|---|---|")
for w in works:
    base = d[(w, "none")]
    for c in conds:
        v = d[(w, c)]; m = statistics.median(v.values())
        pr = sorted(v[r] / base[r] for r in v)
        q = statistics.quantiles(pr, n=4) if len(pr) > 1 else [pr[0]] * 3
        print(f"| {w} | {c} | {m:.0f} | {m / statistics.median(base.values()):.2f}x "
              f"| {q[1]:.2f}x [{q[0]:.2f}, {q[2]:.2f}] |")
PY
