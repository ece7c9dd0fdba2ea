# shellcheck shell=bash disable=SC2034
# Shared helpers for the scripts of wheels/ (sourced, not run).
#
# Everything downloaded or unpacked lives under $CACHE (default wheels/.cache,
# git-ignored; set FASTATTN_WHEELS_CACHE to share it between clones), so a
# rerun only re-resolves versions. Nothing is installed into / except Debian
# packages for the host (qemu-user-static, binutils, python3.11) and the arm64
# architecture in dpkg, which apt-get needs to download arm64 debs.

WHEELS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$WHEELS_DIR/.." && pwd)"
CACHE="${FASTATTN_WHEELS_CACHE:-$WHEELS_DIR/.cache}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

# The only aarch64 CPython that Debian bookworm ships: cross builds and the
# emulated run both target it.
PYVER=3.11
PYTAG=cp311
EXT_SUFFIX=".cpython-311-aarch64-linux-gnu.so"
SYSROOT="$CACHE/sysroot-py$PYVER"
TOOLS="$CACHE/tools-venv"

[ "$(uname -m)" = x86_64 ] && command -v apt-get >/dev/null \
  || { echo "error: wheels/ expects an x86-64 Debian (bookworm) host with apt-get" >&2; exit 1; }

log() { printf '\n=== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) for: $*"
  fi
}

_apt_updated=0
apt_update_once() {
  if [ "$_apt_updated" = 0 ]; then
    as_root apt-get update -q >/dev/null
    _apt_updated=1
  fi
}

# apt_install_if_missing COMMAND PACKAGE...: installs the packages when COMMAND is absent.
apt_install_if_missing() {
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null && return 0
  log "installing $* (for $cmd)"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  command -v "$cmd" >/dev/null || die "$cmd still missing after installing $*"
}

# A host CPython $PYVER: it sets the wheel's cp311 tag, runs Cython and
# compiles the sysroot's stdlib to .pyc (bytecode is portable across CPUs).
host_python() {
  if [ -n "${FASTATTN_HOST_PYTHON:-}" ]; then echo "$FASTATTN_HOST_PYTHON"; return; fi
  local py
  for py in "$(command -v "python$PYVER" || true)" "/usr/bin/python$PYVER"; do
    if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python$PYVER" "python$PYVER-venv" >/dev/null
  echo "/usr/bin/python$PYVER"
}

# split_args STRING: prints STRING's words, each ending in a NUL byte, split as a shell
# splits words (quotes group, a backslash escapes) but with nothing expanded or run (shlex,
# in the host Python), so `-k "a or b"` stays one word. Fails on an unbalanced quote.
split_args() {
  "$(host_python)" -c 'import shlex, sys
sys.stdout.write("".join(w + "\0" for w in shlex.split(sys.argv[1])))' "$1"
}

# A venv with the pinned build tools (wheels/requirements-tools.txt).
ensure_tools() {
  local req="$WHEELS_DIR/requirements-tools.txt" stamp="$TOOLS/.requirements"
  if [ -x "$TOOLS/bin/python" ] && cmp -s "$req" "$stamp"; then return; fi
  log "creating build-tools venv in $TOOLS"
  rm -rf "$TOOLS"
  "$(host_python)" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2>&1 \
    | { grep -v "^WARNING: Location '.*' is ignored" || true; }
  cp "$req" "$stamp"
}

ensure_arm64_apt() {
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "enabling the arm64 architecture in dpkg (to download arm64 debs)"
    as_root dpkg --add-architecture arm64
    _apt_updated=0
  fi
  if ! apt-cache show "libpython$PYVER-dev:arm64" >/dev/null 2>&1; then
    apt_update_once
  fi
  apt-cache show "libpython$PYVER-dev:arm64" >/dev/null 2>&1 \
    || die "apt cannot see libpython$PYVER-dev:arm64 (not Debian bookworm?)"
}

# Debian arm64 debs for CPython $PYVER (interpreter, stdlib, headers) and the
# C/C++ runtime libraries they and the numpy/scipy wheels load, unpacked with
# dpkg -x into $SYSROOT. Never installed into /.
ensure_sysroot() {
  [ -f "$SYSROOT/.complete" ] && return 0
  ensure_arm64_apt
  log "building the arm64 sysroot in $SYSROOT"
  local roots=("python$PYVER-minimal:arm64" "libpython$PYVER-stdlib:arm64" "libstdc++6:arm64")
  # Recursive dependencies, arm64 only; the package tools (dpkg, tar, perl)
  # are dependencies of nothing we run. The headers package comes without its
  # dependencies: its libc6-dev would bring glibc 2.36 headers.
  local pkgs
  pkgs="libpython$PYVER-dev:arm64 "$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
           --no-breaks --no-replaces --no-enhances "${roots[@]}" 2>/dev/null \
         | grep -E '^[a-z0-9][^ ]*:arm64$' \
         | grep -vE '^(dpkg|install-info|tar|perl[^:]*|libperl[^:]*|debconf[^:]*):' | sort -u)
  mkdir -p "$CACHE/debs"
  local missing=() p name
  for p in $pkgs; do
    name="${p%:arm64}"
    compgen -G "$CACHE/debs/${name}_*_arm64.deb" >/dev/null || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    (cd "$CACHE/debs" && apt-get download -qq "${missing[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  fi
  rm -rf "$SYSROOT"; mkdir -p "$SYSROOT"
  for p in $pkgs; do
    name="${p%:arm64}"
    local deb
    deb=$(ls -t "$CACHE/debs/${name}"_*_arm64.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "download of $p failed"
    dpkg -x "$deb" "$SYSROOT"
  done
  [ -x "$SYSROOT/usr/bin/python$PYVER" ] || die "sysroot has no python$PYVER"
  [ -f "$SYSROOT/usr/include/python$PYVER/Python.h" ] || die "sysroot has no Python.h"
  # Debian ships no .pyc; compiling the stdlib on the host cuts the emulated
  # interpreter's start-up several-fold.
  "$(host_python)" -m compileall -q -j2 -s "$SYSROOT" -p / "$SYSROOT/usr/lib/python$PYVER" >/dev/null || true
  # Only CPython's headers go on the cross compiler's include path, never the
  # sysroot's /usr/include.
  mkdir -p "$SYSROOT/pyinclude/aarch64-linux-gnu"
  ln -s "../usr/include/python$PYVER" "$SYSROOT/pyinclude/python$PYVER"
  ln -s "../../usr/include/aarch64-linux-gnu/python$PYVER" "$SYSROOT/pyinclude/aarch64-linux-gnu/python$PYVER"
  touch "$SYSROOT/.complete"
}

# zig_cc_wrapper TRIPLE: writes $CACHE/bin/zigcc-TRIPLE, a one-word compiler command for zig's
# clang targeting TRIPLE (setuptools splits $CC on spaces), and prints its path.
zig_cc_wrapper() {
  local w="$CACHE/bin/zigcc-$1"
  mkdir -p "$CACHE/bin"
  printf '#!/bin/sh\nexec "%s" -m ziglang cc -target %s "$@"\n' "$TOOLS/bin/python" "$1" > "$w"
  chmod +x "$w"
  echo "$w"
}

# copy_source DEST: the checkout's tracked and untracked-but-not-ignored files, so that local
# build products (an in-place _core.so, build/) never leak into a wheel.
copy_source() {
  mkdir -p "$1"
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
     | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
     | xargs -0 cp --parents -t "$1")
}

# zig_build WORK ZIGCC PLATFORM EXT_SUFFIX CPPFLAGS [BUILD_ARG...]: `python -m build
# --no-isolation` of WORK/src into WORK/raw with zig's clang, stripped (LDFLAGS=-s), for the
# setuptools platform PLATFORM (e.g. linux-aarch64: the wheel tag, and setup.py's kernel
# choice) with extension suffix EXT_SUFFIX (without it a cross-built module gets the host's
# suffix and will not import). Log in WORK/build.log; its warnings are printed.
zig_build() {
  local work="$1" zigcc="$2" platform="$3" suffix="$4" cppflags="$5" start=$SECONDS
  shift 5
  mkdir -p "$work/raw"
  (
    cd "$work"
    export PATH="$TOOLS/bin:$PATH"
    export CC="$zigcc" LDSHARED="$zigcc -shared" LDFLAGS="-s"
    # setuptools uses these instead of the host interpreter's flags.
    export CFLAGS="-DNDEBUG -fwrapv -O3 -Wall" CPPFLAGS="$cppflags"
    export _PYTHON_HOST_PLATFORM="$platform" SETUPTOOLS_EXT_SUFFIX="$suffix"
    "$TOOLS/bin/python" -m build --no-isolation "$@" --outdir "$work/raw" "$work/src" > "$work/build.log" 2>&1 \
      || { tail -n 60 "$work/build.log"; die "build failed (the end of its log is above)"; }
  )
  grep -E 'warning:|error:' "$work/build.log" | sort -u | head -n 40 || true
  echo "build took $((SECONDS - start)) s"
}

# check_glibc_floor MAX FLOOR: fails when symbol version GLIBC_MAX is newer than GLIBC_FLOOR.
check_glibc_floor() {
  if [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; then
    die "needs GLIBC_$1, newer than the manylinux2014 floor $2"
  fi
}

# repair_wheel WORK RAW PLAT TAG...: auditwheel repair of wheel RAW into WORK/repaired
# (--plat PLAT; log in WORK/repair.log), then unzips it into WORK/unzipped. The repaired
# wheel's name must contain one of the TAGs (e.g. manylinux2014_x86_64). Sets $whl and $unz.
repair_wheel() {
  local work="$1" raw="$2" plat="$3" tag name
  shift 3
  log "auditwheel repair"
  mkdir -p "$work/repaired"
  PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/auditwheel" repair --plat "$plat" -w "$work/repaired" "$raw" \
    >"$work/repair.log" 2>&1 || { cat "$work/repair.log"; die "auditwheel repair failed"; }
  whl=$(ls "$work"/repaired/*.whl | head -1)
  name=$(basename "$whl")
  for tag in "$@"; do
    case "$name" in *"$tag"*) unz="$work/unzipped"; rm -rf "$unz"
      "$TOOLS/bin/python" -m zipfile -e "$whl" "$unz"; return 0;; esac
  done
  die "unexpected platform tag: $name (want $*)"
}
