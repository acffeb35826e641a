#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages we need (once) and builds everything into ./build.
#   --arch arm64: cross-builds the tool (no tests, no benchmarks: they would not
#   run here) into ./build-arm64 with Debian's aarch64 cross toolchain and :arm64
#   libraries (cmake/aarch64-linux-gnu.cmake); scripts/kernel-matrix.sh boots it
#   on Debian's arm64 kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=""
while (($#)); do
  case $1 in
    --arch) arch=${2:?--arch needs x86_64 or arm64}; shift 2 ;;
    *) echo "build.sh: unknown argument $1 (usage: $0 [--arch arm64])" >&2; exit 2 ;;
  esac
done
case $arch in
  "" | x86_64 | amd64)
    ./scripts/deps.sh
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCTLSCOPE_WERROR=ON >/dev/null
    cmake --build build ;;
  arm64 | aarch64)
    ./scripts/deps.sh --arch arm64
    cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCTLSCOPE_WERROR=ON \
      -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
      -DSYSCTLSCOPE_TESTS=OFF -DSYSCTLSCOPE_BENCH=OFF >/dev/null
    cmake --build build-arm64 --target sysctlscope ;;
  *) echo "build.sh: unknown architecture $arch (x86_64 or arm64)" >&2; exit 2 ;;
esac
