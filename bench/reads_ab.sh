#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What streaming every sysctl read costs with several tracer builds or
# settings, interleaved in one run (BENCHMARKS.md, "Streaming every read").
# The load (loadgen read-pread N) is pinned to the last CPU and the tracers
# to CPU 0, so the consumer does not preempt the load. Two metrics:
#   -m cpu   (default) loadgen's own CPU per pread with nothing attached, with
#            the floor (a cgroup/sysctl program that only returns 1) and under
#            `BINARY trace -o json [ARGS]`; per condition the median ns/op and
#            the mean of the per-repetition paired ratios to the baseline;
#   -m prog  ns per run of the ss_sysctl program itself (bench/prog_cost.py:
#            the kernel's run-time statistics), which moves less with the
#            machine's load; per build the median and the mean of the
#            per-repetition differences to the first build.
# Means come with a 95% confidence interval (t).
#
#   sudo ./bench/reads_ab.sh [-m cpu|prog] [-n N] [-r REPS] 'LABEL=BINARY [ARGS...]'...
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
metric=cpu n=200000 reps=9
usage() { echo "usage: reads_ab.sh [-m cpu|prog] [-n N] [-r REPS] 'LABEL=BINARY [ARGS...]'..." >&2; exit 2; }
while getopts m:n:r: o; do
  case $o in m) metric=$OPTARG ;; n) n=$OPTARG ;; r) reps=$OPTARG ;; *) usage ;; esac
done
shift $((OPTIND - 1))
if (($# == 0)) || [[ $metric != cpu && $metric != prog ]]; then usage; fi
[[ $n =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]] || { echo "reads_ab.sh: N and REPS must be positive integers" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "reads_ab.sh: needs root" >&2; exit 1; }
for f in bench/loadgen bench/bpf_hold bench/floor.bpf.o; do
  [[ -e $build/$f ]] || { echo "reads_ab.sh: $build/$f missing: build first (./scripts/build.sh)" >&2; exit 1; }
done
for a in "$@"; do
  cmd=${a#*=}
  [[ $a == *=* && -x ${cmd%% *} ]] || { echo "reads_ab.sh: not 'LABEL=EXECUTABLE [ARGS]': $a" >&2; exit 2; }
done
cg2=$(awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo)
[[ -n $cg2 ]] || { echo "reads_ab.sh: no cgroup2 mount" >&2; exit 1; }
last=$(($(nproc) - 1))
pin0=() pinl=()
if ((last > 0)); then pin0=(taskset -c 0) pinl=(taskset -c "$last"); fi
tmp=$(mktemp -d)
pid=""
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap bench_cleanup EXIT

run_one() { # label -|floor|"binary args": appends "label value lost" to rows
  local label=$1 val lost=0
  local -a cmd
  pid=""
  case $2 in
    -) ;;
    floor)
      rm -f "$tmp/hold"
      mkfifo "$tmp/hold"
      "${pin0[@]}" "$build/bench/bpf_hold" "$build/bench/floor.bpf.o" floor_sysctl "$cg2" <"$tmp/hold" 2>"$tmp/err" &
      pid=$!
      exec 9>"$tmp/hold"
      bench_wait_for "$tmp/err" ready 30 ;;
    *)
      read -r -a cmd <<<"$2"
      "${pin0[@]}" "${cmd[0]}" trace -o json "${cmd[@]:1}" >/dev/null 2>"$tmp/err" &
      pid=$!
      bench_wait_for "$tmp/err" Tracing 30 ;;
  esac
  if [[ $metric == cpu ]]; then
    val=$("${pinl[@]}" "$build/bench/loadgen" read-pread "$n" | awk '{print $3}')
  else
    val=$("${pinl[@]}" python3 bench/prog_cost.py "${pinl[@]}" "$build/bench/loadgen" read-pread "$n" |
      awk '$1 == "ss_sysctl" {print $(NF - 1)}')
  fi
  case $2 in
    -) ;;
    floor) exec 9>&-; wait "$pid" || true ;;
    *)
      kill -INT "$pid"
      wait "$pid" || true
      lost=$(awk '/ events, [0-9]+ lost/ {print $(NF - 1)}' "$tmp/err" | tail -1) ;;
  esac
  pid=""
  echo "$label ${val:-nan} ${lost:-0}" >>"$tmp/rows"
}

labels=()
[[ $metric == cpu ]] && labels=(baseline floor)
for a in "$@"; do labels+=("${a%%=*}"); done
for _ in $(seq 1 "$reps"); do
  if [[ $metric == cpu ]]; then run_one baseline -; run_one floor floor; fi
  for a in "$@"; do run_one "${a%%=*}" "${a#*=}"; done
done
[[ -z ${ROWS:-} ]] || cp "$tmp/rows" "$ROWS"
python3 - "$tmp/rows" "$metric" "$n" "$reps" "$(cut -d' ' -f1-3 /proc/loadavg)" "${labels[@]}" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
metric, n, reps, load, labels = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
T975 = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14]
by = {k: [float(r[1]) for r in rows if r[0] == k] for k in labels}
lost = {k: sum(int(r[2]) for r in rows if r[0] == k) for k in labels}
def mean_ci(v):
    m = st.mean(v)
    h = (T975[len(v) - 2] if len(v) - 2 < len(T975) else 2.0) * st.stdev(v) / len(v) ** 0.5 if len(v) > 1 else 0.0
    return m, h
ref = labels[0]
what = "loadgen CPU ns per pread" if metric == "cpu" else "ss_sysctl ns per run"
print(f"read-pread N={n}, {reps} reps interleaved, {what}; load average at the end {load}")
if metric == "cpu":
    print("| condition | median ns/op | paired ratio to baseline, mean [95% CI] | records lost |")
else:
    print(f"| build | median ns/run | difference to {ref}, mean [95% CI] | records lost |")
print("|---|---|---|---|")
for k in labels:
    if metric == "cpu":
        m, h = mean_ci([x / b for x, b in zip(by[k], by[ref])])
        cell = f"{m:.2f}x [{m - h:.2f}, {m + h:.2f}]"
    else:
        m, h = mean_ci([x - r for x, r in zip(by[k], by[ref])])
        cell = f"{m:+.0f} [{m - h:+.0f}, {m + h:+.0f}]"
    print(f"| {k} | {st.median(by[k]):.0f} | {cell} | {lost[k]} |")
PY
