#!/usr/bin/env bash
# Builds the C harnesses of tests/c/ against csrc/ and runs them.
#   tests/c/run.sh                      native: $CC (default cc), every harness this CPU runs
#   CC="python -m ziglang cc" tests/c/run.sh   the same with clang: CI runs both compilers, since
#                                       code gcc happens to get right can be wrong under clang
#   tests/c/run.sh aarch64 CPU...       cross-built with $CC_AARCH64 (static), run under
#                                       qemu-aarch64-static -cpu CPU for each CPU model
# The library sources are csrc/**/*.c minus the <dtype>-<isa>.c files of ISAs that
# csrc/include/fastattn/isa.def puts on another architecture (as setup.py selects them).
# Exits non-zero when a harness fails to build, fails, or crashes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${1:-native}"
[ $# -gt 0 ] && shift
cpus=("$@")
if [ "$target" = native ]; then
  arch="$(uname -m)"
  cc=(${CC:-cc})
  flags=()
else
  arch="$target"
  [ -n "${CC_AARCH64:-}" ] || { echo "CC_AARCH64 is not set (e.g. 'python -m ziglang cc -target aarch64-linux-musl')" >&2; exit 2; }
  cc=($CC_AARCH64)
  flags=(-static)
  [ ${#cpus[@]} -gt 0 ] || cpus=(cortex-a72 cortex-a76)
fi

# ISAs of other architectures, from isa.def's rows FA_ISA(name, rank, arch, ...).
other=$(sed -n 's/^FA_ISA(\([a-z0-9_]*\), *[0-9]*, *\([a-z0-9_]*\),.*/\1 \2/p' csrc/include/fastattn/isa.def \
  | awk -v a="$arch" '$2 != "any" && $2 != a {print $1}')
srcs=()
while IFS= read -r f; do
  isa="${f##*-}"; isa="${isa%.c}"
  skip=0
  for o in $other; do [ "$isa" = "$o" ] && skip=1; done
  [ "$skip" = 0 ] && srcs+=("$f")
done < <(find csrc -name '*.c' | sort)

harnesses=(dense_i8_harness sparse_i8_harness armcount_driver)
if [ "$arch" = x86_64 ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  harnesses+=(i8_exp_x86)  # AVX2 softmax always, AVX-512 VNNI where the CPU has it
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
# The library is compiled once, two files at a time, and linked into every harness.
cflags=(-std=gnu11 -O2 -Wall -Icsrc/include -Icsrc)
mkdir -p "$work/obj"
objs=()
for f in "${srcs[@]}"; do objs+=("$work/obj/$(echo "${f%.c}" | tr / _).o"); done
compile() { "${cc[@]}" "${cflags[@]}" -c "$1" -o "$2" 2>"$2.log" || { cat "$2.log" >&2; return 1; }; }
running=0
for i in "${!srcs[@]}"; do
  compile "${srcs[i]}" "${objs[i]}" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then wait -n || status=1; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || status=1; running=$((running - 1)); done
[ "$status" = 0 ] || { echo "error: csrc/ did not build for $arch with ${cc[*]}" >&2; exit 1; }
for h in "${harnesses[@]}"; do
  extra=("${objs[@]}")
  [ "$h" = i8_exp_x86 ] && extra=("$work/obj/csrc_common_cpu.o")  # fa_cpu_has only
  if ! "${cc[@]}" "${cflags[@]}" "${flags[@]}" "tests/c/$h.c" "${extra[@]}" \
      -lm -lpthread -o "$work/$h" 2>"$work/$h.log"; then
    cat "$work/$h.log" >&2; echo "error: tests/c/$h.c did not build for $arch" >&2; status=1; continue
  fi
  args=()
  isa=$([ "$arch" = aarch64 ] && echo neon || echo scalar)
  [ "$h" = armcount_driver ] && args=("i8-$isa,f32-$isa,linear-causal:f32-$isa,performer:f32-$isa,linformer:f32-$isa,decode:f32-$isa,decode:i8-$isa" 96 2 1)
  if [ "$target" = native ]; then
    echo "=== tests/c/$h (native $arch)"
    "$work/$h" "${args[@]}" || { echo "error: tests/c/$h failed" >&2; status=1; }
  else
    for cpu in "${cpus[@]}"; do
      echo "=== tests/c/$h (qemu -cpu $cpu)"
      qemu-aarch64-static -cpu "$cpu" "$work/$h" "${args[@]}" \
        || { echo "error: tests/c/$h failed under -cpu $cpu" >&2; status=1; }
    done
  fi
done
exit "$status"
