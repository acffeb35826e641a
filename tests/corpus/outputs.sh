#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every command that reads a recording over every recording of the
# corpus and writes each output (stdout, then stderr and the exit status when
# not empty/0) to OUTDIR/<recording>.<command>. The files are replayed from
# the corpus directory by their bare names, so nothing depends on where the
# tree is. Used by check.sh (compare) and regen.sh (accept).
#
#   tests/corpus/outputs.sh BIN OUTDIR
set -eu
# The table prints local times: fix the zone (and the locale) so the outputs
# depend on the recording only.
export TZ=UTC0 LC_ALL=C
BIN=$(realpath "$1")
mkdir -p "$2"
OUT=$(realpath "$2")
cd "$(dirname "$0")"
run() { # NAME ARGS...
  name=$1; shift
  rc=0
  "$BIN" "$@" > "$OUT/$name" 2> "$OUT/$name.stderr" || rc=$?
  [ $rc -eq 0 ] || echo "exit $rc" >> "$OUT/$name.stderr"
  [ -s "$OUT/$name.stderr" ] || rm -f "$OUT/$name.stderr"
}
for f in *.jsonl; do
  r=${f%.jsonl}
  run "$r.replay.json" replay -o json "$f"
  run "$r.replay.table" replay -o table "$f"
  run "$r.replay.failed.json" replay -o json --failed "$f"
  run "$r.replay.writes.table" replay -o table --type sysctl_write,sysctl_blocked "$f"
  run "$r.replay.host.json" replay -o json --host "$f"
  run "$r.replay.keepalive.json" replay -o json --sysctl 'net.ipv4.tcp_keepalive_*' "$f"
  run "$r.report.text" report -o text "$f"
  run "$r.report.json" report -o json "$f"
  run "$r.report.html" report -o html "$f"
done
# Sessions merged into one report, and the container filters.
run all.report.json report -o json *.jsonl
run all.report.text report -o text *.jsonl
run seed.replay.container.json replay -o json --container corpus-seed seed.jsonl
run seed.replay.comm.table replay -o table --comm sh --comm nsenter seed.jsonl
