#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Peak RSS of `trace -o json` under a max-rate read stream with netns writes
# beside it (held writes queue the stream), two builds interleaved.
# Usage: sudo bench/rss_ab.sh OLD_BIN NEW_BIN [REPS] [SECONDS]
set -euo pipefail
old=$1 new=$2 reps=${3:-4} secs=${4:-5}
build=$(cd "$(dirname "$0")/.." && pwd)/build
loadgen=$build/bench/loadgen
one() {
  local bin=$1 err pid st hwm anon_max=0 a
  err=$(mktemp)
  "$bin" trace -o json --comm loadgen > /dev/null 2> "$err" & pid=$!
  for _ in $(seq 300); do grep -q Tracing "$err" && break; sleep 0.1; done
  "$loadgen" stream "$secs" > /dev/null & local lg=$!
  "$loadgen" write-netns 20000 > /dev/null
  while kill -0 "$lg" 2> /dev/null; do
    a=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status"); ((a > anon_max)) && anon_max=$a
    sleep 0.05
  done
  wait "$lg"; sleep 0.5
  read -r -a st < "/proc/$pid/stat"
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -INT "$pid"; wait "$pid" || true
  echo "$hwm $anon_max $(( st[13] + st[14] )) $(grep -E '^[0-9]+ events, [0-9]+ lost' "$err" | tail -1)"
  rm -f "$err"
}
echo "rep build VmHWM_kB RssAnon_max_kB consumer_ticks summary"
for r in $(seq "$reps"); do
  echo "$r old $(one "$old")"
  echo "$r new $(one "$new")"
done
