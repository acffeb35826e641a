#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cost of netns births with two tracer builds, interleaved in one run:
# the creating process's CPU per clone(CLONE_NEWNET) (the birth snapshot is
# taken in its context) and the tracer's own CPU per birth (decoding).
# Ratios are to the baseline (nothing attached) measured in the same run.
#
#   sudo ./bench/births_ab.sh OLD_BINARY NEW_BINARY [N] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: births_ab.sh OLD_BINARY NEW_BINARY [N] [REPS]}
new=${2:?usage: births_ab.sh OLD_BINARY NEW_BINARY [N] [REPS]}
n=${3:-400}
reps=${4:-5}
loadgen=build/bench/loadgen
[[ -x $loadgen ]] || { echo "births_ab.sh: $loadgen missing: run ./scripts/build.sh" >&2; exit 2; }
for b in "$old" "$new"; do [[ -x $b ]] || { echo "births_ab.sh: not executable: $b" >&2; exit 2; }; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, clock ticks
hz=$(getconf CLK_TCK)

run_one() { # label, binary or "-": prints "label ns_per_op tracer_us_per_birth"
  local label=$1 bin=$2 pid="" t0=0 t1 out ns
  if [[ $bin != - ]]; then
    "$bin" trace --type netns_create -o json >/dev/null 2>/tmp/births_ab.err &
    pid=$!
    for _ in $(seq 1 200); do grep -q 'Hit Ctrl-C' /tmp/births_ab.err 2>/dev/null && break; sleep 0.1; done
    t0=$(cpu_ticks "$pid")
  fi
  out=$("$loadgen" netns-create "$n")
  ns=$(awk '{print $3}' <<<"$out") # loadgen: wall ns/op, ops, CPU ns/op
  if [[ -n $pid ]]; then
    sleep 1 # let the consumer drain
    t1=$(cpu_ticks "$pid")
    kill -INT "$pid"
    wait "$pid" || true
    echo "$label $ns $(((t1 - t0) * 1000000 / hz / n))"
  else
    echo "$label $ns 0"
  fi
}

results=$(mktemp)
for r in $(seq 1 "$reps"); do
  run_one baseline - >>"$results"
  run_one old "$old" >>"$results"
  run_one new "$new" >>"$results"
done
python3 - "$results" "$n" "$reps" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda xs: statistics.median(xs)
by = {k: [r for r in rows if r[0] == k] for k in ("baseline", "old", "new")}
base = med([float(r[1]) for r in by["baseline"]])
print(f"netns births, N={sys.argv[2]} per rep, {sys.argv[3]} reps interleaved; medians")
print("| condition | creator CPU ns/birth | x baseline | tracer CPU us/birth |")
print("|---|---|---|---|")
for k in ("baseline", "old", "new"):
    ns = med([float(r[1]) for r in by[k]])
    us = med([float(r[2]) for r in by[k]])
    print(f"| {k} | {ns:.0f} | {ns / base:.2f}x | {us:.0f} |")
EOF
rm -f "$results"
