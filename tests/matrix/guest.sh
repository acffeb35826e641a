#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Privileged end-to-end subset of sysctlscope for scripts/kernel-matrix.sh.
#
# Two phases:
#   collect (needs the kernel under test, root): kernel features, then the
#     tracer and the workloads; raw evidence goes to <out>/state, the tracers'
#     output to <out>/t1.jsonl, t2.jsonl, t3.jsonl (t3: the syscall-tracepoint
#     programs and the pre-5.15 register lookup,
#     SYSCTLSCOPE_PRETEND_MISSING=fentry,task_pt_regs), their stderr to t*.err.
#   judge (anywhere, only reads <out>): "RESULT <check> PASS|FAIL|SKIP <detail>"
#     lines into <out>/results.txt, then "DONE".
# --guest collects only (inside a QEMU guest, chrooted into the host's
# read-only /; the host judges afterwards at native speed, jq is slow under
# TCG); --native does both on the running kernel; --judge only judges.
# Only scratch network/mount namespaces are changed: no host sysctl is written.
# jq programs are single-quoted on purpose:
# shellcheck disable=SC2016
set -euo pipefail

bin="" out="" mode=native probe=""
start_timeout=${SYSCTLSCOPE_MATRIX_START_TIMEOUT:-300}
while (($#)); do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --probe) probe=$2; shift 2 ;;
    --guest) mode=guest; shift ;;
    --native) mode=native; shift ;;
    --judge) mode=judge; shift ;;
    *) echo "guest.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
usage="usage: guest.sh --out DIR (--bin PATH [--probe PATH] [--guest|--native] | --judge)"
[[ -d $out ]] || { echo "guest.sh: $usage" >&2; exit 2; }
[[ $mode == judge || -x $bin ]] || { echo "guest.sh: $usage" >&2; exit 2; }
export LC_ALL=C
s="$out/state"
log() { echo "guest.sh: [$(date +%T)] $*" >&2; }
ino() { stat -L -c %i "$1"; }

# ============================================================================
# Collect
# ============================================================================
bpf_snapshot() { # label: raw bpftool JSON of programs, links, cgroup attachments
  bpftool -j prog show >"$s/$1.prog.json" 2>/dev/null || echo '[]' >"$s/$1.prog.json"
  bpftool -j link show >"$s/$1.link.json" 2>/dev/null || echo '[]' >"$s/$1.link.json"
  bpftool -j cgroup tree >"$s/$1.cgroup.json" 2>/dev/null || echo '[]' >"$s/$1.cgroup.json"
}

tpid=""
start_tracer() { # name, extra args; returns 0 once attached
  local name=$1 t0 rc
  shift
  bpf_snapshot "$name-before"
  log "starting tracer $name: $bin trace -o json $*"
  "$bin" trace -o json "$@" >"$out/$name.jsonl" 2>"$out/$name.err" &
  tpid=$!
  t0=$SECONDS
  while ! grep -q 'Hit Ctrl-C to end' "$out/$name.err"; do
    if ! kill -0 "$tpid" 2>/dev/null; then
      wait "$tpid" && rc=0 || rc=$?
      echo "$rc" >"$s/$name.rc"
      log "tracer $name exited with $rc before attaching"
      return 1
    fi
    if ((SECONDS - t0 > start_timeout)); then
      log "tracer $name not attached after ${start_timeout}s"
      kill -INT "$tpid"; sleep 5; kill -KILL "$tpid" 2>/dev/null || true
      wait "$tpid" || true
      echo "timeout after ${start_timeout}s" >"$s/$name.rc"
      return 1
    fi
    sleep 0.5
  done
  echo $((SECONDS - t0)) >"$s/$name.attached"
  log "tracer $name attached after $((SECONDS - t0))s"
  bpf_snapshot "$name-during"
}
stop_tracer() { # name: SIGINT, records the exit status
  local name=$1 rc=0 t0
  sleep 3 # let the last events and read-backs through (TCG is slow)
  kill -INT "$tpid"
  t0=$SECONDS
  while kill -0 "$tpid" 2>/dev/null && ((SECONDS - t0 < 60)); do sleep 0.5; done
  if kill -0 "$tpid" 2>/dev/null; then
    log "tracer $name ignored SIGINT for 60s, killing it"
    kill -KILL "$tpid"
  fi
  wait "$tpid" || rc=$?
  tpid=""
  echo "$rc" >"$s/$name.rc"
  log "tracer $name exited with $rc"
}
kill_tracer() { # on an unexpected exit: never leave a tracer running (natively it would stay attached)
  [[ -n $tpid ]] && kill -0 "$tpid" 2>/dev/null || return 0
  log "collection aborted: stopping tracer $tpid"
  kill -INT "$tpid"
  for _ in $(seq 40); do kill -0 "$tpid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$tpid" 2>/dev/null || true
}
save_verifier_log() { # rerun with -v: libbpf's log, with the verifier's, for the BPF side
  log "rerunning with -v to capture the verifier log"
  timeout 300 "$bin" -v trace -o json --duration 1 >/dev/null 2>"$out/verifier.log" || true
}

enter_workload() { # state prefix, host netns inode: setns into another netns
  local p=$1 hostns=$2 hpid npid
  unshare -n sleep 120 &
  hpid=$!
  for _ in $(seq 100); do [[ $(ino /proc/$hpid/ns/net) != "$hostns" ]] && break; sleep 0.1; done
  ino /proc/$hpid/ns/net >"$s/$p.target" || true
  nsenter --net=/proc/$hpid/ns/net true &
  npid=$!
  echo "$npid" >"$s/$p.pid"
  wait "$npid" || true
  kill "$hpid" 2>/dev/null || true
  wait "$hpid" 2>/dev/null || true
}

blocked_workload() { # state prefix: a write refused by a read-only /proc/sys bind mount
  unshare -m sh -c 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 99
    echo $$ >"$1/$2.pid"
    { echo 1 >/proc/sys/net/ipv4/tcp_syncookies; } 2>"$1/$2.err"; echo $? >"$1/$2.rc"' sh "$s" "$1" ||
    log "blocked workload: mount setup failed ($?)"
}

collect() {
  rm -rf "$s"
  mkdir -p "$s"
  local tmp hostns
  tmp=$(mktemp -d /tmp/ssmatrix.XXXXXX)
  trap kill_tracer EXIT
  hostns=$(ino /proc/self/ns/net)
  echo "$hostns" >"$s/hostns"
  uname -r >"$out/uname.txt"
  log "kernel $(uname -r), mode $mode, host netns $hostns"

  # 1. Kernel features first: the BPF side needs them even if all else fails.
  {
    echo "# kernel $(uname -r) ($mode)"
    echo "# bpftool feature probe kernel"
    bpftool feature probe kernel 2>&1 || echo "# bpftool feature probe failed: $?"
    # bpftool cannot list the helpers of tracing programs (tp_btf, fentry): probed here.
    if [[ -x $probe ]]; then
      echo "# $(basename "$probe") (tracing program helpers)"
      "$probe" do_sys_openat2 ksys_unshare 2>&1 || echo "# probe failed: $?"
    fi
    echo "# BTF functions present in /sys/kernel/btf/vmlinux"
    bpftool btf dump file /sys/kernel/btf/vmlinux 2>&1 |
      grep -E "FUNC '(do_sys_openat2|do_filp_open|path_openat|do_dentry_open|ksys_unshare|__x64_sys_setns|__arm64_sys_setns|ksys_setns|copy_net_ns|setup_net)'" ||
      echo "(none of them)"
  } >"$out/features.txt"
  sync
  log "features saved"

  # 2. Tracer 1 (default read-back) while the workloads act.
  if ! start_tracer t1; then
    save_verifier_log
  else
    # b. a read of a known sysctl by a process with a distinct comm
    # cat from PATH: the arm64 guests' is not /bin/cat (an x86 program there)
    cp "$(command -v cat)" "$tmp/ssm_reader"
    "$tmp/ssm_reader" /proc/sys/net/ipv4/tcp_keepalive_time >"$s/read.out" &
    echo $! >"$s/read.pid"
    wait $! || log "read workload failed"
    # b. a write in a scratch netns; the writer stays alive so the read-back can enter its netns
    unshare -n sh -c 'echo $$ >"$1/write.pid"; stat -L -c %i /proc/self/ns/net >"$1/write.ns"
      cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/write.before"
      echo 600 >/proc/sys/net/ipv4/tcp_keepalive_time
      cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/write.after"; sleep 3' sh "$s" || log "write workload failed"
    # c. a netns birth whose workload reads every /proc/sys/net file inside it
    unshare -n sh -c 'echo $$ >"$1/birth.pid"; stat -L -c %i /proc/self/ns/net >"$1/birth.ns"
      find /proc/sys/net -type f -print0 | xargs -0 grep -a -H "" >"$1/birth.dump" 2>"$1/birth.err"; true' sh "$s" ||
      log "netns birth workload failed"
    # d. setns into another netns
    enter_workload enter "$hostns"
    # e. EROFS: /proc/sys bound read-only in a private mount namespace
    blocked_workload blocked
    # f. a valid and an invalid write (read-back results)
    unshare -n sh -c 'echo $$ >"$1/wr1.pid"; stat -L -c %i /proc/self/ns/net >"$1/wr1.ns"
      cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/wr1.before"
      echo 30 >/proc/sys/net/ipv4/tcp_keepalive_intvl
      echo abc >/proc/sys/net/ipv4/tcp_keepalive_time 2>/dev/null; echo $? >"$1/wr1.rc"
      cat /proc/sys/net/ipv4/tcp_keepalive_time >"$1/wr1.after"; sleep 3' sh "$s" || log "write results workload failed"
    stop_tracer t1

    # 3. Tracer 2: --write-results syscall
    if [[ -d /sys/kernel/tracing/events/syscalls && ! -d /sys/kernel/tracing/events/syscalls/sys_exit_write ]]; then
      echo "the kernel has no syscalls:sys_exit_write tracepoint" >"$s/t2.skip"
    elif start_tracer t2 --write-results syscall --type sysctl_write; then
      unshare -n sh -c 'echo $$ >"$1/wr2.pid"; stat -L -c %i /proc/self/ns/net >"$1/wr2.ns"
        echo 30 >/proc/sys/net/ipv4/tcp_keepalive_intvl
        echo abc >/proc/sys/net/ipv4/tcp_keepalive_time 2>/dev/null; echo $? >"$1/wr2.rc"' sh "$s" ||
        log "write results workload failed"
      stop_tracer t2
    fi

    # 4. Tracer 3: the syscall-tracepoint programs that fexit replaces where
    # trampolines attach, so both paths are proven on every kernel.
    # Without bpf_task_pt_regs() too, the open's arguments come from the
    # registers saved at the top of the kernel stack (the 5.10 path): its
    # THREAD_SIZE is proven on every kernel and architecture, not only 5.10.
    if SYSCTLSCOPE_PRETEND_MISSING=fentry,task_pt_regs start_tracer t3 --type sysctl_blocked,netns_enter; then
      enter_workload enter3 "$hostns"
      blocked_workload blocked3
      stop_tracer t3
    fi

    # 5. Tracer 4: --enforce refuses a write that breaks the policy, in a
    # scratch netns that exists when it starts (the kernel compares the
    # value, a global function).
    printf '# sysctlscope: scope=all\nnet.ipv4.tcp_keepalive_probes = 9\n' >"$tmp/enforce.conf"
    unshare -n sleep 120 &
    local holder=$!
    sleep 0.5
    if start_tracer t4 --type sysctl_write --policy "$tmp/enforce.conf" --enforce; then
      nsenter -t "$holder" -n sh -c 'echo $$ >"$1/enf.pid"; stat -L -c %i /proc/self/ns/net >"$1/enf.ns"
        echo 5 >/proc/sys/net/ipv4/tcp_keepalive_probes 2>/dev/null; echo $? >"$1/enf.bad.rc"
        echo " 9 " >/proc/sys/net/ipv4/tcp_keepalive_probes; echo $? >"$1/enf.good.rc"
        cat /proc/sys/net/ipv4/tcp_keepalive_probes >"$1/enf.after"; sleep 2' sh "$s" || log "enforce workload failed"
      stop_tracer t4
    fi
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
  fi
  # g. what is left once the tracers are gone
  sleep 1
  bpf_snapshot after
  rm -rf "$tmp"
  echo ok >"$s/collected"
  log "collected"
}

# ============================================================================
# Judge (reads only <out>; runs on the host for guests)
# ============================================================================
results="$out/results.txt"
result() { # name PASS|FAIL|SKIP detail...
  local name=$1 verdict=$2
  shift 2
  echo "RESULT $name $verdict $*" | tee -a "$results"
}
val() { cat "$s/$1" 2>/dev/null || echo "?"; }
verifier_summary() { # the maps libbpf could not create; the programs it could not load, with the verifier's verdict
  local prog
  [[ -f $out/verifier.log ]] || return 0
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
tname=t1
events() { # pid, jq condition: the events of that acting process in $tname's output
  grep -E "\"proc\":\{\"pid\": ?$1[,}]" "$out/$tname.jsonl" 2>/dev/null | jq -c "select(.proc.pid == $1 and ($2))" || true
}
check() { # name, pid, jq condition, jq program over the array of matching events: prints "ok..." or a reason
  local name=$1 pid=$2 sel=$3 prog=$4 r
  shift 4
  r=$(events "$pid" "$sel" | jq -rs "$@" "$prog" 2>&1) || r="jq failed: $r"
  if [[ $r == ok* ]]; then
    r=${r#ok}
    result "$name" PASS "${r# }"
  else
    result "$name" FAIL "$r"
  fi
}
# jq: one (lhs) == (rhs) assertion, an empty stream when it holds, else a reason.
eq() { printf '(if (%s) == (%s) then empty else "%s: got \\(%s | tojson), want \\(%s | tojson)" end)' "$1" "$2" "$1" "$1" "$2"; }
assert() { # "lhs|rhs" pairs: exactly one event, each field equal; ok with a summary of the event
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
judge_enter() { # check name, state prefix, host netns
  check "$1" "$(val "$2.pid")" '.event == "netns_enter"' "$(assert \
    '.netns|'"$(val "$2.target")" '.from_netns|'"$3" '.proc.comm|"nsenter"')"
}
judge_blocked() { # check name, state prefix, host netns
  if [[ ! -f $s/$2.pid || $(val "$2.rc") == 0 ]] || ! grep -q 'Read-only file system' "$s/$2.err"; then
    result "$1" FAIL "workload: the write was not refused with EROFS (rc $(val "$2.rc"): $(val "$2.err"))"
  else
    check "$1" "$(val "$2.pid")" '.event == "sysctl_blocked"' "$(assert \
      '.sysctl|"net.ipv4.tcp_syncookies"' '.path|"/proc/sys/net/ipv4/tcp_syncookies"' '.errno|"EROFS"' \
      '.blocked_by|"read_only_mount"' '.flags|["O_WRONLY","O_CREAT","O_TRUNC"]' '.syscall|"openat"' \
      '.cmdline[0:2]|["sh","-c"]' '.netns|'"$3")"
  fi
}
bpf_objects() { # label: "prog ID NAME", "link ID PROG", "cgroup PATH ID NAME" lines
  jq -r '.[]? | "prog \(.id) \(.name // "")"' "$s/$1.prog.json" 2>/dev/null || true
  jq -r '.[]? | "link \(.id) \(.prog_id // "")"' "$s/$1.link.json" 2>/dev/null || true
  jq -r '.[]? | .cgroup as $c | .programs[]? | "cgroup \($c) \(.id) \(.name // "")"' "$s/$1.cgroup.json" 2>/dev/null || true
}

judge() {
  : >"$results"
  local hostns c rc
  hostns=$(val hostns)
  local checks=(load read write netns_create netns_enter blocked write_results_readback write_results_syscall detach)
  if [[ ! -f $s/collected ]]; then
    log "collection did not finish: judging what there is"
  fi
  # a. load
  if [[ ! -f $s/t1.attached ]]; then
    local why
    why=$(grep -m1 -E -i 'error|fail' "$out/t1.err" 2>/dev/null || tail -n1 "$out/t1.err" 2>/dev/null || echo "no stderr")
    if [[ ! -f $s/t1.rc ]]; then why="collection stopped before the tracer ended (guest timeout?): $why"; fi
    result load FAIL "tracer did not start (exit $(val t1.rc)): ${why:0:300}$(verifier_summary)"
    for c in "${checks[@]:1}"; do
      [[ $c == detach ]] && continue
      result "$c" FAIL "not run: the tracer did not start"
    done
    local left
    left=$(bpf_objects after | grep -c -E '^prog [0-9]+ ss_|^cgroup .* ss_' || true)
    result detach FAIL "not run: the tracer did not start (ss_* programs left behind: $left)"
    echo DONE >>"$results"
    return
  fi
  rc=$(val t1.rc)
  local bad invalid n warn
  bad=$(grep -E '\[(error|critical)\]' "$out/t1.err" | head -n3 | tr '\n' ' ' || true)
  invalid=$(jq -c . "$out/t1.jsonl" >/dev/null 2>&1 && echo "" || echo "invalid JSON lines in the output;")
  n=$(wc -l <"$out/t1.jsonl")
  warn=$(grep -c '\[warning\]' "$out/t1.err" || true)
  if [[ $rc == 0 && -z $bad && -z $invalid && $n -gt 0 ]]; then
    result load PASS "attached after $(val t1.attached)s, $n events, exit 0 after SIGINT, $warn warning(s)"
  else
    result load FAIL "exit $rc after SIGINT, $n events; $invalid ${bad:+errors: $bad}"
  fi

  # b. read
  local rpid
  rpid=$(val read.pid)
  check read "$rpid" '.event == "sysctl_read"' "$(assert \
    '.sysctl|"net.ipv4.tcp_keepalive_time"' '.value|$want' '.proc.comm|"ssm_reader"' '.proc.tid|'"$rpid" \
    '.file_pos|0' '.netns|'"$hostns")" --arg want "$(val read.out)"

  # b. write
  if [[ $(val write.after) != 600 || $(val write.before) == 600 ]]; then
    result write FAIL "workload: before=$(val write.before) after=$(val write.after) (the write did not happen as planned)"
  else
    check write "$(val write.pid)" '.event == "sysctl_write"' "$(assert \
      '.sysctl|"net.ipv4.tcp_keepalive_time"' '.old_value|$before' '.value|"600"' '.result|"ok"' \
      '.result_source|"readback"' '.netns|'"$(val write.ns)" '.proc.comm|"sh"')" \
      --arg before "$(val write.before)"
  fi

  # c. netns birth defaults vs /proc/sys/net read inside that netns
  local bpid bns nfiles r
  bpid=$(val birth.pid)
  bns=$(val birth.ns)
  # path:value lines -> {path: value} (a multi-line value is joined with newlines)
  jq -R -n 'reduce (inputs | capture("^(?<p>/proc/sys/[^:]*):(?<v>.*)$")) as $l ({};
      if has($l.p) then .[$l.p] += "\n" + $l.v else .[$l.p] = $l.v end)' "$s/birth.dump" >"$s/birth.json" 2>/dev/null ||
    echo '{}' >"$s/birth.json"
  nfiles=$(jq length "$s/birth.json")
  # Namespace inodes are reused once a netns is freed: select by creator too.
  events "$bpid" ".event == \"netns_create\" and .netns == $bns" >"$s/birth.event"
  r=$(jq -rs --slurpfile f "$s/birth.json" --argjson pid "$bpid" --argjson host "$hostns" '
    if length != 1 then "expected 1 netns_create event for the netns, got \(length)" else .[0] as $x | $f[0] as $files |
    ($x.defaults // {}) as $d | ($x.unmapped // []) as $um | ($x.global // {}) as $g |
    ($x.unmapped_reasons // {}) as $ur | [ $um[] | select($ur[.] == null) ] as $noreason |
    def topath: "/proc/sys/" + (split(".") | map(gsub("/"; ".")) | join("/"));
    [ ($d, $g) | to_entries[] | {k: .key, v: .value, got: $files[.key | topath]} ] as $cmp |
    [ $cmp[] | select(.got != .v) | "\(.k): event \(.v | tojson), /proc \(.got | tojson)" ] as $mis |
    ([ $d | keys[] | topath ] + [ $g | keys[] | topath ] + [ $um[] | topath ] | map({(.): true}) | add // {}) as $known |
    [ $files | keys[] | select($known[.] | not) ] as $unacc |
    [ (if $x.via != "unshare" then "via \($x.via)" else empty end),
      (if $x.parent_netns != $host then "parent_netns \($x.parent_netns) != \($host)" else empty end),
      (if $x.proc.pid != $pid then "proc.pid \($x.proc.pid) != \($pid)" else empty end),
      (if ($cmp | length) < 20 then "only \($cmp | length) decoded defaults" else empty end),
      (if ($mis | length) > 0 then "\($mis | length) mismatch(es): \($mis | join(", "))" else empty end),
      (if ($unacc | length) > 0 then "\($unacc | length) file(s) neither in defaults nor in unmapped" else empty end),
      (if ($um | length) > 0 then "\($um | length) unmapped: \($um[0:8] | join(", "))" else empty end) ] as $bad |
    (if ($bad | length) == 0 then "ok " else "" end) +
    "compared \($cmp | length) of \($files | length) files read in the netns (\($g | length) global), \($um | length) unmapped (\($noreason | length) without a reason\(if ($noreason | length) > 0 then ": " + ($noreason[0:8] | join(", ")) else "" end)), \($unacc | length) neither decoded nor listed unmapped" +
    (if ($unacc | length) > 0 then " (\($unacc[0:5] | join(", "))\(if ($unacc | length) > 5 then ", ..." else "" end))" else "" end) +
    (if ($bad | length) > 0 then ": " + ($bad | join("; ")) else "" end)
    end' "$s/birth.event" 2>&1) || r="jq failed: $r"
  if [[ $r == ok* && $nfiles -gt 0 ]]; then result netns_create PASS "${r#ok }"; else result netns_create FAIL "$r ($nfiles files read)"; fi

  # d. setns
  judge_enter netns_enter enter "$hostns"

  # e. EROFS
  judge_blocked blocked blocked "$hostns"

  # d, e again through the syscall tracepoints (tracer 3)
  if [[ ! -f $out/t3.jsonl ]]; then
    result netns_enter_tp FAIL "not run: tracer 3 (SYSCTLSCOPE_PRETEND_MISSING=fentry,task_pt_regs) did not start"
    result blocked_tp FAIL "not run: tracer 3 (SYSCTLSCOPE_PRETEND_MISSING=fentry,task_pt_regs) did not start"
  else
    tname=t3
    judge_enter netns_enter_tp enter3 "$hostns"
    judge_blocked blocked_tp blocked3 "$hostns"
    tname=t1
  fi

  # f. write results: valid write ok, invalid write refused
  local wants='
    def want($s; $v; $res; $src): [ .[] | select(.sysctl == $s) ] as $m |
      if ($m | length) != 1 then "\($s): expected 1 event, got \($m | length)"
      elif $m[0].value != $v or $m[0].result != $res or $m[0].result_source != $src or $m[0].netns != $ns then
        "\($s): got value \($m[0].value | tojson) result \($m[0].result | tojson) source \($m[0].result_source | tojson) netns \($m[0].netns), want \($v | tojson) \($res | tojson) \($src) \($ns)"
      else empty end;'
  if [[ $(val wr1.rc) == 0 || $(val wr1.before) != "$(val wr1.after)" ]]; then
    result write_results_readback FAIL "workload: the invalid write was not refused (rc $(val wr1.rc))"
  else
    check write_results_readback "$(val wr1.pid)" '.event == "sysctl_write"' "$wants"'
      [ want("net.ipv4.tcp_keepalive_intvl"; "30"; "ok"; "readback"),
        want("net.ipv4.tcp_keepalive_time"; "abc"; "not_applied"; "readback") ] |
      if length == 0 then "ok valid: ok, invalid: not_applied" else join("; ") end' --argjson ns "$(val wr1.ns)"
  fi
  if [[ -f $s/t2.skip ]]; then
    result write_results_syscall SKIP "$(val t2.skip)"
  elif [[ ! -f $s/t2.attached ]]; then
    result write_results_syscall FAIL "tracer with --write-results syscall did not start (exit $(val t2.rc)): $(grep -m1 -i -E 'error|fail' "$out/t2.err" 2>/dev/null || tail -n1 "$out/t2.err" 2>/dev/null)"
  elif [[ $(val wr2.rc) == 0 ]]; then
    result write_results_syscall FAIL "workload: the invalid write was not refused"
  else
    tname=t2
    check write_results_syscall "$(val wr2.pid)" '.event == "sysctl_write"' "$wants"'
      [ want("net.ipv4.tcp_keepalive_intvl"; "30"; "ok"; "syscall"),
        want("net.ipv4.tcp_keepalive_time"; "abc"; "EINVAL"; "syscall"),
        (if $rc != "0" then "tracer exit \($rc)" else empty end) ] |
      if length == 0 then "ok valid: ok, invalid: EINVAL" else join("; ") end' --argjson ns "$(val wr2.ns)" --arg rc "$(val t2.rc)"
    tname=t1
  fi

  # h. --enforce: the bad write refused (EPERM), the good one (blanks around
  # the value, normalised as userspace does) let through, both reported.
  if [[ ! -f $s/t4.attached ]]; then
    result enforce FAIL "tracer with --enforce did not start (exit $(val t4.rc)): $(grep -m1 -i -E 'error|fail' "$out/t4.err" 2>/dev/null || tail -n1 "$out/t4.err" 2>/dev/null)"
  elif [[ $(val enf.bad.rc) == 0 || $(val enf.good.rc) != 0 || $(val enf.after) != 9 ]]; then
    result enforce FAIL "workload: bad write rc $(val enf.bad.rc) (want non-zero), good write rc $(val enf.good.rc), value after $(val enf.after)"
  else
    tname=t4
    check enforce "$(val enf.pid)" '.event == "sysctl_write"' '
      [ .[] | select(.sysctl == "net.ipv4.tcp_keepalive_probes") ] as $m |
      if ($m | length) != 2 then "expected 2 writes, got \($m | length)"
      elif $m[0].result != "EPERM" or $m[0].denied != true then "bad write: \($m[0] | {value, result, denied} | tojson)"
      elif $m[1].result != "ok" or ($m[1].denied // false) then "good write: \($m[1] | {value, result, denied} | tojson)"
      else "ok 5 refused (EPERM), \" 9 \" let through" end'
    tname=t1
  fi

  # g. clean detach: programs were there while attached, nothing new is left
  local leaks="" running="" t new ss_left
  bpf_objects after | sort >"$s/after.objects"
  for t in t1 t2 t4; do
    [[ -f $s/$t.attached ]] || continue
    new=$(comm -13 <(bpf_objects "$t-before" | sort) "$s/after.objects" | tr '\n' ';')
    [[ -n $new ]] && leaks+="left after $t: $new "
    running+="$t: $(bpf_objects "$t-during" | grep -c '^prog [0-9]* ss_' || true) ss_* progs while attached; "
  done
  # ss_* objects that were not there before tracer 1: natively another
  # sysctlscope (a peer's, a deployment) may run all along.
  ss_left=$(comm -13 <(bpf_objects t1-before | sort) "$s/after.objects" |
    grep -c -E '^prog [0-9]+ ss_|^cgroup .* ss_' || true)
  if [[ -z $leaks && $ss_left == 0 && $running != *": 0 ss_"* && -f $s/collected ]]; then
    result detach PASS "${running}none left in prog/link/cgroup tree after exit"
  else
    result detach FAIL "${running}${leaks}${ss_left} ss_* progs/attachments left$([[ -f $s/collected ]] || echo '; collection did not finish')"
  fi
  echo DONE >>"$results"
}

case $mode in
  guest) collect ;;
  native) collect; judge ;;
  judge) judge ;;
esac
