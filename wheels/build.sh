#!/usr/bin/env bash
# Cross-builds the fastattn wheel for aarch64 Linux (CPython 3.11) on an
# x86-64 Debian host, without a container engine:
#   zig's clang targeting aarch64-linux-gnu with glibc 2.17 headers/stubs,
#   CPython headers from Debian's arm64 libpython3.11-dev (unpacked, not installed),
#   sdist first, then the wheel from the sdist (so the sdist is proven complete),
#   auditwheel repair to manylinux2014_aarch64, and a check that no symbol needs
#   a glibc newer than 2.17.
# Output: wheels/dist/fastattn-*-cp311-cp311-manylinux2014_aarch64*.whl and the sdist.
set -euo pipefail
# shellcheck source=wheels/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="$WHEELS_DIR/dist"
# A folder of its own per run: builds from several checkouts may share $CACHE.
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
GLIBC_FLOOR=2.17

apt_install_if_missing readelf binutils
ensure_tools
ensure_sysroot

ZIGCC=$(zig_cc_wrapper "aarch64-linux-gnu.$GLIBC_FLOOR")

log "copying the source tree"
copy_source "$WORK/src"

log "cross-compiling (sdist, then the aarch64 wheel from it)"
# _PYTHON_HOST_PLATFORM makes setuptools tag the wheel linux_aarch64 and setup.py pick the aarch64 kernels.
zig_build "$WORK" "$ZIGCC" linux-aarch64 "$EXT_SUFFIX" \
  "-I$SYSROOT/pyinclude/python$PYVER -I$SYSROOT/pyinclude"

raw=$(ls "$WORK"/raw/fastattn-*-"$PYTAG"-"$PYTAG"-linux_aarch64.whl 2>/dev/null | head -1 || true)
[ -n "$raw" ] || die "no linux_aarch64 wheel produced: $(ls "$WORK/raw")"

# --plat auto: auditwheel refuses explicit aarch64 policies on an x86 host.
repair_wheel "$WORK" "$raw" auto manylinux2014_aarch64

log "checking the extension module"
mapfile -t sos < <(find "$unz" -name '*.so*' -type f | sort)
[ "${#sos[@]}" -gt 0 ] || die "wheel holds no shared object"
max_glibc=""
for so in "${sos[@]}"; do
  readelf -h "$so" | grep -q 'Machine:.*AArch64' || die "$so is not an AArch64 ELF"
  v=$(readelf -V -W "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1 || true)
  echo "  ${so#"$unz"/}: highest GLIBC_$v"
  max_glibc=$(printf '%s\n%s\n' "$max_glibc" "$v" | sed '/^$/d' | sort -V | tail -1)
done
[ -f "$unz/fastattn/_core$EXT_SUFFIX" ] || die "fastattn/_core$EXT_SUFFIX missing from the wheel"

log "auditwheel show"
"$TOOLS/bin/auditwheel" show "$whl"
echo "max GLIBC symbol version needed: GLIBC_$max_glibc"
check_glibc_floor "$max_glibc" "$GLIBC_FLOOR"

mkdir -p "$OUT"
rm -f "$OUT"/fastattn-*-"$PYTAG"-*aarch64*.whl "$OUT"/fastattn-*.tar.gz
cp "$whl" "$OUT/"
cp "$WORK"/raw/fastattn-*.tar.gz "$OUT/" 2>/dev/null || true
log "done"
ls -l "$OUT"
echo "wheel: $OUT/$(basename "$whl")"
