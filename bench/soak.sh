#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak: `trace --policy P --metrics-addr` under mixed load for DURATION
# seconds, then checks that nothing was lost or leaked (BENCHMARKS.md):
#
#   - paced sysctl reads and writes (the writes in a private netns), netns
#     births (clone(CLONE_NEWNET)), all by bench/loadgen at fixed rates below
#     the sustainable rate of bench/curves.sh;
#   - Docker and Podman containers started and stopped (image
#     sysctlscope-busybox:latest; a runtime without it is skipped, and said);
#   - a write that breaks the policy (drift) in a throwaway netns every few s;
#   - /metrics scraped every second.
#
# The tracer follows the soak's own cgroup (see below), so a busy shared
# machine cannot make it drop records.
#
# Asserts: 0 lost; every loadgen read, write and birth is an event; one
# sysctl_drift per drifting write; every scrape answered; RSS and FD count
# flat (their floor in the second half of the run no higher than in the
# first, after a warm-up: a leak raises it, a transient does not).
#
#   sudo ./bench/soak.sh 1800          # 30 minutes
#   sudo ./bench/soak.sh 120           # the test suite's version (ctest soak)
#
# Environment: BUILD_DIR (./build), RESULTS_DIR (bench/results: soak.csv with
# an RSS/FD sample every 5 s, soak.md with the figures), READ_RATE (2000/s),
# WRITE_RATE (200/s), BIRTH_RATE (5/s), CONTAINER_EVERY (15 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
dur=${1:?usage: soak.sh DURATION_SECONDS}
[[ $dur =~ ^[0-9]+$ ]] && ((dur >= 30)) || { echo "soak.sh: DURATION must be whole seconds >= 30" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "soak.sh: needs root (BPF, namespaces)" >&2; exit 1; }
for f in sysctlscope bench/loadgen; do
  [[ -x $build/$f ]] || { echo "soak.sh: $build/$f missing: build first" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "soak.sh: curl missing (./scripts/deps.sh)" >&2; exit 1; }
read_rate=${READ_RATE:-2000} write_rate=${WRITE_RATE:-200} birth_rate=${BIRTH_RATE:-5}
ct_every=${CONTAINER_EVERY:-15}
image=sysctlscope-busybox:latest
out=${RESULTS_DIR:-$root/bench/results}
mkdir -p "$out"
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))

cat > "$tmp/policy.conf" <<'EOF'
# sysctlscope: scope=netns
net.ipv4.tcp_keepalive_time = 7200
EOF

# The soak's own load runs in a cgroup of its own, and the tracer follows
# only that subtree (filtered in the kernel, before a record is reserved):
# other jobs on a shared machine, at rates beyond the sustainable one, then
# cannot fill this tracer's ring. Containers run in their runtimes' cgroups:
# they exercise the cgroup mkdir/rmdir records (never filtered) and
# enrichment, not the accounting.
cg2=$(awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo)
[[ -n $cg2 ]] || { echo "soak.sh: no cgroup2 mount" >&2; exit 1; }
cg=sysctlscope-soak-$$
mkdir "$cg2/$cg"
echo $$ > "$cg2/$cg/cgroup.procs"

pids=()
tracer=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $tracer ]] && kill -INT "$tracer" 2>/dev/null || true
  wait 2>/dev/null || true
  echo $$ > "$cg2/cgroup.procs"
  rmdir "$cg2/$cg" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The tracer's JSON lines are counted as they come (the full stream of a
# long soak would be gigabytes): by event type, and for loadgen by type only.
"$build/sysctlscope" trace -o json --cgroup "$cg" --policy "$tmp/policy.conf" --metrics-addr "127.0.0.1:$port" \
  2> "$tmp/err" | python3 -c '
import json, sys, collections
c = collections.Counter()
for line in sys.stdin:
    e = json.loads(line)
    t = e["event"]
    c[t] += 1
    if t == "lost":
        c["lost_records"] += e["count"]
    p = e.get("proc") or {}
    # Other loadgens may run on the machine: ours are told apart by pid
    # (a clone child by its parent).
    if p.get("comm") == "loadgen":
        c["pid:%s:%s" % (t, p.get("pid"))] += 1
        c["ppid:%s:%s" % (t, p.get("ppid"))] += 1
    if t == "sysctl_drift" and e.get("sysctl") == "net.ipv4.tcp_keepalive_time" and (e.get("value") or "").strip() == "7211":
        c["drift_7211"] += 1
json.dump(dict(c), open(sys.argv[1], "w"))
' "$tmp/counts.json" &
pipe_pid=$!
for _ in $(seq 1 600); do
  grep -q Tracing "$tmp/err" 2>/dev/null && break
  sleep 0.1
done
grep -q Tracing "$tmp/err" || { echo "soak.sh: tracer not ready: $(cat "$tmp/err")" >&2; exit 1; }
tracer=$(pgrep -n -f "sysctlscope trace -o json --cgroup $cg ")
echo "== soak: ${dur}s, tracer pid $tracer, reads ${read_rate}/s, writes ${write_rate}/s, births ${birth_rate}/s, a container every ${ct_every}s" >&2

"$build/bench/loadgen" rate read-pread "$read_rate" "$dur" > "$tmp/reads" & pids+=($!)
echo $! > "$tmp/reads.pid"
"$build/bench/loadgen" rate write-netns "$write_rate" "$dur" > "$tmp/writes" & pids+=($!)
echo $! > "$tmp/writes.pid"
"$build/bench/loadgen" rate netns-create "$birth_rate" "$dur" > "$tmp/births" & pids+=($!)
echo $! > "$tmp/births.pid"

runtimes=()
for rt in docker podman; do
  if command -v "$rt" >/dev/null && timeout 20 "$rt" image inspect "$image" >/dev/null 2>&1; then
    runtimes+=("$rt")
  else
    echo "soak.sh: $rt or its image $image missing: no $rt containers in this soak" >&2
  fi
done
end=$((SECONDS + dur))
(
  n=0
  while ((SECONDS < end)); do
    for rt in "${runtimes[@]}"; do
      # Podman cannot raise the container's rlimits above this shell's.
      extra=(); [[ $rt == podman ]] && extra=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
      if timeout 60 "$rt" run --rm "${extra[@]}" "$image" true >/dev/null 2>&1; then n=$((n + 1)); fi
    done
    echo "$n" > "$tmp/containers"
    sleep "$ct_every"
  done
) & pids+=($!)
(
  n=0
  while ((SECONDS < end)); do
    unshare -n sh -c 'echo 7211 > /proc/sys/net/ipv4/tcp_keepalive_time' && n=$((n + 1))
    echo "$n" > "$tmp/drifts"
    sleep 3
  done
) & pids+=($!)
(
  ok=0 bad=0
  while ((SECONDS < end)); do
    if curl -sf -m 10 "http://127.0.0.1:$port/metrics" > "$tmp/scrape" &&
      grep -q '^sysctlscope_events_total' "$tmp/scrape"; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
    fi
    echo "$ok $bad" > "$tmp/scrapes"
    sleep 1
  done
) & pids+=($!)

echo "t_s,rss_kb,fds" > "$out/soak.csv"
t0=$SECONDS
while ((SECONDS < end)); do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$tracer/status")
  fds=$(ls "/proc/$tracer/fd" | wc -l)
  echo "$((SECONDS - t0)),$rss,$fds" >> "$out/soak.csv"
  sleep 5
done
for p in "${pids[@]}"; do wait "$p" || true; done
pids=()
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$tracer/status")
read -r -a st < "/proc/$tracer/stat"
cpu_ticks=$((st[13] + st[14]))
sleep 2 # held writes age out, the consumer drains
kill -INT "$tracer"
wait "$pipe_pid" || true
tracer=""

python3 - "$tmp" "$out" "$dur" "$hwm" "$cpu_ticks" "$(getconf CLK_TCK)" <<'PY'
import csv, json, os, sys
tmp, out, dur, hwm, ticks, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def first(name, default="0"):
    try:
        return open(os.path.join(tmp, name)).read().split()
    except FileNotFoundError:
        return default.split()
c = json.load(open(os.path.join(tmp, "counts.json")))
reads, writes, births = (int(first(n)[0]) for n in ("reads", "writes", "births"))
rpid, wpid, bpid = (first(n + ".pid")[0] for n in ("reads", "writes", "births"))
got_reads = c.get(f"pid:sysctl_read:{rpid}", 0)
got_writes = c.get(f"pid:sysctl_write:{wpid}", 0)
# clone(CLONE_NEWNET) children: the event's process is the child (ppid =
# loadgen) or the parent, depending on the hook; count both ways.
got_births = max(c.get(f"ppid:netns_create:{bpid}", 0), c.get(f"pid:netns_create:{bpid}", 0))
containers, drifts = int(first("containers")[0]), int(first("drifts")[0])
ok, bad = (int(x) for x in first("scrapes", "0 0"))
rows = [(int(r["t_s"]), int(r["rss_kb"]), int(r["fds"])) for r in csv.DictReader(open(os.path.join(out, "soak.csv")))]
warm = [r for r in rows if r[0] >= min(60, dur // 4)]
half = len(warm) // 2
a, b = warm[:half], warm[half:]
# A leak raises the floor; a scrape's socket or a burst's heap comes and goes.
rss_a, rss_b = min(r[1] for r in a), min(r[1] for r in b)
fd_a, fd_b = min(r[2] for r in a), min(r[2] for r in b)
rss_max = max(r[1] for r in rows)
checks = [
    ("lost records", c.get("lost_records", 0), c.get("lost_records", 0) == 0),
    ("loadgen reads issued / sysctl_read events", f"{reads} / {got_reads}", reads == got_reads),
    ("loadgen writes issued / sysctl_write events", f"{writes} / {got_writes}", writes == got_writes),
    ("loadgen births / netns_create events", f"{births} / {got_births}", births == got_births),
    ("drifting writes / sysctl_drift events", f"{drifts} / {c.get('drift_7211', 0)}", drifts == c.get("drift_7211", 0)),
    ("/metrics scrapes answered / failed", f"{ok} / {bad}", bad == 0 and ok > 0),
    ("RSS min, first / second half (kB); max", f"{rss_a} / {rss_b}; {rss_max}", rss_b <= rss_a + 1024),
    ("FDs min, first / second half", f"{fd_a} / {fd_b}", fd_b <= fd_a),
]
lines = [f"Soak {dur} s: tracer CPU {ticks / hz:.1f} s ({ticks / hz / dur * 100:.1f}% of a core), VmHWM {hwm / 1024:.1f} MiB, "
         f"{containers} containers run, {sum(v for k, v in c.items() if k in ('sysctl_read', 'sysctl_write', 'netns_create', 'netns_enter', 'sysctl_blocked', 'sysctl_drift'))} events.", ""]
lines += ["| check | value | |", "|---|---|---|"]
lines += [f"| {n} | {v} | {'ok' if good else 'FAILED'} |" for n, v, good in checks]
open(os.path.join(out, "soak.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if all(g for _, _, g in checks) else 1)
PY
