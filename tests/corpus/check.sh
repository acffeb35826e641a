#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The replay corpus test: every command that reads a recording must print
# exactly what tests/corpus/expected holds (made by regen.sh). A deliberate
# output change runs regen.sh in a commit of its own that says why.
#
#   tests/corpus/check.sh BIN
set -eu
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/outputs.sh" "$1" "$tmp"
if diff -ru "$here/expected" "$tmp" > "$tmp.diff"; then
  echo "corpus: $(ls "$tmp" | wc -l) outputs byte-identical"
  rm -f "$tmp.diff"
  exit 0
fi
echo "corpus: outputs differ from tests/corpus/expected (- expected, + now):"
head -c 200000 "$tmp.diff"
rm -f "$tmp.diff"
echo "If the change is deliberate: tests/corpus/regen.sh BIN, committed on its own with the reason."
exit 1
