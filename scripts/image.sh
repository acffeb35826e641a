#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the container image sysctlscope:latest with the local Docker Engine,
# from Debian packages only (no registry is needed or contacted): the binary
# built here (the BPF object is embedded in it) plus exactly the shared
# libraries `ldd` names, each copied from its installed Debian package, in a
# rootfs imported with `docker import`. No shell, no package manager, no
# compiler inside. /usr/share/doc/sysctlscope/debian-packages.txt in the image
# lists the package and version every file came from.
#
#   scripts/image.sh [BINARY [TAG]]     defaults: build/sysctlscope, sysctlscope:latest
#
# How to run it: README.md ("Container image") and deploy/kubernetes/.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-build/sysctlscope}
tag=${2:-sysctlscope:latest}
die() { echo "image.sh: $*" >&2; exit 1; }

if [[ ! -x $bin ]]; then
  [[ $bin == build/sysctlscope ]] || die "no executable $bin"
  ./scripts/build.sh
fi
docker info >/dev/null 2>&1 || die "the Docker Engine is not running (scripts/runtimes.sh start)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{usr/bin,proc,sys,dev,etc,run,tmp,var/lib/docker,var/lib/containers} \
  "$root/usr/share/doc/sysctlscope"
chmod 1777 "$root/tmp"
ln -s ../run "$root/var/run"  # the runtimes' state is looked up under both
echo 'root:x:0:0:root:/:/usr/bin/sysctlscope' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
# Debug sections are most of the binary's size and not needed to run it.
objcopy --strip-debug "$bin" "$root/usr/bin/sysctlscope"

provenance="$root/usr/share/doc/sysctlscope/debian-packages.txt"
pkg_of() { # the Debian package owning a file (usrmerge: try /usr and / forms)
  local f=$1 p
  for cand in "$f" "$(readlink -f "$f")" "${f#/usr}" "/usr$f"; do
    if p=$(dpkg-query -S "$cand" 2>/dev/null); then
      p=${p%%:*}
      echo "$p $(dpkg-query -W -f='${Version}' "$p")"
      return
    fi
  done
  die "$f belongs to no Debian package"
}
{
  echo "# file  debian-package  version"
  echo "/usr/bin/sysctlscope  (built from this repository)  $(git describe --always --dirty 2>/dev/null || echo unknown)"
} >"$provenance"

# `ldd` prints "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)" and
# the loader as "/lib64/ld-linux-x86-64.so.2 (0x...)".
mapfile -t libs < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
((${#libs[@]})) || die "ldd found no libraries in $bin (a static binary needs no image work)"
for l in "${libs[@]}"; do
  install -D -m 0755 "$(readlink -f "$l")" "$root$l"
  echo "$l  $(pkg_of "$l")" >>"$provenance"
done

tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
  docker import \
    --change 'ENTRYPOINT ["/usr/bin/sysctlscope"]' \
    --change 'CMD ["trace", "-o", "json"]' \
    --change 'ENV PATH=/usr/bin' \
    --change 'EXPOSE 2112' \
    --change 'LABEL org.opencontainers.image.title=sysctlscope' \
    --change "LABEL org.opencontainers.image.version=$("$bin" --version 2>/dev/null | awk '{print $NF}')" \
    - "$tag" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "image.sh: built $tag ($((size / 1024 / 1024)) MiB, ${#libs[@]} libraries)"
