#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package sysctlscope needs to build, test and benchmark.
# Idempotent: only missing packages are installed, apt-get update runs only then.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config git ccache
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libclang-rt-14-dev
  runc busybox-static iproute2 procps util-linux jq bpftrace
  python3
  qemu-system-x86 kmod xz-utils zstd
  docker.io podman containerd
  prometheus python3-kubernetes python3-yaml binutils
  chromium
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
