// SPDX-License-Identifier: Apache-2.0
// Which BPF helpers programs of type tracing (tp_btf, fentry) may call on the
// running kernel. bpftool feature probe cannot tell ("Could not determine
// which helpers are available": a tracing program needs an attach target), so
// this loads, for each helper id, "call helper; r0 = 0; exit" attached (at
// load time only, nothing is attached) to tp_btf/sched_process_fork and to
// fentry/<first traceable function given>, and reads the verifier's verdict
// the way bpftool does: "unknown func" / "invalid func" / "cannot use helper"
// means unavailable; any other rejection (argument types) means available.
// Output follows bpftool's format. Used by tests/matrix/guest.sh.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NAME_FN(x) #x
static const char* const helper_names[] = {__BPF_FUNC_MAPPER(NAME_FN)};
#define N_KNOWN ((int)(sizeof(helper_names) / sizeof(helper_names[0])))
// Helpers newer than the uapi header we build with (Debian 12: 6.1) are
// probed by number; the ones known to exist are named here.
#define N_PROBE (N_KNOWN + 16)
static const char* newer_name(int id) {
  switch (id) {
    case 210: return "cgrp_storage_get"; // Linux 6.2
    case 211: return "cgrp_storage_delete"; // Linux 6.2
    default: return NULL;
  }
}

static int silent(enum libbpf_print_level level, const char* fmt, va_list ap) {
  (void)level; (void)fmt; (void)ap;
  return 0;
}

static char log_buf[1 << 16];

// 1: available, 0: not, -1: could not tell (the log names no helper verdict).
static int probe(enum bpf_attach_type type, int btf_id, int helper) {
  struct bpf_insn insns[] = {
      {.code = BPF_JMP | BPF_CALL, .imm = helper},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type, .attach_btf_id = btf_id,
              .log_buf = log_buf, .log_size = sizeof(log_buf), .log_level = 1);
  log_buf[0] = 0;
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 3, &opts);
  if (fd >= 0) {
    close(fd);
    return 1;
  }
  if (strstr(log_buf, "unknown func ") || strstr(log_buf, "invalid func ") ||
      strstr(log_buf, "cannot use helper"))
    return 0;
  return log_buf[0] ? 1 : -1;
}

static void probe_all(const char* label, enum bpf_attach_type type, const char* target) {
  int id = libbpf_find_vmlinux_btf_id(target, type);
  printf("eBPF helpers supported for program type tracing (%s/%s):\n", label, target);
  if (id < 0) {
    printf("\tCould not find %s in the kernel's BTF: %s\n", target, strerror(-id));
    return;
  }
  int unknown = 0;
  for (int h = 1; h < N_PROBE; h++) {
    int r = probe(type, id, h);
    if (r < 0) {
      unknown++;
      continue;
    }
    if (!r) continue;
    if (h < N_KNOWN)
      printf("\t- bpf_%s\n", helper_names[h]);
    else if (newer_name(h) && h >= N_KNOWN)
      printf("\t- bpf_%s\n", newer_name(h));
    else
      printf("\t- helper #%d (newer than this probe's headers)\n", h);
  }
  if (unknown) printf("\t(%d helper ids gave no verdict: %s)\n", unknown, strerror(errno));
}

int main(int argc, char** argv) {
  libbpf_set_print(silent);
  probe_all("tp_btf", BPF_TRACE_RAW_TP, "sched_process_fork");
  for (int i = 1; i < argc; i++) {
    if (libbpf_find_vmlinux_btf_id(argv[i], BPF_TRACE_FENTRY) >= 0) {
      probe_all("fentry", BPF_TRACE_FENTRY, argv[i]);
      break;
    }
  }
  return 0;
}
