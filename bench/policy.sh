#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What `trace --policy` (100 rules) and `--enforce` cost a sysctl write and a
# sysctl read, against plain `trace`, conditions interleaved in one run
# (BENCHMARKS.md, "Policy"). Metric: the load generator's own CPU time per
# op (user + kernel, so the BPF programs in its syscalls count).
#
#   sudo ./bench/policy.sh [REPS]     default 5 repetitions
#
# No host sysctl is changed: loadgen writes in a private netns, and the one
# enforced rule holds for what it writes (7200), so nothing is refused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
reps=${1:-5}
[[ $(id -u) -eq 0 ]] || { echo "policy.sh: needs root" >&2; exit 1; }
for f in sysctlscope bench/loadgen; do
  [[ -e $build/$f ]] || { echo "policy.sh: $build/$f missing: build first" >&2; exit 1; }
done
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# 100 rules: 89 explicit, 10 globs (fnmatch on every write), and the one
# that governs loadgen's write in every netns.
{
  for i in $(seq 1 89); do echo "-kernel.sstest_bench_$i = 1"; done
  for i in $(seq 1 10); do echo "net.sstest_bench_$i.* = 1"; done
  echo "# sysctlscope: scope=all"
  echo "net.ipv4.tcp_keepalive_time = 7200"
} > "$tmp/p100.conf"

declare -A N=([write-netns]=100000 [read-pread]=200000)
conditions=(trace policy enforce)
csv=$tmp/policy.csv
echo "rep,condition,workload,cpu_ns_per_op" > "$csv"
for ((rep = 1; rep <= reps; rep++)); do
  for c in "${conditions[@]}"; do
    case $c in
      trace) args=() ;;
      policy) args=(--policy "$tmp/p100.conf") ;;
      enforce) args=(--policy "$tmp/p100.conf" --enforce) ;;
    esac
    "$build/sysctlscope" trace -o json "${args[@]}" > /dev/null 2> "$tmp/err" & pid=$!
    for ((i = 0; i < 600; i++)); do
      grep -q Tracing "$tmp/err" && break
      kill -0 "$pid" 2>/dev/null || { echo "policy.sh: tracer died: $(cat "$tmp/err")" >&2; exit 1; }
      sleep 0.05
    done
    for w in write-netns read-pread; do
      read -r _ _ cpu < <("$build/bench/loadgen" "$w" "${N[$w]}")
      echo "$rep,$c,$w,$cpu" >> "$csv"
    done
    kill -INT "$pid"; wait "$pid" || true; pid=""
  done
  echo "   rep $rep done" >&2
done

python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for w in ("write-netns", "read-pread"):
    for c in ("trace", "policy", "enforce"):
        v = [float(r["cpu_ns_per_op"]) for r in rows if r["workload"] == w and r["condition"] == c]
        med[(w, c)] = (statistics.median(v), min(v), max(v))
print("| workload | trace | trace --policy (100 rules) | ratio | --policy --enforce | ratio |")
print("|---|---|---|---|---|---|")
for w in ("write-netns", "read-pread"):
    t, p, e = med[(w, "trace")], med[(w, "policy")], med[(w, "enforce")]
    f = lambda m: "%.0f ns (%.0f-%.0f)" % m
    print("| %s | %s | %s | %.3f | %s | %.3f |" % (w, f(t), f(p), p[0] / t[0], f(e), e[0] / t[0]))
PY
