#!/usr/bin/env bash
# CI stage for aarch64: cross-build the cp311 wheel, then run the whole test
# suite against it under qemu as a Raspberry Pi 4 (cortex-a72) and as a
# Pi 5 / Jetson Orin class CPU (cortex-a76), then the C harnesses of tests/c/. Called by .ci/run after the
# native suite. Downloads are cached across runs on the same machine in
# $FASTATTN_WHEELS_CACHE (default ~/.cache/fastattn-wheels), since CI starts
# from a fresh clone each time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export FASTATTN_WHEELS_CACHE="${FASTATTN_WHEELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastattn-wheels}"

t0=$SECONDS
bash "$here/build.sh"
t_build=$((SECONDS - t0))

rc=0
times=()
for cpu in cortex-a72 cortex-a76; do
  t=$SECONDS
  bash "$here/test.sh" "$cpu" || rc=1
  times+=("emulated tests -cpu $cpu: $((SECONDS - t)) s")
done

# The C harnesses of tests/c/, cross-built (static, musl) and run under both CPU models.
t=$SECONDS
CC_AARCH64="$FASTATTN_WHEELS_CACHE/tools-venv/bin/python -m ziglang cc -target aarch64-linux-musl" \
  bash "$here/../tests/c/run.sh" aarch64 cortex-a72 cortex-a76 || rc=1
times+=("C harnesses, both CPU models: $((SECONDS - t)) s")

echo
echo "=== aarch64 stage timings"
echo "cross build + auditwheel: $t_build s"
printf '%s\n' "${times[@]}"
echo "aarch64 stage total: $((SECONDS - t0)) s"
[ "$rc" = 0 ] || echo "aarch64 stage FAILED" >&2
exit "$rc"
