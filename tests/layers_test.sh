#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The layer check passes on the tree, and fails on a copy of it with one
# upward include planted (model -> cli) and with a directory that has no row.
set -eu
src=$1
cmake -DSRC="$src" -P "$src/cmake/check_layers.cmake"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cmake"
cp "$src/cmake/layers.cmake" "$src/cmake/check_layers.cmake" "$tmp/cmake/"
cp -r "$src/user" "$tmp/user"
printf '#include "cli/commands.hpp"\n' >>"$tmp/user/model/filter.cpp"
if cmake -DSRC="$tmp" -P "$tmp/cmake/check_layers.cmake" 2>"$tmp/err"; then
  echo "planted upward include model -> cli was not caught" >&2; exit 1
fi
grep -q "user/model/filter.cpp: model may not include cli/" "$tmp/err"
cp "$src/user/model/filter.cpp" "$tmp/user/model/filter.cpp"
cmake -DSRC="$tmp" -P "$tmp/cmake/check_layers.cmake"
mkdir "$tmp/user/newlayer"
if cmake -DSRC="$tmp" -P "$tmp/cmake/check_layers.cmake" 2>"$tmp/err"; then
  echo "a layer without a row was not caught" >&2; exit 1
fi
grep -q "user/newlayer/ has no row" "$tmp/err"
echo ok
