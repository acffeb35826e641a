#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts and stops the real container runtimes the end-to-end tests use:
# containerd, then dockerd on it (Debian's docker.io), plus Podman (daemonless).
# No registry is reachable, so a busybox-static rootfs is imported as the image
# sysctlscope-busybox:latest into Docker, Podman and containerd (namespace
# "sysctlscope").
#
#   scripts/runtimes.sh start   start what is not running, import the images
#   scripts/runtimes.sh stop    stop only what `start` started
#   scripts/runtimes.sh status
#
# Idempotent and shareable: a daemon that was already running is used and left
# running; `stop` stops only daemons whose pid files `start` wrote.
set -euo pipefail

state=/run/sysctlscope-runtimes
logs=/var/log/sysctlscope
image=sysctlscope-busybox:latest
ctr_ns=sysctlscope

die() { echo "runtimes.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root"

wait_for() { # seconds, description, command...
  local t=$1 what=$2; shift 2
  for ((i = 0; i < t * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not come up in ${t}s (log: $logs)"
}

start_daemon() { # name, readiness command (as a string), argv...
  local name=$1 ready=$2; shift 2
  if bash -c "$ready" >/dev/null 2>&1; then
    echo "runtimes.sh: $name already running: using it"
    return
  fi
  mkdir -p "$state" "$logs"
  setsid "$@" >"$logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$state/$name.pid"
  wait_for 60 "$name" bash -c "$ready"
  echo "runtimes.sh: started $name (pid $(cat "$state/$name.pid"), log $logs/$name.log)"
}

make_rootfs() { # dir
  local d=$1
  mkdir -p "$d/bin" "$d/proc" "$d/sys" "$d/dev" "$d/etc" "$d/tmp" "$d/run"
  cp /bin/busybox "$d/bin/busybox"
  local a
  for a in sh cat echo sleep sysctl ls nsenter true grep; do ln -sf busybox "$d/bin/$a"; done
  echo 'root:x:0:0:root:/:/bin/sh' >"$d/etc/passwd"
  echo 'root:x:0:' >"$d/etc/group"
}

import_images() {
  local tmp
  tmp=$(mktemp -d)
  make_rootfs "$tmp/root"
  tar -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    docker import -c 'CMD ["/bin/sh"]' "$tmp/rootfs.tar" "$image" >/dev/null
  fi
  if ! podman image exists "$image" 2>/dev/null; then
    podman import -c 'CMD ["/bin/sh"]' "$tmp/rootfs.tar" "$image" >/dev/null 2>&1
  fi
  if ! ctr -n "$ctr_ns" images ls -q | grep -qx "docker.io/library/$image"; then
    docker save "$image" -o "$tmp/image.tar"
    ctr -n "$ctr_ns" images import "$tmp/image.tar" >/dev/null
  fi
  rm -rf "$tmp"
  echo "runtimes.sh: image $image in docker, podman and containerd (namespace $ctr_ns)"
}

stop_daemon() { # name
  local f="$state/$1.pid" pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
  echo "runtimes.sh: stopped $1"
}

case ${1:-} in
  start)
    for b in containerd dockerd docker podman ctr runc; do
      command -v "$b" >/dev/null || die "$b not installed (scripts/deps.sh installs it)"
    done
    start_daemon containerd "ctr version" containerd
    start_daemon dockerd "docker info" dockerd --containerd=/run/containerd/containerd.sock
    import_images
    ;;
  stop)
    # Containers the tests left behind die with their daemon's shims only if
    # removed: remove the ones made from our image first.
    if docker info >/dev/null 2>&1; then
      ids=$(docker ps -aq --filter "ancestor=$image" || true)
      [[ -z $ids ]] || docker rm -f $ids >/dev/null 2>&1 || true
    fi
    stop_daemon dockerd
    stop_daemon containerd
    ;;
  status)
    for n in containerd dockerd; do
      if [[ -f $state/$n.pid ]]; then echo "$n: started by runtimes.sh (pid $(cat "$state/$n.pid"))"; fi
    done
    ctr version >/dev/null 2>&1 && echo "containerd: up" || echo "containerd: down"
    docker info >/dev/null 2>&1 && echo "dockerd: up" || echo "dockerd: down"
    ;;
  *)
    die "usage: $0 start|stop|status"
    ;;
esac
