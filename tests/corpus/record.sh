#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Makes the replay corpus: real `sysctlscope record` sessions against the real
# kernel (root, runc, nsenter, unshare, ip). Run once, by hand, when the corpus
# needs new scenarios; the recordings are then fixed inputs and
# tests/corpus/regen.sh derives the expected outputs from them. Every host
# sysctl touched is restored on exit. Hold /work/priv.lock (or nothing else
# tracing) so other activity stays out of the files.
#
#   tests/corpus/record.sh build/sysctlscope tests/corpus
set -euo pipefail
BIN=$(realpath "${1:-build/sysctlscope}")
OUT=$(realpath "${2:-tests/corpus}")
work=$(mktemp -d)
declare -A saved
S=/proc/sys/net/ipv4
for k in tcp_congestion_control tcp_keepalive_time tcp_keepalive_intvl tcp_keepalive_probes; do
  saved[$k]=$(cat $S/$k)
done
cleanup() {
  for k in "${!saved[@]}"; do echo "${saved[$k]}" > $S/$k; done
  runc delete -f corpus-seed >/dev/null 2>&1 || true
  runc delete -f corpus-ro >/dev/null 2>&1 || true
  for i in 1 2; do ip netns del corpus$i 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# busybox-static rootfs; the container writes one sysctl at start (linux.sysctl).
bundle() { # DIR ID SYSCTL_JSON
  mkdir -p "$1/rootfs"/{bin,proc,sys,dev,tmp,etc}
  cp /bin/busybox "$1/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$1/rootfs/bin/$a"; done
  runc spec --bundle "$1"
  jq --argjson s "$3" '.process.terminal=false | .process.args=["sleep","3600"] | .root.readonly=false | .linux.sysctl=$s' \
    "$1/config.json" > "$1/c.json" && mv "$1/c.json" "$1/config.json"
}

REC=
start_rec() { # NAME ARGS...
  local name=$1; shift
  rm -f "$work/$name.jsonl"
  "$BIN" record -o "$work/$name.jsonl" "$@" 2>"$work/$name.err" &
  REC=$!
  for _ in $(seq 300); do grep -q "Recording to" "$work/$name.err" && return 0; sleep 0.1; done
  cat "$work/$name.err" >&2; exit 1
}
# Keeps the files small: baselines (every host sysctl, ~58 KiB) keep only
# the sysctls matching KEEP; with TRIM_BIRTHS=1 so do netns_create defaults.
# Other lines are copied byte for byte.
KEEP='^(net\.ipv4\.(tcp_keepalive_|tcp_congestion_control|tcp_ehash_entries|udp_hash_entries)|net\.netfilter\.nf_conntrack_count|net\.core\.rmem_max|kernel\.(kptr_restrict|randomize_va_space|yama\.ptrace_scope))'
stop_rec() { # NAME [TRIM_BIRTHS]
  sleep 0.5
  kill -INT $REC; wait $REC || true
  KEEP="$KEEP" TRIM_BIRTHS="${2:-0}" python3 -c '
import json, os, re, sys
keep = re.compile(os.environ["KEEP"])
births = os.environ["TRIM_BIRTHS"] == "1"
def sub(o): return {k: v for k, v in o.items() if keep.match(k)}
for line in sys.stdin.buffer:
    o = json.loads(line) if line.startswith(b"{\"record\":\"baseline\"") or (births and b"\"event\":\"netns_create\"" in line) else None
    if o is None:
        sys.stdout.buffer.write(line); continue
    for k in ("values", "errors", "values_hex", "defaults", "global"):
        if isinstance(o.get(k), dict): o[k] = sub(o[k])
    if isinstance(o.get("differs_from_host"), list):
        o["differs_from_host"] = [d for d in o["differs_from_host"] if keep.match(d.get("sysctl", ""))]
    sys.stdout.buffer.write(json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
' < "$work/$1.jsonl" > "$OUT/$1.jsonl"
}

# 1. The seed scenario: host TCP tuning, a runc container born with
#    tcp_keepalive_time=600, a blocked write inside it, a host reach-in.
bundle "$work/seed" corpus-seed '{"net.ipv4.tcp_keepalive_time":"600"}'
start_rec seed --type sysctl_write,sysctl_blocked,netns_create,netns_enter
echo cubic > $S/tcp_congestion_control
echo 600 > $S/tcp_keepalive_time
echo 10 > $S/tcp_keepalive_intvl
echo 6 > $S/tcp_keepalive_probes
runc run -d --bundle "$work/seed" corpus-seed
pid=$(runc state corpus-seed | jq .pid)
runc exec corpus-seed sh -c 'echo 600 > /proc/sys/net/ipv4/tcp_keepalive_time' || true
runc exec corpus-seed cat /proc/sys/net/ipv4/tcp_keepalive_intvl
nsenter -t "$pid" -n sh -c 'echo 900 > /proc/sys/net/ipv4/tcp_keepalive_time'
for k in "${!saved[@]}"; do echo "${saved[$k]}" > $S/$k; done
sleep 0.5
runc delete -f corpus-seed
stop_rec seed

# 2. Blocked and failed writes: read-only /proc/sys (absolute and relative
#    paths), permission, invalid values; judged by readback and by syscall.
bundle "$work/ro" corpus-ro '{}'
runc run -d --bundle "$work/ro" corpus-ro
blocked_activity() {
  runc exec corpus-ro sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_keepalive_probes' || true
  runc exec corpus-ro sh -c 'cd /proc/sys/net/ipv4 && echo 5 > tcp_keepalive_intvl' || true
  setpriv --reuid 65534 --regid 65534 --clear-groups sh -c 'echo 5 > /proc/sys/net/ipv4/tcp_keepalive_probes' || true
  unshare -n sh -c 'echo abc > /proc/sys/net/ipv4/tcp_keepalive_time; echo nosuchcc > /proc/sys/net/ipv4/tcp_congestion_control; echo 300 > /proc/sys/net/ipv4/tcp_keepalive_time' || true
}
start_rec blocked --type sysctl_write,sysctl_blocked --sysctl 'net.ipv4.tcp_*'
blocked_activity
stop_rec blocked
start_rec blocked_syscall --type sysctl_write,sysctl_blocked --sysctl 'net.ipv4.tcp_*' --write-results syscall
blocked_activity
stop_rec blocked_syscall
start_rec recon --type sysctl_read --sysctl kernel.kptr_restrict --sysctl kernel.randomize_va_space --sysctl kernel.yama.ptrace_scope --sysctl 'net.ipv4.tcp_keepalive_*'
runc exec corpus-ro cat /proc/sys/kernel/kptr_restrict /proc/sys/kernel/randomize_va_space /proc/sys/net/ipv4/tcp_keepalive_time
cat /proc/sys/kernel/yama/ptrace_scope /proc/sys/kernel/kptr_restrict 2>/dev/null || true
stop_rec recon
runc delete -f corpus-ro

# 3. Netns churn: unshare, clone, ip netns add/exec/del, setns.
start_rec churn --type netns_create,netns_enter
unshare -n true
"$(dirname "$BIN")/tests/clone_netns" clone >/dev/null
"$(dirname "$BIN")/tests/clone_netns" clone3 >/dev/null
for i in 1 2; do
  ip netns add corpus$i
  ip netns exec corpus$i true
  ip netns del corpus$i
done
stop_rec churn 1

# 4. Policy drift: --policy judges host writes (and --enforce --dry-run marks them).
cat > "$work/policy.conf" <<EOF
net.ipv4.tcp_keepalive_time = ${saved[tcp_keepalive_time]}
net.ipv4.tcp_keepalive_probes = ${saved[tcp_keepalive_probes]}
net.ipv4.tcp_congestion_control = ${saved[tcp_congestion_control]}
EOF
drift_activity() {
  echo 600 > $S/tcp_keepalive_time
  echo 3 > $S/tcp_keepalive_probes
  cat $S/tcp_keepalive_probes >/dev/null
  unshare -n sh -c 'echo 300 > /proc/sys/net/ipv4/tcp_keepalive_time'
  echo "${saved[tcp_keepalive_time]}" > $S/tcp_keepalive_time
  echo "${saved[tcp_keepalive_probes]}" > $S/tcp_keepalive_probes
}
start_rec drift --sysctl 'net.ipv4.tcp_keepalive_*' --comm record.sh --comm sh --comm cat --policy "$work/policy.conf"
drift_activity
stop_rec drift
start_rec drift_dry_run --type sysctl_write,sysctl_drift --sysctl 'net.ipv4.tcp_keepalive_*' --policy "$work/policy.conf" --enforce --dry-run
drift_activity
stop_rec drift_dry_run
