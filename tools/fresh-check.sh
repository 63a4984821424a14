#!/usr/bin/env bash
# make fresh-check: the README's promise, proven on a machine state that has never seen the project.
#
# Builds (or reuses) a minimal Debian bookworm root with mmdebstrap: the base system plus only what the README
# tells a new user to have (git make ca-certificates). Clones the project's HEAD into it, and inside it (chroot
# with /proc, /sys, /dev, as root, stdin closed) runs exactly the README's `make run`. Passes only if that exits 0
# and writes build/results/boot.json and guests.json. Prints how long each phase took.
#
# Cached outside the repository, in $FRESH_CACHE (default /var/cache/tee-hyp-fresh): the *base* root as a
# tarball (rebuilt when its recipe changes, or with FRESH_REBUILD=1) and the .debs apt downloads inside the root
# (so a rerun does not fetch 400 MB again; apt still resolves and installs everything). Nothing the project
# installs survives from one run to the next.
#
# This machine's network: registries are reached through a TLS-intercepting egress whose CA certificates the
# host keeps in /usr/local/share/ca-certificates. Those files (and NODE_EXTRA_CA_CERTS, if the host sets it) are
# copied into the root, as a new user on this network would have to; they are not project dependencies.
#
# Environment: FRESH_REV (commit to check, default HEAD), FRESH_KEEP=1 (keep the root afterwards),
# FRESH_REBUILD=1 (rebuild the base root), FRESH_CACHE, FRESH_WORK (default /var/tmp/tee-hyp-fresh).
set -euo pipefail

SUITE=bookworm
BASE_PACKAGES=git,make,ca-certificates
RECIPE="mmdebstrap --variant=minbase --include=$BASE_PACKAGES $SUITE (+updates, security)"
CACHE=${FRESH_CACHE:-/var/cache/tee-hyp-fresh}
WORK=${FRESH_WORK:-/var/tmp/tee-hyp-fresh}
REV=${FRESH_REV:-HEAD}
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
BASE_TAR=$CACHE/base-$SUITE.tar
ROOT=$WORK/root
LOG=$PROJECT/build/fresh-check/make-run.log
INNER_DIR=/root/tee-hyp

say() { echo "[fresh] $*"; }
die() {
  echo "[fresh] FAILED: $*" >&2
  exit 2
}
since() { echo $(($(date +%s) - $1)); }

[[ $(id -u) -eq 0 ]] || die "needs root (it builds a Debian root and chroots into it): run it as root"

# The Debian mirror this machine already uses (deb822 debian.sources), so the root reaches the same place.
host_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources uri=""
  [[ -r $f ]] && uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return
  say "installing mmdebstrap on this machine (the tool that builds the fresh root)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null ||
    { apt-get update -q >/dev/null || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null; } ||
    die "could not install mmdebstrap: apt-get install mmdebstrap"
}

build_base() {
  local mirror stamp=$BASE_TAR.recipe
  mirror=$(host_mirror)
  if [[ -z ${FRESH_REBUILD:-} && -s $BASE_TAR && -r $stamp && $(cat "$stamp") == "$RECIPE $mirror" ]]; then
    say "base root: cached ($BASE_TAR, $(du -h "$BASE_TAR" | cut -f1); FRESH_REBUILD=1 rebuilds it)"
    return
  fi
  ensure_mmdebstrap
  say "base root: $RECIPE from $mirror…"
  mkdir -p "$CACHE"
  local secmirror=${mirror%/debian}/debian-security
  mmdebstrap --quiet --mode=root --format=tar --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$BASE_TAR.tmp" \
    "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" "deb $secmirror $SUITE-security main" ||
    die "mmdebstrap failed (see above); retry with FRESH_REBUILD=1"
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  echo "$RECIPE $mirror" >"$stamp"
}

MOUNTS=()
mount_into_root() {
  mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
  mount -t sysfs sysfs "$ROOT/sys" && MOUNTS+=("$ROOT/sys")
  mount --bind /dev "$ROOT/dev" && MOUNTS+=("$ROOT/dev")
  mount --bind /dev/pts "$ROOT/dev/pts" && MOUNTS+=("$ROOT/dev/pts")
  mkdir -p "$CACHE/apt-archives/partial" "$ROOT/var/cache/apt/archives"
  mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives" && MOUNTS+=("$ROOT/var/cache/apt/archives")
}

# Unmounts in reverse order; the root is deleted only when nothing is mounted in it any more
# (a bind of /dev left behind would make `rm -rf` delete the host's device nodes).
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true; done
  MOUNTS=()
  if [[ -d $ROOT && -z ${FRESH_KEEP:-} ]]; then
    if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then
      say "left $ROOT in place: something is still mounted in it"
    else
      rm -rf --one-file-system "$ROOT"
    fi
  fi
}

prepare_root() {
  cleanup
  rm -rf --one-file-system "$ROOT"
  mkdir -p "$ROOT"
  tar -xf "$BASE_TAR" -C "$ROOT"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null 2>&1
  fi
  local sha
  sha=$(git -C "$PROJECT" rev-parse --verify "$REV^{commit}") || die "FRESH_REV=$REV is not a commit"
  git clone -q --no-hardlinks "$PROJECT" "$ROOT$INNER_DIR"
  git -C "$ROOT$INNER_DIR" checkout -q "$sha"
  say "project: $(git -C "$PROJECT" log -1 --format='%h %s' "$sha" | cut -c1-90)"
  [[ $REV == HEAD && -n $(git -C "$PROJECT" status --porcelain --untracked-files=no) ]] &&
    say "note: uncommitted changes in $PROJECT are not part of the check (it clones HEAD)"
  return 0
}

# Reads make's output, keeps all of it in $LOG, shows what a person needs (not dpkg's chatter), and records when
# the build and the run start: the first compiler/asc command make echoes, and the run tool's command.
PHASE_FILE=$WORK/phases
follow_make() {
  local line now
  : >"$PHASE_FILE"
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$LOG"
    now=$(date +%s)
    case $line in
      node_modules/.bin/asc* | node_modules/.bin/tsx\ tools/build/* | aarch64-linux-gnu-gcc* | wasm2c*) grep -q '^build' "$PHASE_FILE" || echo "build $now" >>"$PHASE_FILE" ;;
      node_modules/.bin/tsx\ tools/run/run.ts*) echo "run $now" >>"$PHASE_FILE" ;;
    esac
    case $line in
      Selecting\ previously* | Preparing\ to\ unpack* | Unpacking\ * | Setting\ up\ * | Processing\ triggers* | Get:* | \(Reading\ database* | Created\ symlink* | update-alternatives:*) ;;
      *) printf '  %s\n' "$line" ;;
    esac
  done
}

run_make() {
  mkdir -p "$(dirname "$LOG")"
  : >"$LOG"
  local extra=()
  [[ -n ${NODE_EXTRA_CA_CERTS:-} ]] && extra+=("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  say "running the README's 'make run' in the root (as root, no stdin; full log: ${LOG#"$PROJECT"/})"
  set +e
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb "${extra[@]}" /bin/sh -c "cd $INNER_DIR && exec make run" </dev/null 2>&1 | follow_make
  local status=${PIPESTATUS[0]}
  set -e
  return "$status"
}

main() {
  local t0 t_base t_make status=0
  t0=$(date +%s)
  mkdir -p "$WORK"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  build_base
  prepare_root
  mount_into_root
  t_base=$(since "$t0")
  t_make=$(date +%s)
  run_make || status=$?
  local t_end build_at run_at
  t_end=$(date +%s)
  build_at=$(awk '$1 == "build" { print $2 }' "$PHASE_FILE")
  run_at=$(awk '$1 == "run" { print $2 }' "$PHASE_FILE")
  local results=$ROOT$INNER_DIR/build/results missing=()
  for f in boot.json guests.json; do [[ -s $results/$f ]] || missing+=("$f"); done
  if [[ ${#missing[@]} -eq 0 ]]; then
    mkdir -p "$PROJECT/build/fresh-check"
    cp "$results/boot.json" "$results/guests.json" "$PROJECT/build/fresh-check/"
  fi

  echo
  say "phase times:"
  printf '  %-10s %5s s\n' "base root" "$t_base"
  printf '  %-10s %5s s\n' "deps" "$((${build_at:-$t_end} - t_make))"
  [[ -n $build_at ]] && printf '  %-10s %5s s\n' "build" "$((${run_at:-$t_end} - build_at))"
  [[ -n $run_at ]] && printf '  %-10s %5s s\n' "run" "$((t_end - run_at))"
  printf '  %-10s %5s s\n' "total" "$(since "$t0")"
  if [[ $status -ne 0 ]]; then
    say "FAILED: 'make run' exited $status on a fresh $SUITE; the last lines of the log:"
    grep -v -E '^(Selecting|Preparing|Unpacking|Setting up|Processing)' "$LOG" | tail -n 15 | sed 's/^/  | /'
    exit 1
  fi
  [[ ${#missing[@]} -eq 0 ]] || { say "FAILED: 'make run' exited 0 but wrote no build/results/${missing[*]}"; exit 1; }
  say "PASSED: 'make run' on a fresh $SUITE root wrote boot.json and guests.json (copies in build/fresh-check/)"
}

main "$@"
