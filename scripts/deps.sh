#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package sysctlscope needs to build, test and benchmark.
# Idempotent: only missing packages are installed, apt-get update runs only then.
#   --arch arm64: also the arm64 cross-build (scripts/build.sh --arch arm64) and
#   the arm64 rows of the kernel matrix: Debian's aarch64 cross toolchain, the
#   :arm64 libraries (dpkg multiarch: the architecture is added, apt sources are
#   left alone) and qemu-system-aarch64. Only then, so the x86_64 path stays as fast.
set -euo pipefail
arm64=0
while (($#)); do
  case $1 in
    --arch)
      case ${2:-} in
        arm64 | aarch64) arm64=1 ;;
        x86_64 | amd64) ;;
        *) echo "deps.sh: --arch takes x86_64 or arm64, not '${2:-}'" >&2; exit 2 ;;
      esac
      shift 2 ;;
    *) echo "deps.sh: unknown argument $1 (usage: $0 [--arch arm64])" >&2; exit 2 ;;
  esac
done

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
  curl gnuplot-nox linux-perf
  chromium
)
if ((arm64)); then
  # The binary's libraries (Multi-Arch: same, installed beside the amd64 ones),
  # plus what the guest's bash and bpftool need (libtinfo6, libcap2); busybox,
  # bash, coreutils and bpftool themselves are not co-installable, so
  # scripts/kernel-matrix.sh unpacks their arm64 packages in its cache instead.
  pkgs+=(
    g++-aarch64-linux-gnu qemu-system-arm
    libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libspdlog-dev:arm64 libfmt-dev:arm64
    libcpp-httplib-dev:arm64 libtinfo6:arm64 libcap2:arm64
  )
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "deps.sh: the arm64 architecture is not enabled; run as root (dpkg --add-architecture arm64)" >&2
      exit 1
    fi
    dpkg --add-architecture arm64
  fi
fi

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

# The OTLP test receiver (tests/otlp): OpenTelemetry's own protobuf root from
# npm, at the versions package-lock.json pins. Node comes from Debian unless
# a node is already on PATH.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: node and npm are missing; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
otlp_dir=$(cd "$(dirname "$0")/.." && pwd)/tests/otlp
if [[ ! -f $otlp_dir/node_modules/.package-lock.json ||
      $otlp_dir/package-lock.json -nt $otlp_dir/node_modules/.package-lock.json ]]; then
  echo "deps.sh: npm ci in tests/otlp" >&2
  (cd "$otlp_dir" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
fi
