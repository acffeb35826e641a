#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes bpf/vmlinux/<arch>/vmlinux.h from a Debian kernel image package's BTF,
# for an architecture this machine does not run (the running kernel's BTF is
# /sys/kernel/btf/vmlinux). Debian's arm64 vmlinuz is a raw Image with no
# System.map, so the .BTF blob is found by its header (magic 0xeb9f, version 1,
# 24-byte header, types then strings) and handed to bpftool.
#   scripts/vmlinux-h.sh linux-image-6.12.N+debN-arm64-unsigned_..._arm64.deb arm64
set -euo pipefail
deb=${1:?usage: $0 KERNEL_PACKAGE.deb ARCH}
arch=${2:?usage: $0 KERNEL_PACKAGE.deb ARCH}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/pkg"
image=$(ls "$tmp"/pkg/boot/vmlinuz-*)
kv=${image##*/vmlinuz-}
# A gzip'd image (magic 1f 8b) is unpacked; arm64's is usually a raw Image.
if [[ $(od -An -tx1 -N2 "$image" | tr -d ' ') == 1f8b ]]; then
  gzip -dc "$image" >"$tmp/Image"
else
  cp "$image" "$tmp/Image"
fi
python3 - "$tmp/Image" "$tmp/vmlinux.btf" <<'PY'
import re, struct, sys
data = open(sys.argv[1], "rb").read()
best = None
for m in re.finditer(rb"\x9f\xeb\x01\x00\x18\x00\x00\x00\x00\x00\x00\x00", data):
    _, _, _, hdr, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, m.start())
    size = hdr + str_off + str_len
    if str_off == type_len and m.start() + size <= len(data) and (best is None or size > best[1]):
        best = (m.start(), size)
if best is None:
    sys.exit("vmlinux-h: no BTF blob in the image (CONFIG_DEBUG_INFO_BTF off?)")
open(sys.argv[2], "wb").write(data[best[0]:best[0] + best[1]])
PY
mkdir -p "$here/bpf/vmlinux/$arch"
out="$here/bpf/vmlinux/$arch/vmlinux.h"
{
  echo "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */"
  echo "/* The kernel's types for CO-RE, generated once (Linux $kv, $arch, Debian package"
  echo " * $(basename "$deb")) by:"
  echo " *   scripts/vmlinux-h.sh PACKAGE.deb $arch   (bpftool btf dump of the image's .BTF)"
  echo " * CO-RE relocates every field access against the running kernel's BTF, so"
  echo " * one copy serves every kernel; regenerate only to use newer types. */"
  bpftool btf dump file "$tmp/vmlinux.btf" format c
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "vmlinux-h: $out from $kv ($(wc -l <"$out") lines)"
