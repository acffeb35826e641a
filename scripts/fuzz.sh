#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the recording-reader fuzzer with clang in its own build dir and runs
# it for a bounded time (default 25 s). Usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS]
# Registered in ctest (label "fuzz") by tests/CMakeLists.txt.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${1:-$src/build/fuzz}")
secs=${2:-25}
cxx=$(command -v clang++ || command -v clang++-14)
cmake -S "$src/fuzz" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$dir" -j2
# Work on a copy: findings stay out of the source tree; crashes land in $dir.
corpus="$dir/corpus"
mkdir -p "$corpus"
cp -n "$src"/fuzz/corpus/* "$corpus"/
cd "$dir"
exec ./reader_fuzz -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$src/fuzz/reader.dict" -print_final_stats=1 "$corpus"
