#!/usr/bin/env bash
# Runs the whole test suite (tests/) against the aarch64 wheel from
# wheels/build.sh, under qemu-user emulation, once per CPU model:
#   cortex-a72  Raspberry Pi 4: NEON, no dotprod (a wrongly dispatched sdot dies with SIGILL)
#   cortex-a76  Raspberry Pi 5 / Jetson Orin class: NEON + dotprod
# The interpreter is Debian's arm64 CPython 3.11 (unpacked into a sysroot);
# numpy and the test extra come from PyPI's aarch64 wheels, unzipped onto
# PYTHONPATH next to the unzipped project wheel.
#
# Usage: wheels/test.sh [CPU ...]        (default: cortex-a72 cortex-a76)
# Env:   FASTATTN_WHEEL=path.whl         (default: the cp311 aarch64 wheel in wheels/dist)
#        FASTATTN_EMU_TIMEOUT=seconds    per CPU model (default 2400)
#        FASTATTN_PYTEST_ARGS="..."      extra pytest arguments, split as a shell splits
#                                        words (never evaluated), e.g. '-x -k "dense or decode"'
# Exits non-zero if any run fails, crashes, times out, or runs no test.
set -euo pipefail
# shellcheck source=wheels/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CPUS=("$@")
[ "${#CPUS[@]}" -gt 0 ] || CPUS=(cortex-a72 cortex-a76)
TIMEOUT="${FASTATTN_EMU_TIMEOUT:-2400}"
# A folder of its own per run: runs from several checkouts may share $CACHE.
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

apt_install_if_missing qemu-aarch64-static qemu-user-static
ensure_tools
ensure_sysroot
HOSTPY="$(host_python)"

wheel="${FASTATTN_WHEEL:-}"
if [ -z "$wheel" ]; then
  wheel=$(ls -t "$WHEELS_DIR"/dist/fastattn-*-"$PYTAG"-"$PYTAG"-*manylinux*aarch64*.whl 2>/dev/null | head -1 || true)
fi
[ -n "$wheel" ] && [ -f "$wheel" ] || die "no aarch64 $PYTAG wheel in wheels/dist: run wheels/build.sh first"
echo "wheel under test: $wheel"

# numpy (the runtime dependency) plus the project's `test` extra, read from pyproject.toml.
mapfile -t reqs < <("$HOSTPY" - "$ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
meta = tomllib.load(open(sys.argv[1], "rb"))["project"]
for req in meta["dependencies"] + meta.get("optional-dependencies", {}).get("test", []):
    print(req)
EOF
)
reqkey=$(printf '%s\n' "${reqs[@]}" | sha256sum | cut -c1-16)
DEPS="$CACHE/site-deps-$PYTAG-$reqkey"
if [ ! -f "$DEPS/.complete" ]; then
  log "downloading aarch64 wheels: ${reqs[*]}"
  mkdir -p "$CACHE/pywheels"
  rm -rf "$DEPS"; mkdir -p "$DEPS/dl"
  "$TOOLS/bin/python" -m pip download -q --disable-pip-version-check \
    --only-binary=:all: --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
    --platform manylinux_2_17_aarch64 --python-version "$PYVER" --implementation cp \
    --find-links "$CACHE/pywheels" -d "$DEPS/dl" "${reqs[@]}" 2>&1 \
    | { grep -v "^WARNING: Location '.*' is ignored" || true; }
  cp -n "$DEPS"/dl/*.whl "$CACHE/pywheels/"
  for w in "$DEPS"/dl/*.whl; do "$HOSTPY" -m zipfile -e "$w" "$DEPS/site"; done
  rm -rf "$DEPS/dl"
  "$HOSTPY" -m compileall -q -j2 "$DEPS/site" >/dev/null || true
  touch "$DEPS/.complete"
fi

log "unpacking the project wheel and the tests"
mkdir -p "$WORK/site" "$WORK/run"
"$HOSTPY" -m zipfile -e "$wheel" "$WORK/site"
"$HOSTPY" -m compileall -q "$WORK/site" >/dev/null || true
# The tests run from a copy, away from the source tree, so `import fastattn`
# can only find the wheel (the checkout's fastattn/ has no aarch64 _core).
cp -r "$ROOT/tests" "$WORK/run/tests"
cp "$ROOT/pyproject.toml" "$ROOT/README.md" "$WORK/run/"   # pytest settings; the README (its tour is a test)
find "$WORK/run/tests" -name __pycache__ -prune -exec rm -rf {} +

# The hypothesis profile tests/conftest.py registers for emulation, else its CI one.
profile_args=()
for p in emu ci; do
  if grep -qE "register_profile\(\s*[\"']${p}[\"']" "$ROOT"/tests/conftest.py 2>/dev/null; then
    profile_args=("--hypothesis-profile=$p"); break
  fi
done

# FASTATTN_PYTEST_ARGS as words (quotes kept together): a file, so a bad quote stops the run.
split_args "${FASTATTN_PYTEST_ARGS:-}" > "$WORK/pytest-args" \
  || die "FASTATTN_PYTEST_ARGS is not a list of shell words: ${FASTATTN_PYTEST_ARGS:-}"
mapfile -d '' -t pytest_args < "$WORK/pytest-args"

# The interpreter as a host script that starts qemu: without binfmt_misc the
# kernel cannot exec an aarch64 ELF, so tests that run sys.executable in a
# subprocess need sys.executable to be this script (qemu -0 sets argv[0], from
# which Python takes sys.executable). CPU model and sysroot reach every nested
# qemu through QEMU_CPU and QEMU_LD_PREFIX.
mkdir -p "$WORK/bin"
PYEMU="$WORK/bin/python$PYVER"
cat > "$PYEMU" <<EOF
#!/bin/sh
exec qemu-aarch64-static -0 "\$0" "$SYSROOT/usr/bin/python$PYVER" "\$@"
EOF
chmod +x "$PYEMU"

# emu SECONDS CPU ARGS...: the arm64 python3.11 under qemu, the wheel on its path.
emu() {
  local limit="$1" cpu="$2"; shift 2
  (cd "$WORK/run" && env -u PYTHONHOME -u PYTHONSTARTUP -u FASTATTN_ISA -u FASTATTN_NUM_THREADS \
     PYTHONPATH="$WORK/site:$DEPS/site" PYTHONNOUSERSITE=1 \
     QEMU_CPU="$cpu" QEMU_LD_PREFIX="$SYSROOT" \
     timeout --kill-after=30 "$limit" "$PYEMU" "$@")
}

# check_dispatch CPU INFO_JSON: dispatch must pick the dotprod variant of an op
# exactly when the CPU model has dotprod, else the NEON one (when compiled).
check_dispatch() {
  local dot
  case "$1" in
    cortex-a53|cortex-a57|cortex-a72) dot=0 ;;
    cortex-a76|neoverse-n1|max) dot=1 ;;
    *) echo "(no dispatch expectation for -cpu $1)"; return 0 ;;
  esac
  "$HOSTPY" - "$2" "$dot" "$1" <<'EOF'
import json, sys
info, has_dot, cpu = json.load(open(sys.argv[1])), sys.argv[2] == "1", sys.argv[3]
bad = []
if info["cpu_features"].get("neondot") != has_dot:
    bad.append(f"cpu_features.neondot is {info['cpu_features'].get('neondot')}")
for op, d in info["ops"].items():
    names = d["compiled"]
    want = [n for n in names if n.endswith("-neondot")] if has_dot else []
    want = want or [n for n in names if n.endswith("-neon")]
    if want and d["chosen"] not in want:
        bad.append(f"{op}: chose {d['chosen']}, expected one of {want}")
    print(f"dispatch -cpu {cpu}: {op} -> {d['chosen']}")
for b in bad:
    print(f"error: dispatch under -cpu {cpu}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

summary=()
status=0
for cpu in "${CPUS[@]}"; do
  log "qemu -cpu $cpu: python -m fastattn info"
  emu 600 "$cpu" -c 'import fastattn; print("fastattn imported from", fastattn.__file__)' \
    || { echo "error: import fastattn failed under -cpu $cpu" >&2; status=1; }
  if emu 600 "$cpu" -m fastattn info > "$WORK/info-$cpu.json"; then
    cat "$WORK/info-$cpu.json"
    check_dispatch "$cpu" "$WORK/info-$cpu.json" || status=1
  else
    echo "error: python -m fastattn info failed under -cpu $cpu" >&2; status=1
  fi

  log "qemu -cpu $cpu: pytest tests ${profile_args[*]}"
  junit="$WORK/junit-$cpu.xml"; rm -f "$junit"
  start=$SECONDS
  rc=0
  emu "$TIMEOUT" "$cpu" -m pytest -p no:cacheprovider "${profile_args[@]}" \
    --junitxml="$junit" -o junit_family=xunit2 "${pytest_args[@]}" tests || rc=$?
  took=$((SECONDS - start))
  [ "$rc" = 124 ] && echo "error: pytest under -cpu $cpu timed out after $TIMEOUT s" >&2
  counts=$("$HOSTPY" - "$junit" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0 0 0"); raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t, f, e, s = (sum(int(x.get(k, 0)) for x in suites) for k in ("tests", "failures", "errors", "skipped"))
print(t, t - f - e - s, f, e, s)
EOF
)
  read -r _total passed failed errors skipped <<<"$counts"
  line="-cpu $cpu: $passed passed, $failed failed, $errors errors, $skipped skipped in ${took}s (pytest exit $rc)"
  echo "$line"
  summary+=("$line")
  if [ "$rc" != 0 ] || [ "$passed" = 0 ]; then
    status=1
    [ "$passed" = 0 ] && echo "error: no test passed under -cpu $cpu" >&2
  fi
done

log "emulated test summary (wheel $(basename "$wheel"))"
printf '%s\n' "${summary[@]}"
exit "$status"
