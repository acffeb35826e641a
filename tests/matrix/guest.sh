#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Privileged end-to-end subset of sysctlscope, run inside each guest of
# scripts/kernel-matrix.sh (chrooted into the host's read-only /), or natively
# (--native). Writes to --out: uname.txt, features.txt, results.txt
# ("RESULT <check> PASS|FAIL|SKIP <detail>" lines, then "DONE"), the tracers'
# output and, when the tool fails to start, verifier.log (its -v output).
# Only scratch network/mount namespaces are changed: no host sysctl is written.
# jq programs are single-quoted on purpose:
# shellcheck disable=SC2016
set -euo pipefail

bin="" out="" mode=native
start_timeout=${SYSCTLSCOPE_MATRIX_START_TIMEOUT:-300}
while (($#)); do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --guest) mode=guest; shift ;;
    --native) mode=native; shift ;;
    *) echo "guest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x $bin && -d $out ]] || { echo "guest.sh: usage: guest.sh --bin PATH --out DIR [--guest|--native]" >&2; exit 2; }
export LC_ALL=C
w=$(mktemp -d /tmp/ssmatrix.XXXXXX)
results="$out/results.txt"
: >"$results"
log() { echo "guest.sh: [$(date +%T)] $*" >&2; }
result() { # name PASS|FAIL|SKIP detail...
  local name=$1 verdict=$2
  shift 2
  echo "RESULT $name $verdict $*" | tee -a "$results"
}
ino() { stat -L -c %i "$1"; }
hostns=$(ino /proc/self/ns/net)

# --- 1. Kernel features first: the BPF side needs them even if all else fails.
uname -r >"$out/uname.txt"
log "kernel $(uname -r), mode $mode, host netns $hostns"
{
  echo "# kernel $(uname -r) ($mode)"
  echo "# bpftool feature probe kernel"
  bpftool feature probe kernel 2>&1 || echo "# bpftool feature probe failed: $?"
  echo "# BTF functions present in /sys/kernel/btf/vmlinux"
  bpftool btf dump file /sys/kernel/btf/vmlinux 2>&1 |
    grep -E "FUNC '(do_sys_openat2|do_filp_open|path_openat|do_dentry_open|ksys_unshare|__x64_sys_setns|ksys_setns|copy_net_ns|setup_net)'" ||
    echo "(none of them)"
} >"$out/features.txt"
sync
log "features saved"

# --- Helpers ------------------------------------------------------------------
bpf_state() { # prog ids, link ids, cgroup attachments (prog ids) as "kind id" lines
  bpftool -j prog show 2>/dev/null | jq -r '.[] | "prog \(.id) \(.name // "")"' || true
  bpftool -j link show 2>/dev/null | jq -r '.[] | "link \(.id) \(.prog_id // "")"' || true
  bpftool -j cgroup tree 2>/dev/null | jq -r '.[]? | .cgroup as $c | .programs[]? | "cgroup \($c) \(.id) \(.name // "")"' || true
}
ss_progs_running() { bpftool -j prog show 2>/dev/null | jq '[.[] | select((.name // "") | startswith("ss_"))] | length'; }

tpid="" tname=""
start_tracer() { # name, extra args; returns 0 once attached
  tname=$1
  shift
  bpf_state | sort >"$w/$tname.bpf-before"
  log "starting tracer $tname: $bin trace -o json $*"
  "$bin" trace -o json "$@" >"$out/$tname.jsonl" 2>"$out/$tname.err" &
  tpid=$!
  local t0=$SECONDS
  while ! grep -q 'Hit Ctrl-C to end' "$out/$tname.err"; do
    if ! kill -0 "$tpid" 2>/dev/null; then
      wait "$tpid" && rc=0 || rc=$?
      echo "$rc" >"$w/$tname.rc"
      tpid=""
      log "tracer $tname exited with $rc before attaching"
      return 1
    fi
    if ((SECONDS - t0 > start_timeout)); then
      log "tracer $tname not attached after ${start_timeout}s"
      kill -INT "$tpid"; sleep 5; kill -KILL "$tpid" 2>/dev/null || true
      wait "$tpid" || true
      echo timeout >"$w/$tname.rc"
      tpid=""
      return 1
    fi
    sleep 0.5
  done
  log "tracer $tname attached after $((SECONDS - t0))s"
  ss_progs_running >"$w/$tname.ss-running"
}
stop_tracer() { # records the exit status in $w/<name>.rc
  local rc=0
  sleep 3 # let the last events and read-backs through (TCG is slow)
  kill -INT "$tpid"
  local t0=$SECONDS
  while kill -0 "$tpid" 2>/dev/null && ((SECONDS - t0 < 60)); do sleep 0.5; done
  kill -0 "$tpid" 2>/dev/null && { log "tracer $tname ignored SIGINT for 60s, killing it"; kill -KILL "$tpid"; }
  wait "$tpid" || rc=$?
  echo "$rc" >"$w/$tname.rc"
  log "tracer $tname exited with $rc"
  tpid=""
}
save_verifier_log() { # rerun with -v so libbpf's verifier log is kept
  log "rerunning with -v to capture the verifier log"
  timeout 300 "$bin" -v trace -o json --duration 1 >/dev/null 2>"$out/verifier.log" || true
}
verifier_summary() { # the maps libbpf could not create; the programs it could not load, with the verifier's verdict
  local prog
  sed -n "s/.*libbpf: map '\([^']*\)': failed to create: \(.*\)/ | map \1: failed to create: \2/p" "$out/verifier.log" |
    sort -u | tr -d '\n'
  while read -r prog; do
    printf ' | %s: %s' "$prog" "$(awk -v p="prog '$prog': -- BEGIN" '
      index($0, p) { inlog = 1; n = 0; next }
      inlog && /-- END PROG LOAD LOG --/ { inlog = 0 }
      inlog && !/^processed [0-9]+ insns/ { last[n++ % 2] = $0 }
      END { if (n > 1) printf "%s / ", last[(n - 2) % 2]; if (n > 0) print last[(n - 1) % 2] }' "$out/verifier.log" | cut -c1-300)"
  done < <(sed -n "s/.*libbpf: prog '\([^']*\)': failed to load.*/\1/p" "$out/verifier.log" | sort -u)
}
events() { # pid, jq condition: the tracer's events of that acting process (grep first: jq is slow under TCG)
  grep -E "\"proc\":\{\"pid\": ?$1[,}]" "$out/$tname.jsonl" | jq -c "select(.proc.pid == $1 and ($2))" || true
}
check() { # name, pid, jq condition, jq program over the array of matching events: prints "ok..." or a reason
  local name=$1 pid=$2 sel=$3 prog=$4
  shift 4
  local r
  r=$(events "$pid" "$sel" | jq -rs "$@" "$prog" 2>&1) || r="jq failed: $r"
  if [[ $r == ok* ]]; then result "$name" PASS "${r#ok}"; else result "$name" FAIL "$r"; fi
}
# jq: one (lhs) == (rhs) assertion, an empty stream when it holds, else a reason.
eq() { printf '(if (%s) == (%s) then empty else "%s: got \\(%s | tojson), want \\(%s | tojson)" end)' "$1" "$2" "$1" "$1" "$2"; }
assert() { # builds: one event, each "lhs|rhs" pair equal
  local p=". as \$all | [ if length != 1 then \"expected 1 matching event, got \\(length): \\(tostring | .[0:600])\" else .[0] as \$x | "
  local first=1 pair
  for pair in "$@"; do
    ((first)) || p+=", "
    first=0
    p+=$(eq "\$x${pair%%|*}" "${pair#*|}")
  done
  p+=" end ] | if length == 0 then \"ok \\(\$all[0] | {pid: .proc.pid, comm: .proc.comm, sysctl, value, old_value, result, netns, from_netns, errno, blocked_by} | with_entries(select(.value != null)) | tojson)\" else join(\"; \") end"
  echo "$p"
}

# --- 2. Tracer 1 (default read-back): load, reads, writes, births, setns, blocked
checks_t1=(load read write netns_create netns_enter blocked write_results_readback)
if ! start_tracer t1; then
  tail -n 20 "$out/t1.err" | sed 's/^/  t1 stderr: /' >&2
  why=$(grep -m1 -E -i 'error|fail' "$out/t1.err" || tail -n1 "$out/t1.err")
  save_verifier_log
  result load FAIL "tracer did not start (exit $(cat "$w/t1.rc")): ${why:0:300}$(verifier_summary)"
  for c in "${checks_t1[@]:1}" write_results_syscall; do result "$c" FAIL "not run: the tracer did not start"; done
  t1_started=0
else
  t1_started=1
  # b. a read of a known sysctl by a known process (distinct comm)
  cp /bin/cat "$w/ssm_reader"
  "$w/ssm_reader" /proc/sys/net/ipv4/tcp_keepalive_time >"$w/read.out" &
  rpid=$!
  wait "$rpid"
  # b. a write in a scratch netns; the writer stays alive so the read-back can enter its netns
  # shellcheck disable=SC2016
  unshare -n sh -c 'echo $$ >"$1/write.pid"; stat -L -c %i /proc/self/ns/net >"$1/write.ns"
    cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/write.before"
    echo 600 >/proc/sys/net/ipv4/tcp_keepalive_time
    cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/write.after"; sleep 3' sh "$w"
  # c. a netns birth whose workload reads every /proc/sys/net file inside it
  # shellcheck disable=SC2016
  unshare -n sh -c 'echo $$ >"$1/birth.pid"; stat -L -c %i /proc/self/ns/net >"$1/birth.ns"
    find /proc/sys/net -type f -print0 | xargs -0 grep -a -H "" >"$1/birth.dump" 2>"$1/birth.err"; true' sh "$w"
  # d. setns into another netns
  unshare -n sleep 120 &
  hpid=$!
  for _ in $(seq 100); do [[ $(ino /proc/$hpid/ns/net) != "$hostns" ]] && break; sleep 0.1; done
  target=$(ino /proc/$hpid/ns/net)
  nsenter --net=/proc/$hpid/ns/net true &
  npid=$!
  wait "$npid"
  kill "$hpid"; wait "$hpid" 2>/dev/null || true
  # e. EROFS: /proc/sys bound read-only in a private mount namespace
  # shellcheck disable=SC2016
  unshare -m sh -c 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 99
    echo $$ >"$1/blocked.pid"
    { echo 1 >/proc/sys/net/ipv4/tcp_syncookies; } 2>"$1/blocked.err"; echo $? >"$1/blocked.rc"' sh "$w" ||
    log "blocked workload: mount setup failed ($?)"
  # f. a valid and an invalid write (read-back results)
  # shellcheck disable=SC2016
  unshare -n sh -c 'echo $$ >"$1/wr1.pid"; stat -L -c %i /proc/self/ns/net >"$1/wr1.ns"
    cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/wr1.before"
    echo 30 >/proc/sys/net/ipv4/tcp_keepalive_intvl
    echo abc >/proc/sys/net/ipv4/tcp_keepalive_time 2>/dev/null; echo $? >"$1/wr1.rc"
    cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/wr1.after"; sleep 3' sh "$w"
  stop_tracer
fi

if ((t1_started)); then
  # a. load/attach/exit
  rc=$(cat "$w/t1.rc")
  bad=$(grep -E '\[(error|critical)\]' "$out/t1.err" | head -n3 | tr '\n' ' ' || true)
  invalid=$(jq -c . "$out/t1.jsonl" >/dev/null 2>&1 && echo "" || echo "invalid JSON lines in output")
  n=$(wc -l <"$out/t1.jsonl")
  warn=$(grep -c '\[warning\]' "$out/t1.err" || true)
  if [[ $rc == 0 && -z $bad && -z $invalid && $n -gt 0 ]]; then
    result load PASS "attached, $n events, exit 0 after SIGINT, $warn warning(s)"
  else
    result load FAIL "exit $rc after SIGINT, $n events ${invalid} ${bad:+errors: $bad}"
  fi

  # b. read
  want=$(cat "$w/read.out")
  check read "$rpid" '.event == "sysctl_read"' "$(assert \
    '.sysctl|"net.ipv4.tcp_keepalive_time"' '.value|$want' '.proc.comm|"ssm_reader"' '.proc.tid|'"$rpid" \
    '.file_pos|0' '.netns|'"$hostns")" --arg want "$want"
  # b. write
  wpid=$(cat "$w/write.pid")
  if [[ $(cat "$w/write.after") != 600 || $(cat "$w/write.before") == 600 ]]; then
    result write FAIL "workload: before=$(cat "$w/write.before") after=$(cat "$w/write.after") (the write did not happen as planned)"
  else
    check write "$wpid" '.event == "sysctl_write"' "$(assert \
      '.sysctl|"net.ipv4.tcp_keepalive_time"' '.old_value|$before' '.value|"600"' '.result|"ok"' \
      '.result_source|"readback"' '.netns|'"$(cat "$w/write.ns")" '.proc.comm|"sh"')" \
      --arg before "$(cat "$w/write.before")"
  fi

  # c. netns birth defaults vs /proc/sys/net read inside that netns
  bpid=$(cat "$w/birth.pid")
  bns=$(cat "$w/birth.ns")
  # path:value lines -> {path: value} (a multi-line value is joined with newlines)
  jq -R -n 'reduce (inputs | capture("^(?<p>/proc/sys/[^:]*):(?<v>.*)$")) as $l ({};
      if has($l.p) then .[$l.p] += "\n" + $l.v else .[$l.p] = $l.v end)' "$w/birth.dump" >"$w/birth.json"
  nfiles=$(jq length "$w/birth.json")
  # Namespace inodes are reused once a netns is freed: select by creator too.
  events "$bpid" ".event == \"netns_create\" and .netns == $bns" >"$w/birth.event"
  r=$(jq -rs --slurpfile f "$w/birth.json" --argjson pid "$bpid" --argjson host "$hostns" '
    if length != 1 then "expected 1 netns_create event for the netns, got \(length)" else .[0] as $x | $f[0] as $files |
    ($x.defaults // {}) as $d | ($x.unmapped // []) as $um |
    def topath: "/proc/sys/" + (split(".") | map(gsub("/"; ".")) | join("/"));
    [ $d | to_entries[] | {k: .key, v: .value, got: $files[.key | topath]} ] as $cmp |
    [ $cmp[] | select(.got != .v) | "\(.k): event \(.v | tojson), /proc \(.got | tojson)" ] as $mis |
    ([ $d | keys[] | topath ] + [ $um[] | topath ] | map({(.): true}) | add // {}) as $known |
    [ $files | keys[] | select($known[.] | not) ] as $unacc |
    [ (if $x.via != "unshare" then "via \($x.via)" else empty end),
      (if $x.parent_netns != $host then "parent_netns \($x.parent_netns) != \($host)" else empty end),
      (if $x.proc.pid != $pid then "proc.pid \($x.proc.pid) != \($pid)" else empty end),
      (if ($cmp | length) < 20 then "only \($cmp | length) decoded defaults" else empty end),
      (if ($mis | length) > 0 then "\($mis | length) mismatch(es): \($mis | join(", "))" else empty end) ] as $bad |
    (if ($unacc | length) > 0 then ["\($unacc | length) file(s) neither in defaults nor in unmapped"] else [] end) as $bad2 | ($bad + $bad2) as $bad |
    (if ($bad | length) == 0 then "ok" else "" end) +
    " compared \($cmp | length) of \($files | length) files read in the netns, \($um | length) unmapped, \($unacc | length) neither decoded nor listed unmapped" +
    (if ($unacc | length) > 0 then " (\($unacc[0:5] | join(", "))\(if ($unacc | length) > 5 then ", ..." else "" end))" else "" end) +
    (if ($bad | length) > 0 then ": " + ($bad | join("; ")) else "" end)
    end' "$w/birth.event" 2>&1) || r="jq failed: $r"
  if [[ $r == ok* && $nfiles -gt 0 ]]; then result netns_create PASS "${r#ok}"; else result netns_create FAIL "${r# } ($nfiles files read)"; fi

  # d. setns
  check netns_enter "$npid" '.event == "netns_enter"' "$(assert \
    '.netns|'"$target" '.from_netns|'"$hostns" '.proc.comm|"nsenter"')"

  # e. EROFS
  if [[ ! -f $w/blocked.pid ]] || [[ $(cat "$w/blocked.rc" 2>/dev/null) == 0 ]] || ! grep -q 'Read-only file system' "$w/blocked.err"; then
    result blocked FAIL "workload: the write was not refused with EROFS (rc $(cat "$w/blocked.rc" 2>/dev/null || echo none): $(cat "$w/blocked.err" 2>/dev/null))"
  else
    epid=$(cat "$w/blocked.pid")
    check blocked "$epid" '.event == "sysctl_blocked"' "$(assert \
      '.sysctl|"net.ipv4.tcp_syncookies"' '.path|"/proc/sys/net/ipv4/tcp_syncookies"' '.errno|"EROFS"' \
      '.blocked_by|"read_only_mount"' '.flags|["O_WRONLY","O_CREAT","O_TRUNC"]' '.syscall|"openat"' \
      '.cmdline[0:2]|["sh","-c"]' '.netns|'"$hostns")"
  fi

  # f. read-back results: valid write ok, invalid write not_applied
  f1pid=$(cat "$w/wr1.pid")
  if [[ $(cat "$w/wr1.rc") == 0 || $(cat "$w/wr1.before") != "$(cat "$w/wr1.after")" ]]; then
    result write_results_readback FAIL "workload: the invalid write was not refused (rc $(cat "$w/wr1.rc"))"
  else
    check write_results_readback "$f1pid" '.event == "sysctl_write"' '
      def want($s; $v; $res): [ .[] | select(.sysctl == $s) ] as $m |
        if ($m | length) != 1 then "\($s): expected 1 event, got \($m | length)"
        elif $m[0].value != $v or $m[0].result != $res or $m[0].result_source != "readback" then
          "\($s): got value \($m[0].value | tojson) result \($m[0].result | tojson) source \($m[0].result_source | tojson), want \($v | tojson) \($res | tojson) readback"
        else empty end;
      [ want("net.ipv4.tcp_keepalive_intvl"; "30"; "ok"), want("net.ipv4.tcp_keepalive_time"; "abc"; "not_applied"),
        (.[] | select(.netns != $ns) | "netns \(.netns) != \($ns)") ] |
      if length == 0 then "ok valid: ok, invalid: not_applied" else join("; ") end' --argjson ns "$(cat "$w/wr1.ns")"
  fi
fi

# --- 3. Tracer 2: --write-results syscall ----------------------------------
if ((t1_started)); then
  if [[ -d /sys/kernel/tracing/events/syscalls && ! -d /sys/kernel/tracing/events/syscalls/sys_exit_write ]]; then
    result write_results_syscall SKIP "the kernel has no syscalls:sys_exit_write tracepoint"
  elif ! start_tracer t2 --write-results syscall --type sysctl_write; then
    result write_results_syscall FAIL "tracer with --write-results syscall did not start: $(grep -m1 -i -E 'error|fail' "$out/t2.err" || tail -n1 "$out/t2.err")"
  else
    # shellcheck disable=SC2016
    unshare -n sh -c 'echo $$ >"$1/wr2.pid"; stat -L -c %i /proc/self/ns/net >"$1/wr2.ns"
      echo 30 >/proc/sys/net/ipv4/tcp_keepalive_intvl
      echo abc >/proc/sys/net/ipv4/tcp_keepalive_time 2>/dev/null; echo $? >"$1/wr2.rc"' sh "$w"
    stop_tracer
    f2pid=$(cat "$w/wr2.pid")
    rc=$(cat "$w/t2.rc")
    check write_results_syscall "$f2pid" '.event == "sysctl_write"' '
      def want($s; $v; $res): [ .[] | select(.sysctl == $s) ] as $m |
        if ($m | length) != 1 then "\($s): expected 1 event, got \($m | length)"
        elif $m[0].value != $v or $m[0].result != $res or $m[0].result_source != "syscall" then
          "\($s): got value \($m[0].value | tojson) result \($m[0].result | tojson) source \($m[0].result_source | tojson), want \($v | tojson) \($res | tojson) syscall"
        else empty end;
      [ want("net.ipv4.tcp_keepalive_intvl"; "30"; "ok"), want("net.ipv4.tcp_keepalive_time"; "abc"; "EINVAL"),
        (if $rc != "0" then "tracer exit \($rc)" else empty end) ] |
      if length == 0 then "ok valid: ok, invalid: EINVAL" else join("; ") end' --arg rc "$rc"
  fi
fi

# --- g. Clean detach: nothing of ours left after the tracers exited ----------
sleep 1
bpf_state | sort >"$w/bpf-after"
leaks=""
running=""
for t in t1 t2; do
  [[ -f $w/$t.bpf-before ]] || continue
  new=$(comm -13 "$w/$t.bpf-before" "$w/bpf-after" | tr '\n' ';')
  [[ -n $new ]] && leaks+="after $t: $new "
  [[ -f $w/$t.ss-running ]] && running+="$t: $(cat "$w/$t.ss-running") ss_* progs while attached; "
done
ss_left=$(grep -c -E '^prog [0-9]+ ss_|^cgroup .* ss_' "$w/bpf-after" || true)
if ((!t1_started)); then
  result detach FAIL "not run: the tracer did not start (left behind: $ss_left ss_* progs/attachments, ${leaks:-no new BPF objects})"
elif [[ -z $leaks && $ss_left == 0 && $running != *": 0 ss_"* ]]; then
  result detach PASS "${running}none left in prog/link/cgroup tree after exit"
else
  result detach FAIL "${running}${leaks}${ss_left} ss_* progs/attachments left"
fi

echo DONE >>"$results"
log "done"
rm -rf "$w"
