#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Accepts the current binary's outputs as the corpus's expected outputs.
# Only for a deliberate output change, committed on its own with the reason.
#
#   tests/corpus/regen.sh build/sysctlscope
set -eu
here=$(dirname "$(realpath "$0")")
rm -rf "$here/expected"
"$here/outputs.sh" "$1" "$here/expected"
echo "regenerated $(ls "$here/expected" | wc -l) files in $here/expected"
