#!/usr/bin/env bash
# CI stage for x86-64, the model of wheels/ci.sh: build the manylinux2014 x86-64 wheel with
# zig's clang (wheels/build-x86_64.sh), test it as a user gets it (wheels/test-x86_64.sh:
# a fresh venv, selftest natively and as a Haswell under qemu, the whole suite natively
# with the "emu" hypothesis profile), then build and run the C
# harnesses of tests/c/ with the same clang (CI's other run of them uses gcc): code that gcc
# happens to get right can be wrong under clang, as the i8-avx512vnni softmax sum once was.
# Called by .ci/run; downloads cached as in wheels/ci.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export FASTATTN_WHEELS_CACHE="${FASTATTN_WHEELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastattn-wheels}"

t0=$SECONDS
bash "$here/build-x86_64.sh"
t_build=$((SECONDS - t0))

rc=0
t=$SECONDS
FASTATTN_WHEEL_FULL=1 FASTATTN_WHEEL_PROFILE=emu bash "$here/test-x86_64.sh" || rc=1
t_test=$((SECONDS - t))

# Baseline x86-64 target, not zig's default (the host CPU, which would put AVX-512 everywhere).
t=$SECONDS
CC="$FASTATTN_WHEELS_CACHE/tools-venv/bin/python -m ziglang cc -target x86_64-linux-gnu" \
  bash "$here/../tests/c/run.sh" || rc=1
t_c=$((SECONDS - t))

echo
echo "=== x86-64 stage timings"
echo "zig build + auditwheel: $t_build s"
echo "wheel tests (selftest native and qemu -cpu Haswell, the suite native): $t_test s"
echo "C harnesses with clang: $t_c s"
echo "x86-64 stage total: $((SECONDS - t0)) s"
[ "$rc" = 0 ] || echo "x86-64 stage FAILED" >&2
exit "$rc"
