#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real-kernel test matrix: boots Debian kernel packages in QEMU (TCG) and runs
# the privileged end-to-end subset tests/matrix/guest.sh inside each guest.
# The guest mounts the host's / read-only over 9p and chroots into it, so the
# host-built binary runs unchanged; results come back on a writable 9p share.
# <series>-arm64 rows boot Debian's arm64 kernels in qemu-system-aarch64 with
# the cross-built arm64 binary (scripts/build.sh --arch arm64) and an unpacked
# arm64 userland. See docs/kernel-matrix.md. Exits non-zero when any kernel fails.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/sysctlscope"
bin_arm64="$here/build-arm64/sysctlscope"
default_kernels="5.10 6.1 6.12 native 5.10-arm64 6.1-arm64 6.12-arm64"
kernels=${SYSCTLSCOPE_MATRIX_KERNELS:-$default_kernels}
arm64_asked=${SYSCTLSCOPE_MATRIX_KERNELS:+1}
cache=${SYSCTLSCOPE_KERNEL_CACHE:-/var/cache/sysctlscope/kernels}
outdir=${SYSCTLSCOPE_MATRIX_OUT:-"$here/build/matrix"}
features=${SYSCTLSCOPE_MATRIX_FEATURES:-/tmp/matrix-features}
guest_timeout=${SYSCTLSCOPE_MATRIX_TIMEOUT:-600}
refresh_hours=${SYSCTLSCOPE_KERNEL_REFRESH_HOURS:-24}

usage() {
  cat <<EOF
Usage: $0 [--bin PATH] [--bin-arm64 PATH] [--kernels "5.10 6.1 6.12 native"] [--cache DIR] [--out DIR] [--timeout SEC]
  --bin PATH     sysctlscope binary to test (default: $bin)
  --bin-arm64 PATH  the arm64 build (scripts/build.sh --arch arm64) for the -arm64 rows
                 (default: $bin_arm64)
  --kernels LIST kernel series to boot (Debian linux-image-<series>...-amd64; <series>-arm64:
                 linux-image-<series>...-arm64 in qemu-system-aarch64); 'native' runs
                 the guest script on this host without a VM (default: $kernels)
  --cache DIR    where kernel packages are kept between runs (default: $cache)
  --out DIR      logs and results (default: $outdir)
  --timeout SEC  hard limit per guest (default: $guest_timeout)
Environment: SYSCTLSCOPE_MATRIX_KERNELS, SYSCTLSCOPE_KERNEL_CACHE, SYSCTLSCOPE_MATRIX_OUT,
  SYSCTLSCOPE_MATRIX_FEATURES (default /tmp/matrix-features), SYSCTLSCOPE_MATRIX_TIMEOUT,
  SYSCTLSCOPE_KERNEL_REFRESH_HOURS (apt index age before refetching, default 24),
  SYSCTLSCOPE_DEBIAN_MIRROR, SYSCTLSCOPE_DEBIAN_SECURITY_MIRROR.
EOF
}

die() { echo "kernel-matrix: $*" >&2; exit 2; }
log() { echo "kernel-matrix: $*" >&2; }

while (($#)); do
  case $1 in
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --bin-arm64) bin_arm64=${2:?--bin-arm64 needs a path}; arm64_asked=1; shift 2 ;;
    --kernels) kernels=${2:?--kernels needs a list}; arm64_asked=1; shift 2 ;;
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --out) outdir=${2:?--out needs a directory}; shift 2 ;;
    --timeout) guest_timeout=${2:?--timeout needs seconds}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "needs root (QEMU shares / with the guest, the guest runs BPF as root)"
[[ -x $bin ]] || die "binary not found or not executable: $bin (build it with scripts/build.sh)"
bin=$(realpath "$bin")
want_arm64=""
[[ " $kernels " == *-arm64\ * ]] && want_arm64=1
if [[ -n $want_arm64 && ! -x $bin_arm64 && -z $arm64_asked ]]; then
  # Only the default list, run by hand without an arm64 build: the x86 rows
  # still run. scripts/test.sh (CI) names --bin-arm64, so there it fails.
  log "no arm64 build at $bin_arm64 (scripts/build.sh --arch arm64): the arm64 rows are NOT run"
  kernels=$(tr ' ' '\n' <<<"$kernels" | grep -v -- '-arm64$' | paste -sd' ' -)
  want_arm64=""
fi
if [[ -n $want_arm64 ]]; then
  [[ -x $bin_arm64 ]] || die "arm64 binary not found: $bin_arm64 (build it with scripts/build.sh --arch arm64)"
  bin_arm64=$(realpath "$bin_arm64")
  # ELF e_machine (offset 18, little-endian) 183: EM_AARCH64.
  [[ $(od -An -tu2 -j18 -N2 "$bin_arm64" | tr -d ' ') == 183 ]] || die "$bin_arm64 is not an arm64 binary"
fi
# Another guest script (bench/vm_hookcost.sh) runs in the same guests; it is
# not judged: its output is left in <out>/<row>/out.
guest_sh=${SYSCTLSCOPE_MATRIX_GUEST:-$here/tests/matrix/guest.sh}
custom_guest=${SYSCTLSCOPE_MATRIX_GUEST:+1}
[[ -f $guest_sh ]] || die "missing $guest_sh"
guest_sh=$(realpath "$guest_sh") # the guest sees the host's / at /
for tool in qemu-system-x86_64 ${want_arm64:+qemu-system-aarch64 aarch64-linux-gnu-gcc} apt-get apt-cache dpkg-deb depmod modprobe jq bpftool xz gzip timeout; do
  command -v "$tool" >/dev/null || die "missing $tool (run scripts/deps.sh)"
done
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
  die "/bin/busybox must be the static one (package busybox-static)"
fi
mkdir -p "$outdir" "$features" "$cache"
# Helper probe for tracing programs (bpftool cannot list them); optional.
probe="$outdir/probe_tracing_helpers"
if ! cc -O2 -Wall -o "$probe" "$here/tests/matrix/probe_tracing_helpers.c" -lbpf 2>"$outdir/probe-build.log"; then
  log "could not build the tracing helper probe (see $outdir/probe-build.log): features will lack it"
  rm -f "$probe"
  probe=""
fi
probe_arm64=""
if [[ -n $want_arm64 ]]; then
  probe_arm64="$outdir/probe_tracing_helpers.arm64"
  if ! aarch64-linux-gnu-gcc -O2 -Wall -o "$probe_arm64" "$here/tests/matrix/probe_tracing_helpers.c" -lbpf \
    2>"$outdir/probe-build-arm64.log"; then
    log "could not build the arm64 tracing helper probe (see $outdir/probe-build-arm64.log)"
    rm -f "$probe_arm64"
    probe_arm64=""
  fi
fi

# The guest's /tmp and /run are fresh tmpfs: a checkout, binary or probe
# below them (CI clones into a temporary directory) is shared again and
# mounted at the same path.
shares=()
for d in "$here" "$(dirname "$bin")" ${want_arm64:+"$(dirname "$bin_arm64")"} "$(dirname "$guest_sh")" ${probe:+"$(dirname "$probe")"}; do
  d=$(realpath "$d")
  case $d in /tmp | /tmp/* | /run | /run/*) ;; *) continue ;; esac
  dup=0
  for x in "${shares[@]}"; do [[ $d == "$x" || $d == "$x"/* ]] && dup=1; done
  ((dup)) || shares+=("$d")
done
share_args=()
for i in "${!shares[@]}"; do
  [[ ${shares[$i]} != *[[:space:]]* ]] || die "cannot share a path with spaces: ${shares[$i]}"
  share_args+=(-virtfs "local,path=${shares[$i]},mount_tag=share$i,security_model=none,readonly=on,multidevs=remap")
done

# --- Kernel packages: a private apt configuration (never the system's) -------
mirror_of() { # $1: regex on the URI path; prints the first matching URI of the system's sources
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      sed -E 's/\[[^]]*\]//' | awk '{print $2}'
  } | grep -E "$1" | head -n1 || true
}
mirror=${SYSCTLSCOPE_DEBIAN_MIRROR:-$(mirror_of '/debian/?$')}
mirror=${mirror:-http://deb.debian.org/debian}
secmirror=${SYSCTLSCOPE_DEBIAN_SECURITY_MIRROR:-$(mirror_of '/debian-security/?$')}
secmirror=${secmirror:-http://deb.debian.org/debian-security}
aptdir="$cache/apt"
apt_opts=(
  -o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o Acquire::Languages=none -o APT::Sandbox::User=root -o Debug::NoLocking=1
  -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
)
apt_ready=""
apt_setup() {
  [[ -n $apt_ready ]] && return 0
  apt_ready=1
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
  local key=/usr/share/keyrings/debian-archive-keyring.gpg s
  # (the architectures are part of the index: a change refreshes it)
  echo "# architectures: amd64 arm64" >"$aptdir/sources.list.new"
  for s in bookworm bookworm-updates bullseye; do
    echo "deb [signed-by=$key] $mirror $s main" >>"$aptdir/sources.list.new"
  done
  for s in bookworm-security bullseye-security; do
    echo "deb [signed-by=$key] $secmirror $s main" >>"$aptdir/sources.list.new"
  done
  local changed=0
  cmp -s "$aptdir/sources.list.new" "$aptdir/sources.list" || changed=1
  mv "$aptdir/sources.list.new" "$aptdir/sources.list"
  local stamp="$aptdir/updated"
  if ((changed)) || [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +$((refresh_hours * 60))) ]]; then
    log "refreshing the private apt index ($mirror, $secmirror: bookworm*, bullseye*)"
    if apt-get "${apt_opts[@]}" -qq update >"$aptdir/update.log" 2>&1; then
      touch "$stamp"
    else
      log "apt-get update failed (offline?), using the cached index/packages: $(tail -n1 "$aptdir/update.log")"
    fi
  fi
}

# Prints the directory of an unpacked kernel package of series $1 (e.g. 6.1)
# for Debian architecture $2 (amd64 or arm64): the newest
# linux-image-<series>...-<arch> (signed, else -unsigned) that downloads and
# carries boot/vmlinuz-* and lib/modules/*.
fetch_kernel() {
  local series=$1 darch=${2:-amd64} re names name abi deb dir
  apt_setup
  re="^linux-image-${series//./\\.}([.-][0-9]+)+(\+deb[0-9]+)?-$darch(-unsigned)?$"
  names=$(apt-cache "${apt_opts[@]}" pkgnames linux-image- 2>/dev/null | grep -E "$re" |
    sed -E 's/-unsigned$//' | sort -uV -r || true)
  for abi in $names; do
    for name in "$abi" "$abi-unsigned"; do
      dir="$cache/$name"
      if [[ -f $dir/.complete ]]; then echo "$dir"; return 0; fi
      apt-cache "${apt_opts[@]}" show "$name:$darch" >/dev/null 2>&1 || continue
      log "downloading $name"
      rm -f "$cache/${name}_"*.deb
      (cd "$cache" && apt-get "${apt_opts[@]}" -qq download "$name:$darch" >"$cache/$name.download.log" 2>&1) || {
        log "download of $name failed: $(tail -n1 "$cache/$name.download.log")"; continue; }
      deb=$(find "$cache" -maxdepth 1 -name "${name}_*.deb" | head -n1)
      rm -rf "$dir" && mkdir -p "$dir"
      dpkg-deb -x "$deb" "$dir"
      if compgen -G "$dir/boot/vmlinuz-*" >/dev/null && compgen -G "$dir/lib/modules/*/kernel" >/dev/null; then
        # Debian packages ship no modules.dep (postinst runs depmod): make one in the cache.
        local kv
        kv=$(basename "$(ls -d "$dir"/lib/modules/*/)")
        depmod -b "$dir" "$kv"
        rm -f "$deb" "$cache/$name.download.log"
        touch "$dir/.complete"
        # Only the newest package of a series is kept.
        local old
        while read -r old; do
          [[ $old != "$dir" && $(basename "$old") =~ $re ]] && { log "removing older $(basename "$old")"; rm -rf "$old"; }
        done < <(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "linux-image-${series}[.-]*-$darch*")
        echo "$dir"
        return 0
      fi
      log "$name carries no vmlinuz and modules, trying the next package"
      rm -rf "$dir" "$deb"
    done
  done
  # Offline: the newest package of the series already unpacked in the cache.
  for dir in $(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "linux-image-${series}[.-]*-$darch*" | sort -V -r); do
    if [[ -f $dir/.complete && $(basename "$dir") =~ $re ]]; then
      log "series $series: using cached $(basename "$dir") (no package from the index)"
      echo "${dir%/}"
      return 0
    fi
  done
  return 1
}

# --- arm64 guest userland -----------------------------------------------------
# The arm64 guest chroots into the host's / as the x86 ones do (the binary
# finds its :arm64 libraries and /lib/ld-linux-aarch64.so.1 there, installed by
# scripts/deps.sh --arch arm64), but the host's bash, bpftool and coreutils
# are x86 programs. Their arm64 packages cannot be installed beside the amd64
# ones (not Multi-Arch: same), so they are unpacked here, never installed:
# <cache>/arm64-userland/bin holds bash, bpftool, cat (a real program: the
# read workload copies it under another name) and every other command as a
# busybox-static applet. Their libraries (libtinfo6, libcap2, libelf1, zlib1g)
# are co-installable :arm64 packages (deps.sh).
userland=""
arm64_userland() { # sets userland, or returns 1
  local ul="$cache/arm64-userland" p deb a
  if [[ -f $ul/.complete ]]; then userland=$ul; return 0; fi
  apt_setup
  rm -rf "$ul" && mkdir -p "$ul/pkgs" "$ul/bin"
  for p in busybox-static bash coreutils bpftool; do
    rm -f "$cache/${p}_"*_arm64.deb
    (cd "$cache" && apt-get "${apt_opts[@]}" -qq download "$p:arm64" >"$ul/$p.download.log" 2>&1) || {
      log "download of $p:arm64 failed: $(tail -n1 "$ul/$p.download.log")"; return 1; }
    deb=$(find "$cache" -maxdepth 1 -name "${p}_*_arm64.deb" | head -n1)
    dpkg-deb -x "$deb" "$ul/pkgs/$p"
    rm -f "$deb" "$ul/$p.download.log"
  done
  cp "$ul/pkgs/busybox-static/bin/busybox" "$ul/bin/busybox"
  # The applet list of the same busybox build for amd64 (it cannot run here).
  for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$ul/bin/$a"
  done
  ln -sf "$ul/pkgs/bash/bin/bash" "$ul/bin/bash"
  ln -sf "$ul/pkgs/coreutils/bin/cat" "$ul/bin/cat"
  ln -sf "$ul/pkgs/bpftool/usr/sbin/bpftool" "$ul/bin/bpftool"
  touch "$ul/.complete"
  userland=$ul
}

# --- Initramfs: static busybox + the 9p/virtio (and netfilter) modules --------
make_initrd() { # $1 unpacked package dir, $2 kernel version, $3 output file, $4 amd64|arm64
  local pkg=$1 kv=$2 out=$3 darch=${4:-amd64} root line path n=0
  local gbin=$bin gprobe=$probe busybox=/bin/busybox genv=/usr/bin/env gbash=/bin/bash
  local gpath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  if [[ $darch == arm64 ]]; then
    gbin=$bin_arm64 gprobe=$probe_arm64 busybox=$userland/bin/busybox
    genv=$userland/bin/env gbash=$userland/bin/bash gpath=$userland/bin
  fi
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,dev,proc,sys,newroot,modules}
  cp "$busybox" "$root/bin/busybox"
  : >"$root/modules/order"
  # modprobe prints the insmod order (dependencies first); builtins print "builtin".
  while read -r line; do
    [[ $line == insmod\ * ]] || continue
    path=$(awk '{print $2}' <<<"$line")
    local base
    base=$(basename "$path")
    base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
    grep -qx "[0-9]*-$base" "$root/modules/order" && continue
    n=$((n + 1))
    local dst
    dst="$root/modules/$(printf %02d "$n")-$base"
    case $path in
      *.xz) xz -dc "$path" >"$dst" ;;
      *.zst) zstd -qdc "$path" >"$dst" ;;
      *.gz) gzip -dc "$path" >"$dst" ;;
      *) cp "$path" "$dst" ;;
    esac
    basename "$dst" >>"$root/modules/order"
  # br_netfilter, nf_conntrack and nf_defrag_ipv6 as on a Docker host: their
  # per-netns sysctls sit behind net_generic() slots, typed in module BTF.
  done < <(modprobe -d "$pkg" -S "$kv" --show-depends -a virtio_pci 9pnet_virtio 9p \
    br_netfilter nf_conntrack nf_defrag_ipv6 2>&1)
  cat >"$root/matrix.conf" <<EOF
GUEST_SH='$guest_sh'
BIN='$gbin'
PROBE='$gprobe'
GENV='$genv'
GBASH='$gbash'
GPATH='$gpath'
SHARES='${shares[*]}'
EOF
  cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /matrix.conf
echo "matrix-init: kernel $(uname -r)"
for m in $(cat /modules/order); do
  insmod "/modules/$m" || echo "matrix-init: insmod $m failed"
done
fail() { echo "matrix-init: FATAL $*"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288 hostroot /newroot || fail "mount of the host's / failed"
R=/newroot
mount -t proc proc $R/proc && mount -t sysfs sysfs $R/sys && mount -t devtmpfs devtmpfs $R/dev &&
  mount -t tmpfs -o mode=1777 tmp $R/tmp && mount -t tmpfs -o mode=755 run $R/run || fail "base mounts failed"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || echo "matrix-init: cgroup2 mount failed"
mount -t tracefs tracefs $R/sys/kernel/tracing || echo "matrix-init: tracefs mount failed"
mount -t bpf bpf $R/sys/fs/bpf || echo "matrix-init: bpffs mount failed"
i=0
for d in $SHARES; do
  mkdir -p $R$d && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288 share$i $R$d ||
    fail "mount of $d failed"
  i=$((i + 1))
done
mkdir -p $R/run/matrix-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 matrixout $R/run/matrix-out || fail "mount of the results share failed"
echo "matrix-init: starting $GUEST_SH"
chroot $R "$GENV" -i PATH="$GPATH" HOME=/root \
  "$GBASH" "$GUEST_SH" --bin "$BIN" --probe "$PROBE" --out /run/matrix-out --guest >$R/run/matrix-out/guest.log 2>&1
echo "matrix-init: guest script exited with $?"
sync
umount $R/run/matrix-out
echo "matrix-init: done"
poweroff -f
EOF
  chmod +x "$root/init"
  (cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
  rm -rf "$root"
}

# --- One row ----------------------------------------------------------------
declare -A status detail walltime kvers
publish_features() { # $1 results dir, $2 fallback name
  local res=$1 kv
  kv=$(head -n1 "$res/uname.txt" 2>/dev/null || true)
  kv=${kv:-$2}
  if [[ -s $res/features.txt ]]; then
    cp "$res/features.txt" "$features/$kv.txt"
    log "features of $kv: $features/$kv.txt"
  fi
  if [[ -s $res/verifier.log ]]; then
    cp "$res/verifier.log" "$features/$kv-verifier.log"
    log "verifier log of $kv: $features/$kv-verifier.log"
  fi
  echo "$kv"
}

judge() { # $1 row, $2 results dir, $3 run exit status; sets status/detail
  local row=$1 res=$2 rc=$3 fails missing c
  local expect=(load read write netns_create netns_enter blocked netns_enter_tp blocked_tp write_results_readback write_results_syscall enforce detach)
  if [[ ! -s $res/results.txt ]]; then
    status[$row]=FAIL; detail[$row]="no results (guest exit $rc)"; return
  fi
  fails=$(awk '$1 == "RESULT" && $3 != "PASS" && $3 != "SKIP" && $4 != "not" {print $2}' "$res/results.txt" | paste -sd, -)
  local notrun
  notrun=$(grep -c '^RESULT [^ ]* FAIL not run: ' "$res/results.txt" || true)
  ((notrun > 0)) && fails+=" ($notrun more not run)"
  missing=""
  for c in "${expect[@]}"; do
    grep -q "^RESULT $c " "$res/results.txt" || missing+="${missing:+,}$c"
  done
  if [[ -n $fails || -n $missing ]] || ! grep -q '^DONE' "$res/results.txt" || [[ $rc -ne 0 ]]; then
    status[$row]=FAIL
    detail[$row]="failed: ${fails:-none}${missing:+; missing: $missing}"
    grep -q '^DONE' "$res/results.txt" || detail[$row]+="; guest did not finish (exit $rc)"
  else
    status[$row]=PASS; detail[$row]="all checks passed"
  fi
}

run_native() {
  local row=native res="$outdir/native" t0 rc=0
  rm -rf "$res" && mkdir -p "$res"
  log "native: running $guest_sh on this host ($(uname -r))"
  t0=$(date +%s)
  timeout -k 10 "$guest_timeout" bash "$guest_sh" --bin "$bin" --probe "$probe" --out "$res" --native >"$res/guest.log" 2>&1 || rc=$?
  walltime[$row]=$(($(date +%s) - t0))
  kvers[$row]=$(publish_features "$res" "native-$(uname -r)")
  judge "$row" "$res" "$rc"
}

run_kernel() {
  local row=$1 series=$1 darch=amd64 res pkg kv t0 rc=0
  # <series>-arm64: Debian's arm64 kernel in qemu-system-aarch64, the arm64 build.
  if [[ $row == *-arm64 ]]; then series=${row%-arm64} darch=arm64; fi
  res="$outdir/$row"
  rm -rf "$res" && mkdir -p "$res/out"
  t0=$(date +%s)
  if ! pkg=$(fetch_kernel "$series" "$darch"); then
    status[$row]=FAIL; detail[$row]="no linux-image package for $series $darch (index: $aptdir)"; walltime[$row]=0
    kvers[$row]="?"; return
  fi
  if [[ $darch == arm64 ]] && ! arm64_userland; then
    status[$row]=FAIL; detail[$row]="no arm64 guest userland (busybox-static, bash, coreutils, bpftool :arm64)"
    walltime[$row]=0; kvers[$row]="?"; return
  fi
  kv=$(basename "$(ls -d "$pkg"/lib/modules/*/)")
  kvers[$row]=$kv
  make_initrd "$pkg" "$kv" "$res/initrd.gz" "$darch"
  local qemu=(qemu-system-x86_64 -accel tcg -cpu max) console=ttyS0
  # aarch64 on x86 (TCG): the virt board, a direct kernel boot (no firmware);
  # pauth-impdef: the kernel signs every return address, and QEMU's
  # architected QARMA is several times slower to emulate than its own hash.
  [[ $darch == arm64 ]] && qemu=(qemu-system-aarch64 -accel tcg -M virt -cpu max,pauth-impdef=on) console=ttyAMA0
  log "$row: booting $kv ($(basename "$pkg")) under TCG, limit ${guest_timeout}s"
  local t1
  t1=$(date +%s)
  timeout -k 10 "$guest_timeout" "${qemu[@]}" -smp 2 -m 2048 \
    -display none -monitor none -no-reboot -nic none -serial "file:$res/console.log" \
    -kernel "$pkg/boot/vmlinuz-$kv" -initrd "$res/initrd.gz" \
    -append "console=$console panic=-1 lsm=lockdown,capability,bpf" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$res/out,mount_tag=matrixout,security_model=none,multidevs=remap" \
    "${share_args[@]}" \
    </dev/null >"$res/qemu.log" 2>&1 || rc=$?
  walltime[$row]=$(($(date +%s) - t1))
  log "$row: guest ended after ${walltime[$row]}s (qemu exit $rc$( ((rc == 124)) && echo ', TIMEOUT'))"
  cp "$pkg/boot/config-$kv" "$features/$kv.config" 2>/dev/null || true
  publish_features "$res/out" "$kv" >/dev/null
  if [[ -n $custom_guest ]]; then
    status[$row]=$( ((rc == 0)) && echo DONE || echo FAIL); detail[$row]="not judged: output in $res/out"
    cat "$res/out/"*.txt 2>/dev/null || true
    return
  fi
  # The guest only collected; judging (jq) runs here at native speed.
  bash "$guest_sh" --judge --out "$res/out" >>"$res/out/guest.log" 2>&1 || true
  judge "$row" "$res/out" "$rc"
  ((rc == 124)) && detail[$row]+="; timed out after ${guest_timeout}s"
  : "$t0"
}

rows=()
for k in $kernels; do
  rows+=("$k")
  if [[ $k == native ]]; then run_native; else run_kernel "$k"; fi
  res="$outdir/$k"; [[ $k == native ]] || res+=/out
  grep -h '^RESULT' "$res/results.txt" 2>/dev/null | sed "s/^/  [$k] /" >&2 || true
  log "$k: ${status[$k]} (${walltime[$k]:-0}s)"
done

# --- Summary ------------------------------------------------------------------
resfile() { if [[ $1 == native ]]; then echo "$outdir/native/results.txt"; else echo "$outdir/$1/out/results.txt"; fi; }
echo
echo "== kernel matrix: $bin"
printf '%-10s %-26s %-5s %6s  %s\n' row kernel result wall detail
for k in "${rows[@]}"; do
  printf '%-10s %-26s %-5s %5ss  %s\n' "$k" "${kvers[$k]:-?}" "${status[$k]}" "${walltime[$k]:-0}" "${detail[$k]}"
done
echo
printf '%-24s' check
for k in "${rows[@]}"; do printf ' %-10s' "$k"; done
echo
for c in load read write netns_create netns_enter blocked netns_enter_tp blocked_tp write_results_readback write_results_syscall enforce detach; do
  printf '%-24s' "$c"
  for k in "${rows[@]}"; do
    v=$(awk -v c="$c" '$1 == "RESULT" && $2 == c {print $3; exit}' "$(resfile "$k")" 2>/dev/null || true)
    printf ' %-10s' "${v:--}"
  done
  echo
done
rc=0
for k in "${rows[@]}"; do
  [[ ${status[$k]} == PASS || ${status[$k]} == DONE ]] && continue
  rc=1
  res=$(dirname "$(resfile "$k")")
  echo
  echo "== $k (${kvers[$k]:-?}) FAILED:"
  grep -h '^RESULT' "$res/results.txt" 2>/dev/null | grep -v -E '^RESULT [^ ]+ (PASS|SKIP)' |
    grep -v ' FAIL not run: ' || true
  n=$(grep -c ' FAIL not run: ' "$res/results.txt" 2>/dev/null || true)
  ((n > 0)) && echo "($n more checks not run: the tracer did not start)"
  echo "-- tail of $res/guest.log"
  tail -n 12 "$res/guest.log" 2>/dev/null || echo "(no guest log)"
  if [[ $k != native ]]; then
    echo "-- tail of $outdir/$k/console.log"
    tail -n 6 "$outdir/$k/console.log" 2>/dev/null || echo "(no console log)"
  fi
done
echo
echo "features and verifier logs: $features/"
npass=0 nfail=0
for k in "${rows[@]}"; do
  if [[ ${status[$k]} == PASS || ${status[$k]} == DONE ]]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
done
# The suite's closing line (scripts/test.sh ends with the matrix).
echo "kernel matrix: $npass passed, $nfail failed"
exit "$rc"
