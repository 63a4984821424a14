#!/usr/bin/env bash
# Installs the host (Debian bookworm) packages the build needs, idempotently.
# A ready machine prints "host packages: ok" and touches nothing (no apt-get update).
# QEMU must be >= 10 (bookworm's 7.2 lacks raspi4b), so it comes from bookworm-backports.
# wabt is pinned to 1.0.32: the import names in wasm2c's output depend on its version.
# Node.js: any node >= 18 already on the machine is used (bookworm's nodejs 18 runs the whole toolchain);
# without one, bookworm's nodejs and npm are installed.
#
# Under `set -e`, a plain assignment from a failing command substitution ends the script silently: every
# probe below answers with output (possibly empty) and exit status 0, whatever is or is not installed.
set -euo pipefail

# libc6-dev: TF-A's host tool fiptool includes <sys/mount.h> and <stdint.h>, which gcc alone does not bring;
# gcc and libc6-dev also build the C glue for the host unit tests (test/unit/c-glue.test.ts).
# dosfstools, mtools: make sdcard writes a FAT file system into a file, without root or loop devices.
PACKAGES=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu wabt device-tree-compiler dpkg-dev
  libssl-dev libc6-dev cpio xz-utils make gcc ca-certificates debian-archive-keyring dosfstools mtools)
NODE_MIN_MAJOR=18
QEMU_PKG=qemu-system-arm
QEMU_MIN_VERSION=1:10
WABT_VERSION=1.0.32
BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.list

log() { echo "[deps] $*"; }
fail() {
  echo "[deps] FAILED: $*" >&2
  echo "[deps] fix the cause above, then retry with: make deps" >&2
  exit 2
}

# Prints the version of an installed package, or nothing (dpkg-query exits 1 for a package never installed).
installed_version() {
  { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$1 == "ii" { print $2 }'
}

# Prints the major version of the node on PATH, or 0 when there is none.
node_major() {
  local v
  v=$(node --version 2>/dev/null || true)
  v=${v#v}
  echo "${v%%.*}" | grep -E '^[0-9]+$' || echo 0
}

# The Debian mirror this machine already uses (deb822 debian.sources), so backports come from the same place.
debian_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources uri=""
  if [[ -r $f ]]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# `make debug` only: Debian's gdb-multiarch, which debugs aarch64 from this machine.
if [[ ${1:-} == --debug ]]; then
  if [[ -n $(installed_version gdb-multiarch) ]]; then
    log "gdb-multiarch: ok"
  else
    [[ $(id -u) -eq 0 ]] || fail "installing gdb-multiarch needs root"
    log "installing gdb-multiarch (for make debug)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gdb-multiarch ||
      { apt-get update -q || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gdb-multiarch; } ||
      fail "apt-get install gdb-multiarch"
  fi
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  [[ -n $(installed_version "$p") ]] || missing+=("$p")
done

# Node.js and npm: a node that is already here (from any source) is kept; otherwise bookworm's.
if [[ $(node_major) -eq 0 ]]; then
  missing+=(nodejs)
elif [[ $(node_major) -lt $NODE_MIN_MAJOR ]]; then
  fail "node $(node --version) is too old: the build needs Node.js >= $NODE_MIN_MAJOR (bookworm's nodejs is 18)"
fi
command -v npm >/dev/null || missing+=(npm)

need_qemu=0
qemu_version=$(installed_version "$QEMU_PKG")
if [[ -z $qemu_version ]] || ! dpkg --compare-versions "$qemu_version" ge "$QEMU_MIN_VERSION"; then
  need_qemu=1
fi

if [[ ${#missing[@]} -eq 0 && $need_qemu -eq 0 ]]; then
  log "host packages: ok"
else
  [[ $(id -u) -eq 0 ]] || fail "installing packages needs root (missing: ${missing[*]} ${QEMU_PKG})"
  if [[ $need_qemu -eq 1 && ! -e $BACKPORTS_LIST ]]; then
    mirror=$(debian_mirror)
    log "adding $BACKPORTS_LIST ($mirror bookworm-backports main)"
    echo "deb $mirror bookworm-backports main" >"$BACKPORTS_LIST"
  fi
  log "apt-get update"
  # Third-party sources on this machine may fail; the install step below tells whether Debian's lists arrived.
  apt-get update || log "apt-get update exited non-zero; continuing (the install step will tell)"
  export DEBIAN_FRONTEND=noninteractive
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing: ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" ||
      fail "apt-get install ${missing[*]}"
  fi
  if [[ $need_qemu -eq 1 ]]; then
    log "installing $QEMU_PKG from bookworm-backports (have: ${qemu_version:-none})"
    apt-get install -y --no-install-recommends -t bookworm-backports "$QEMU_PKG" ||
      fail "apt-get install -t bookworm-backports $QEMU_PKG"
    qemu_version=$(installed_version "$QEMU_PKG")
    dpkg --compare-versions "${qemu_version:-0}" ge "$QEMU_MIN_VERSION" ||
      fail "$QEMU_PKG is ${qemu_version:-missing}, need >= 10 from bookworm-backports"
  fi
  log "host packages: installed"
fi

command -v node >/dev/null && command -v npm >/dev/null || fail "node or npm not on PATH after installing nodejs npm"
command -v qemu-system-aarch64 >/dev/null || fail "qemu-system-aarch64 not on PATH after installing $QEMU_PKG"
wabt_have=$(wasm2c --version 2>/dev/null || true)
[[ $wabt_have == "$WABT_VERSION" ]] ||
  fail "wasm2c --version is '${wabt_have:-missing}', need $WABT_VERSION (bookworm's wabt): the generated import names depend on it"
