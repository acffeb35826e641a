#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fixed-rate curves, the way peers publish them (Inspektor Gadget's
# integration/benchmarks): at each rate, host CPU without and with the
# tracer, the load's own CPU per operation (its thread's CPU time, which
# includes the BPF programs run in its syscalls and, unlike host CPU, means
# something on a saturated machine), the tracer's own CPU and RSS, and lost
# events, over several
# interleaved repetitions, with 95% confidence intervals (t distribution).
#
#   sudo ./bench/curves.sh reads    # sysctl reads: 1k/s up to where the ring drops
#   sudo ./bench/curves.sh births   # netns births per second
#
# Each repetition runs every rate without the tracer, then every rate under
# one `trace -o json --cgroup C > /dev/null` that follows only the load's
# cgroup C (lost events from /metrics, per step).
# STEP_S (5) seconds per step, REPS (3), RATES overrides the list.
# Output: RESULTS_DIR (bench/results)/curves-KIND.{csv,md,png}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
kind=${1:?usage: curves.sh reads|births}
case $kind in
  reads) work=read-pread rates=${RATES:-"1000 2000 5000 10000 20000 50000 100000 200000 400000"} ;;
  births) work=netns-create rates=${RATES:-"1 2 5 10 20 50 100 200"} ;;
  *) echo "curves.sh: reads or births, not '$kind'" >&2; exit 2 ;;
esac
[[ $(id -u) -eq 0 ]] || { echo "curves.sh: needs root" >&2; exit 1; }
for f in sysctlscope bench/loadgen; do
  [[ -x $build/$f ]] || { echo "curves.sh: $build/$f missing: build first" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "curves.sh: curl missing (./scripts/deps.sh)" >&2; exit 1; }
step=${STEP_S:-5} reps=${REPS:-3}
out=${RESULTS_DIR:-$root/bench/results}
mkdir -p "$out"
csv=$out/curves-$kind.csv
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
hz=$(getconf CLK_TCK)
# The load runs in a cgroup of its own and the tracer follows only it
# (filtered in the kernel): on a shared machine other jobs' events would
# otherwise count as this rate's CPU and lost records.
cg2=$(awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo)
[[ -n $cg2 ]] || { echo "curves.sh: no cgroup2 mount" >&2; exit 1; }
cg=sysctlscope-curves-$$
mkdir "$cg2/$cg"
echo $$ > "$cg2/$cg/cgroup.procs"
pid=""
cleanup() {
  [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  echo $$ > "$cg2/cgroup.procs"
  rmdir "$cg2/$cg" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }  # host, all CPUs, ticks
lost() { curl -sf -m 5 "http://127.0.0.1:$port/metrics" | awk '/^sysctlscope_lost_events_total/ {print $2}'; }

echo "rep,tool,rate,achieved,load_cpu_ns,host_cpu_pct,tool_cpu_pct,tool_rss_kb,lost" > "$csv"
for ((rep = 1; rep <= reps; rep++)); do
  for tool in off on; do
    if [[ $tool == on ]]; then
      "$build/sysctlscope" trace -o json --cgroup "$cg" --metrics-addr "127.0.0.1:$port" > /dev/null 2> "$tmp/err" &
      pid=$!
      for _ in $(seq 1 600); do grep -q Tracing "$tmp/err" 2>/dev/null && break; sleep 0.1; done
      grep -q Tracing "$tmp/err" || { echo "curves.sh: tracer not ready: $(cat "$tmp/err")" >&2; exit 1; }
    fi
    for rate in $rates; do
      b0=$(busy) t0=0 l0=0
      if [[ -n $pid ]]; then t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); l0=$(lost); fi
      s0=$(date +%s.%N)
      read -r _ lcpu achieved < <("$build/bench/loadgen" rate "$work" "$rate" "$step")
      sleep 0.5  # the consumer drains what the step left in the ring
      s1=$(date +%s.%N) b1=$(busy)
      tcpu=0 rss=0 l=0
      if [[ -n $pid ]]; then
        t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
        tcpu=$(awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" 'BEGIN {print (b - a) / hz / (s1 - s0) * 100}')
        rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
        l=$(awk -v a="$l0" -v b="$(lost)" 'BEGIN {print b - a}')
      fi
      hcpu=$(awk -v a="$b0" -v b="$b1" -v s0="$s0" -v s1="$s1" -v hz="$hz" 'BEGIN {print (b - a) / hz / (s1 - s0) * 100}')
      echo "$rep,$tool,$rate,$achieved,$lcpu,$hcpu,$tcpu,$rss,$l" >> "$csv"
      echo "   rep $rep tool $tool rate $rate: achieved $achieved/s host ${hcpu}% tool ${tcpu}% lost $l" >&2
    done
    if [[ -n $pid ]]; then kill -INT "$pid"; wait "$pid" || true; pid=""; fi
  done
done

python3 - "$csv" "$kind" "$reps" "$step" > "$out/curves-$kind.md" <<'PY'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1])))
kind, reps, step = sys.argv[2], int(sys.argv[3]), sys.argv[4]
T = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}
def ci(v):
    m = st.mean(v)
    if len(v) < 2: return m, 0.0
    return m, T.get(len(v) - 1, 2.0) * st.stdev(v) / len(v) ** 0.5
rates = []
for r in rows:
    if int(r["rate"]) not in rates: rates.append(int(r["rate"]))
def col(rate, tool, key):
    return [float(r[key]) for r in rows if int(r["rate"]) == rate and r["tool"] == tool]
unit = "reads/s" if kind == "reads" else "births/s"
print(f"{reps} repetitions of {step} s per step; mean ± 95% CI. Host CPU: all CPUs, % of one core.\n")
print(f"| target {unit} | achieved (tool on) | load CPU ns/op off | on | host CPU off | host CPU on | tool CPU | tool RSS MiB | lost (sum) |")
print("|---|---|---|---|---|---|---|---|---|")
plot = open(sys.argv[1].replace(".csv", ".dat"), "w")
for rate in rates:
    a = ci(col(rate, "on", "achieved")); off = ci(col(rate, "off", "host_cpu_pct")); on = ci(col(rate, "on", "host_cpu_pct"))
    tc = ci(col(rate, "on", "tool_cpu_pct")); rss = max(col(rate, "on", "tool_rss_kb")) / 1024
    lost = sum(col(rate, "on", "lost"))
    lo = ci(col(rate, "off", "load_cpu_ns")); ln = ci(col(rate, "on", "load_cpu_ns"))
    print(f"| {rate} | {a[0]:.0f} ± {a[1]:.0f} | {lo[0]:.0f} ± {lo[1]:.0f} | {ln[0]:.0f} ± {ln[1]:.0f} | {off[0]:.0f} ± {off[1]:.0f}% | {on[0]:.0f} ± {on[1]:.0f}% | {tc[0]:.1f} ± {tc[1]:.1f}% | {rss:.1f} | {lost:.0f} |")
    plot.write(f"{a[0]} {off[0]} {off[1]} {on[0]} {on[1]} {tc[0]} {tc[1]} {lost}\n")
PY
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF
set terminal pngcairo size 900,500 font "sans,11"
set output "$out/curves-$kind.png"
set title "sysctlscope, $kind at fixed rates (mean, 95% CI)"
set logscale x
set xlabel "$( [[ $kind == reads ]] && echo 'sysctl reads per second' || echo 'netns births per second')"
set ylabel "CPU, % of one core"
set key top left
set grid
plot "$out/curves-$kind.dat" using 1:2:3 with yerrorlines title "host CPU, no tool", \
     "" using 1:4:5 with yerrorlines title "host CPU, tool on", \
     "" using 1:6:7 with yerrorlines title "tool's own CPU"
EOF
else
  echo "curves.sh: gnuplot missing (./scripts/deps.sh): no plot" >&2
fi
cat "$out/curves-$kind.md"
