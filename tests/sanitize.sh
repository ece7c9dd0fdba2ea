#!/usr/bin/env bash
# The test suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
# extension. Fails on any sanitizer report, and on any test failure.
#
#   bash tests/sanitize.sh                 # the whole suite, hypothesis profile "emu"
#   bash tests/sanitize.sh tests/test_bad_input.py -x     # extra args go to pytest
#   SANITIZE_PROFILE=ci bash tests/sanitize.sh            # as many examples as native CI
#
# The tracked (and new, unignored) files are copied to a scratch directory and built there
# with CFLAGS/LDFLAGS (setuptools honours them), so the in-place build is left alone.
# CPython itself is not instrumented: libasan is preloaded, and leak detection is off
# (CPython keeps its arenas to exit). The "emu" profile runs every test with fewer
# hypothesis examples: the instrumented kernels are 3-10x slower.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
python=${PYTHON:-python3}
[ -x /work/venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=/work/venv/bin/python
cc=${CC:-gcc}

work=$(mktemp -d "${TMPDIR:-/tmp}/fastattn-sanitize.XXXXXX")
trap 'rm -rf "$work"' EXIT
git ls-files -co --exclude-standard -z | grep -zv '\.so$' | xargs -0 cp --parents -t "$work"

flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
(cd "$work" && CC="$cc" CFLAGS="$flags" LDFLAGS="$flags" \
  "$python" setup.py build_ext --inplace -q >build.log 2>&1) || {
  cat "$work/build.log" >&2
  echo "sanitize: the instrumented build failed" >&2
  exit 1
}

asan=$("$cc" -print-file-name=libasan.so)
ubsan=$("$cc" -print-file-name=libubsan.so)
log=$work/sanitizer
status=0
(cd "$work" && \
  LD_PRELOAD="$asan $ubsan" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$log" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$log" \
  PYTHONPATH=. "$python" -m pytest -q -p no:cacheprovider \
    --hypothesis-profile="${SANITIZE_PROFILE:-emu}" "$@") || status=$?

if compgen -G "$log.*" >/dev/null; then
  cat "$log".* >&2
  echo "sanitize: sanitizer reports above (see the first one)" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize: pytest exited with $status" >&2
  exit "$status"
fi
echo "sanitize: no ASan/UBSan report"
