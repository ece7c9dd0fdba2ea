#!/usr/bin/env bash
# Builds the fastattn wheel for x86-64 Linux (CPython 3.11) the way wheels/build.sh builds
# the aarch64 one, without a container engine:
#   zig's clang targeting x86_64-linux-gnu with glibc 2.17 headers/stubs (the host's gcc
#   would link glibc 2.36 symbols), the host CPython's headers, stripped (LDFLAGS=-s),
#   auditwheel repair to manylinux2014_x86_64, and checks that no symbol needs a glibc
#   newer than 2.17 and that the extension carries no debug sections.
# Output: wheels/dist/fastattn-*-cp311-cp311-manylinux*_x86_64.whl
# Test it with wheels/test-x86_64.sh.
set -euo pipefail
# shellcheck source=wheels/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="$WHEELS_DIR/dist"
# A folder of its own per run: builds from several checkouts may share $CACHE.
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/build-x86_64.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
GLIBC_FLOOR=2.17
X86_SUFFIX=".cpython-311-x86_64-linux-gnu.so"

apt_install_if_missing readelf binutils
ensure_tools
PYINC=$("$TOOLS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$PYINC/Python.h" ] || die "no Python.h under $PYINC (install python$PYVER-dev)"

ZIGCC=$(zig_cc_wrapper "x86_64-linux-gnu.$GLIBC_FLOOR")

log "copying the source tree"
copy_source "$WORK/src"

log "compiling with zig cc (glibc $GLIBC_FLOOR), stripped"
zig_build "$WORK" "$ZIGCC" linux-x86_64 "$X86_SUFFIX" "-I$PYINC" --wheel

raw=$(ls "$WORK"/raw/fastattn-*-"$PYTAG"-"$PYTAG"-linux_x86_64.whl 2>/dev/null | head -1 || true)
[ -n "$raw" ] || die "no linux_x86_64 wheel produced: $(ls "$WORK/raw")"

repair_wheel "$WORK" "$raw" manylinux2014_x86_64 manylinux2014_x86_64 manylinux_2_17_x86_64

log "checking the extension module"
so="$unz/fastattn/_core$X86_SUFFIX"
[ -f "$so" ] || die "fastattn/_core$X86_SUFFIX missing from the wheel"
readelf -h "$so" | grep -q 'Machine:.*X86-64' || die "$so is not an x86-64 ELF"
if readelf -S -W "$so" | grep -qE '\.debug_|\.symtab'; then
  die "$so is not stripped: $(readelf -S -W "$so" | grep -oE '\.(debug_[a-z]+|symtab)' | sort -u | tr '\n' ' ')"
fi
max_glibc=$(readelf -V -W "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
echo "  fastattn/_core$X86_SUFFIX: $(stat -c %s "$so") bytes, stripped, highest GLIBC_$max_glibc"
check_glibc_floor "$max_glibc" "$GLIBC_FLOOR"
"$TOOLS/bin/auditwheel" show "$whl"

mkdir -p "$OUT"
rm -f "$OUT"/fastattn-*-"$PYTAG"-*x86_64.whl
cp "$whl" "$OUT/"
log "done"
echo "wheel: $OUT/$(basename "$whl") ($(stat -c %s "$whl") bytes)"
