#!/usr/bin/env bash
# Tests the x86-64 wheel from wheels/build-x86_64.sh as a user gets it: a fresh venv,
# `pip install` of the wheel (numpy from PyPI, no compiler involved), then, from a
# folder away from the source tree:
#   - `python -m fastattn --version`, `info` and `selftest` on this CPU;
#   - the same under `qemu-x86_64 -cpu Haswell` (AVX2 and FMA, no AVX-512): dispatch must
#     pick the avx2 kernels and every variant that runs there must pass;
#   - with FASTATTN_WHEEL_FULL=1, the whole test suite against the wheel (natively;
#     hypothesis profile FASTATTN_WHEEL_PROFILE, default ci). The selftest's tolerances
#     cannot see a one-ulp drift between variants; the suite's bit-for-bit tests can.
# Cost: a venv, a native selftest (1 s) and an emulated one (20-40 s); the suite 1-3 min.
set -euo pipefail
# shellcheck source=wheels/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_tools
whl=$(ls "$WHEELS_DIR"/dist/fastattn-*-"$PYTAG"-*x86_64.whl 2>/dev/null | head -1 || true)
[ -n "$whl" ] || die "no x86-64 wheel in $WHEELS_DIR/dist: run wheels/build-x86_64.sh first"
WORK="$(mktemp -d "$CACHE/test-x86_64.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/run"

log "fresh venv with $(basename "$whl")"
"$TOOLS/bin/python" -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
extras=()
[ "${FASTATTN_WHEEL_FULL:-0}" = 1 ] && extras=(pytest hypothesis scipy)
"$PY" -m pip install -q --disable-pip-version-check "$whl" "${extras[@]}"

cd "$WORK/run"
status=0
log "native: version, info, selftest"
"$PY" -m fastattn --version
"$PY" -m fastattn info > info-native.json
"$PY" -c 'import fastattn; print("fastattn from", fastattn.__file__)'
"$PY" -m fastattn selftest || status=1

if command -v qemu-x86_64-static >/dev/null || apt_install_if_missing qemu-x86_64-static qemu-user-static; then
  log "qemu-x86_64 -cpu Haswell (no AVX-512): info, selftest"
  # qemu's TCG lacks a few Haswell features no kernel uses (TSX, pcid, x2apic): one warning each.
  haswell() { qemu-x86_64-static -cpu Haswell "$@" 2> >(grep -v "TCG doesn't support requested feature" >&2); }
  haswell "$PY" -m fastattn info > info-haswell.json || status=1
  "$PY" - info-haswell.json <<'EOF' || status=1
import json, sys
info = json.load(open(sys.argv[1]))
bad = [f"{op} chose {d['chosen']}" for op, d in info["ops"].items()
       if not d["chosen"].endswith("-avx2")]
assert not info["cpu_features"]["avx512vnni"], "Haswell reports avx512vnni"
assert not info["cpu_features"]["avx512"], "Haswell reports avx512"
print("dispatch under -cpu Haswell:", {op: d["chosen"] for op, d in info["ops"].items()})
if bad:
    sys.exit("error: " + "; ".join(bad))
EOF
  haswell "$PY" -m fastattn selftest || status=1
fi

if [ "${FASTATTN_WHEEL_FULL:-0}" = 1 ]; then
  log "the whole test suite against the wheel"
  cp -r "$ROOT/tests" "$WORK/run/tests"
  cp "$ROOT/pyproject.toml" "$ROOT/README.md" "$WORK/run/"   # pytest settings; the README (its tour is a test)
  "$PY" -m pytest -q -p no:cacheprovider --hypothesis-profile="${FASTATTN_WHEEL_PROFILE:-ci}" tests \
    || status=1
fi
[ "$status" = 0 ] && log "x86-64 wheel: all checks passed" || echo "x86-64 wheel: FAILED" >&2
exit "$status"
