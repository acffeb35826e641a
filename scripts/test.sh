#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the whole suite: unit tests (also under ASan+UBSan), then the
# privileged integration and runc end-to-end tests against the real kernel,
# then the real-kernel matrix in QEMU (scripts/kernel-matrix.sh).
# Must run as root. Fails if any privileged test was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the privileged tests need root: sudo $0" >&2
  exit 1
fi
./scripts/build.sh
# The arm64 build (cross-compiled) for the matrix's arm64 rows.
./scripts/build.sh --arch arm64

echo "== unit tests (ASan+UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSYSCTLSCOPE_SANITIZE=ON \
  -DSYSCTLSCOPE_BENCH=OFF -DSYSCTLSCOPE_WERROR=ON >/dev/null
cmake --build build-asan --target unit_tests sysctlscope
(cd build-asan && ctest -L unit --output-on-failure -j2)

echo "== container runtimes (containerd, dockerd, podman) for the end-to-end tests"
./scripts/runtimes.sh start
trap './scripts/runtimes.sh stop' EXIT

echo "== all tests (unit, privileged integration, runc/Docker/Podman/containerd e2e)"
log=$(mktemp)
set +e
(cd build && ctest --output-on-failure --timeout 600) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
priv=$(cd build && ctest -N -L privileged | sed -n 's/^Total Tests: //p')
skipped=$(grep -c -E '\*\*\*Skipped|Not Run' "$log" || true)
echo "privileged tests: ${priv:-0} run, ${skipped} skipped"
rm -f "$log"
if [[ $rc -ne 0 ]]; then exit "$rc"; fi
if [[ ${skipped} -ne 0 ]]; then
  echo "test.sh: privileged tests were skipped: not a pass" >&2
  exit 1
fi

# Real kernels in QEMU (TCG): Linux 5.10, 6.1, 6.12 and this host, each with
# the privileged end-to-end subset of tests/matrix/guest.sh, then the arm64
# build on Debian's arm64 5.10, 6.1 and 6.12 (qemu-system-aarch64). See docs/kernel-matrix.md.
echo "== kernel matrix (QEMU: Debian 5.10, 6.1, 6.12; native; arm64 5.10, 6.1, 6.12)"
./scripts/kernel-matrix.sh --bin build/sysctlscope --bin-arm64 build-arm64/sysctlscope
