#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The layer check passes on the tree, and fails on a copy of it with one
# upward include planted (model -> cli), a "../" include, a cycle in the
# table and a directory that has no row. With a build directory, also the
# compiler's side: a model source compiled as the build compiles it
# (compile_commands.json) cannot even find a cli/ or pipeline/ header, and
# finds its own row's.
# Usage: layers_test.sh SOURCE_DIR [BUILD_DIR]
set -eu
src=$1
build=${2:-}
cmake -DSRC="$src" -P "$src/cmake/check_layers.cmake"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cmake"
cp "$src/cmake/layers.cmake" "$src/cmake/check_layers.cmake" "$tmp/cmake/"
cp -r "$src/user" "$tmp/user"
fails() {  # fails PATTERN: the check on $tmp fails, saying PATTERN
  if cmake -DSRC="$tmp" -P "$tmp/cmake/check_layers.cmake" 2>"$tmp/err"; then
    echo "not caught: $1" >&2; exit 1
  fi
  grep -qF "$1" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}
printf '#include "cli/commands.hpp"\n' >>"$tmp/user/model/filter.cpp"
fails "user/model/filter.cpp: model may not include cli/"
cp "$src/user/model/filter.cpp" "$tmp/user/model/filter.cpp"
printf '#include "../cli/commands.hpp"\n' >>"$tmp/user/model/filter.cpp"
fails 'user/model/filter.cpp: includes "../"'
cp "$src/user/model/filter.cpp" "$tmp/user/model/filter.cpp"
cmake -DSRC="$tmp" -P "$tmp/cmake/check_layers.cmake"
sed -i 's/^  "core|"$/  "core|cli"/' "$tmp/cmake/layers.cmake"
fails "core reaches itself through its row (a cycle)"
cp "$src/cmake/layers.cmake" "$tmp/cmake/"
mkdir "$tmp/user/newlayer"
fails "user/newlayer/ has no row"

if [ -n "$build" ]; then
  cmd=$(jq -r '.[] | select(.file | endswith("/user/model/filter.cpp")) | .command' \
    "$build/compile_commands.json")
  [ -n "$cmd" ] || { echo "no compile command for user/model/filter.cpp" >&2; exit 1; }
  compiles() {  # compiles HEADER: a model source including HEADER compiles
    mkdir -p "$tmp/p"; printf '#include "%s"\n' "$1" >"$tmp/p/planted.cpp"
    # shellcheck disable=SC2086
    (cd "$build" && eval "$(printf '%s' "$cmd" | sed "s| -o [^ ]*| -fsyntax-only|; s| -c [^ ]*| -c $tmp/p/planted.cpp|")") \
      2>"$tmp/err"
  }
  compiles "model/filter.hpp" || { cat "$tmp/err" >&2; exit 1; }
  compiles "core/fd.hpp" || { cat "$tmp/err" >&2; exit 1; }
  for h in cli/commands.hpp pipeline/pipeline.hpp bpf/tracer.hpp; do
    if compiles "$h"; then echo "model compiled an include of $h" >&2; exit 1; fi
    grep -q "$h: No such file" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  done
fi
echo ok
