/* The x86-64 softmax steps against the scalar definition in flash/i8.h: AVX2 (16-bit
 * lanes, vpshufb byte planes, mulhi/vpmulhrsw) always, AVX-512 VNNI (whole-table vpermt2w)
 * where the CPU has it. Every z in [0, 4095] once, then strided z (clamped above 4095,
 * masked -inf, round-half cases, scores up to 1/256 above the reference point r: z clamped
 * at 0) at every tile width, then reference points too large for 256 * r (AVX2's scalar
 * fallback):
 *   cc -std=gnu11 -O2 -Icsrc/include -Icsrc tests/c/i8_exp_x86.c -lm -o e && ./e
 * (gcc or clang: the VNNI 16-wide tail's row sum once went wrong under clang only).
 * Exit status 0 = every P and every row sum equal. Needs an AVX2 CPU. main and the checks
 * come first, compiled without ISA flags; each ISA's wrapper after them in its target. */
#include <stdio.h>
#include "common/target.h"
#include "fastattn/cpu.h"
#include "flash/i8.h"
FA_EXACT_FP

typedef uint32_t (*exp_fn)(const float *t, size_t npad, float m, uint8_t *p);
static uint32_t exp_avx2(const float *t, size_t npad, float m, uint8_t *p);
static uint32_t exp_avx512vnni(const float *t, size_t npad, float m, uint8_t *p);

static long check(exp_fn fn, const float *t, size_t npad, float m, long *n) {
  uint8_t p[FA_I8_NK];
  const uint32_t sum = fn(t, npad, m, p);
  uint32_t ref_sum = 0;
  long bad = 0;
  for (size_t c = 0; c < npad; c++, (*n)++) {
    const uint32_t e = fa_i8_exp_lut1(fa_i8_z1(m, t[c]));
    ref_sum += e;
    bad += e != p[c];
  }
  return bad + (sum != ref_sum);
}

static long check_all(exp_fn fn, long *n) {
  float t[FA_I8_NK];
  long bad = 0;
  for (int base = 0; base < 4096; base += FA_I8_NK) {
    for (int c = 0; c < FA_I8_NK; c++) t[c] = -(float)(base + c) / 256.0f; /* z = base + c */
    bad += check(fn, t, FA_I8_NK, 0.0f, n);
  }
  for (int z0 = -64; z0 < 4400; z0 += 7)
    for (size_t npad = 16; npad <= FA_I8_NK; npad += 16) {
      const float m = z0 % 3 == 0 ? 0.0f : z0 % 3 == 1 ? 3.25f : -1.0e6f;
      for (size_t c = 0; c < npad; c++) {
        const int z = z0 + (int)(c * 37 % 4200);
        t[c] = m - (float)z / 256.0f + (c % 5 == 0 ? 1.0f / 1024 : 0.0f);
        if (c % 23 == 7) t[c] = -INFINITY;
        if (t[c] > m) t[c] = m + (float)(c % 4) / 1024.0f; /* z in -1..0: clamped at 0 */
      }
      bad += check(fn, t, npad, m, n);
    }
  for (int u = 0; u < 4; u++) { /* |m| at and beyond 2^120 */
    const float m = u % 2 ? -0x1p121f : 0x1p125f;
    for (size_t c = 0; c < FA_I8_NK; c++) t[c] = c % 3 ? m - fabsf(m) * (float)c * 0x1p-20f : m;
    bad += check(fn, t, FA_I8_NK, m, n);
  }
  return bad;
}

int main(void) {
  long n = 0, bad = check_all(exp_avx2, &n);
  printf("avx2: %ld values, %ld mismatches\n", n, bad);
  if (fa_cpu_has(FA_ISA_avx512vnni)) { /* not __builtin_cpu_supports: always 0 under zig */
    long nv = 0, badv = check_all(exp_avx512vnni, &nv);
    printf("avx512vnni: %ld values, %ld mismatches\n", nv, badv);
    bad += badv;
  }
  return bad != 0;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options /* FA_TARGET_END closes nothing under GCC */
#endif
FA_TARGET_BEGIN("avx2,fma")
#include "ukernels/i8-avx2.h"
static uint32_t exp_avx2(const float *t, size_t npad, float m, uint8_t *p) {
  return fa_i8_exp_lut_avx2(t, npad, m, p);
}
FA_TARGET_END
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")
#include "ukernels/i8-avx512vnni.h"
static uint32_t exp_avx512vnni(const float *t, size_t npad, float m, uint8_t *p) {
  return fa_i8_exp_lut_avx512vnni(t, npad, m, p);
}
FA_TARGET_END
