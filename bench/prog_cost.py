#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-program BPF cost while a command runs: average ns per run of every
sysctlscope (ss_*) and floor program, from the kernel's own run-time
statistics. Statistics are switched on with the BPF_ENABLE_STATS command,
which lasts as long as the returned fd is open: no sysctl is changed
(kernel.bpf_stats_enabled stays as it is).

    sudo bench/prog_cost.py build/bench/loadgen read-pread 200000

Start the tracer first (e.g. `sysctlscope trace -o json > /dev/null &`).
The figures include the statistics' own cost (two clock reads per run, tens
of ns on this VM): compare variants with each other, not with loadgen.
"""
import ctypes
import json
import subprocess
import sys

BPF_ENABLE_STATS = 32  # enum bpf_cmd
BPF_STATS_RUN_TIME = 0
SYS_BPF = {"x86_64": 321, "aarch64": 280}


def enable_stats():
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(128)  # union bpf_attr, zeroed
    ctypes.memmove(attr, (ctypes.c_uint32 * 1)(BPF_STATS_RUN_TIME), 4)
    fd = libc.syscall(SYS_BPF[platform.machine()], BPF_ENABLE_STATS, attr, 128)
    if fd < 0:
        sys.exit(f"prog_cost: BPF_ENABLE_STATS failed (errno {ctypes.get_errno()})")
    return fd  # kept open until exit


def snapshot():
    progs = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))
    return {p["id"]: (p.get("name", ""), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in progs if p.get("name", "").startswith(("ss_", "floor"))}


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: prog_cost.py COMMAND [ARGS...]")
    enable_stats()
    before = snapshot()
    rc = subprocess.run(sys.argv[1:]).returncode
    after = snapshot()
    for pid, (name, t, n) in sorted(after.items()):
        _, t0, n0 = before.get(pid, (name, 0, 0))
        if n > n0:
            print(f"{name} (id {pid}): {n - n0} runs, {(t - t0) / (n - n0):.0f} ns/run")
    return rc


if __name__ == "__main__":
    sys.exit(main())
