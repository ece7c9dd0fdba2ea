/* The AVX-512 VNNI softmax step (16-bit lanes, whole-table vpermt2w) against the
 * scalar definition in flash/i8.h: every z in [0, 4095] once, then strided z
 * (clamped above 4095, masked -inf, round-half cases) at every tile width:
 *   cc -std=gnu11 -O2 -Icsrc/include -Icsrc tests/c/i8_exp_avx512vnni.c -lm -o e && ./e
 * (gcc or clang: the 16-wide tail's row sum once went wrong under clang only).
 * Exit status 0 = every P and every row sum equal. Needs an AVX-512 VNNI CPU. */
#include <immintrin.h>
#include <stdio.h>

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni") /* gcc and clang alike */
#include "ukernels/i8-avx512vnni.h"

static long check(const float *t, size_t npad, float m, long *n) {
  uint8_t p[FA_I8_NK];
  const uint32_t sum = fa_i8_exp_lut_avx512vnni(t, npad, m, p);
  uint32_t ref_sum = 0;
  long bad = 0;
  for (size_t c = 0; c < npad; c++, (*n)++) {
    const uint32_t e = fa_i8_exp_lut1(fa_i8_z1(m, t[c]));
    ref_sum += e;
    bad += e != p[c];
  }
  return bad + (sum != ref_sum);
}

int main(void) {
  float t[FA_I8_NK];
  long bad = 0, n = 0;
  for (int base = 0; base < 4096; base += FA_I8_NK) {
    for (int c = 0; c < FA_I8_NK; c++) t[c] = -(float)(base + c) / 256.0f; /* z = base + c */
    bad += check(t, FA_I8_NK, 0.0f, &n);
  }
  for (int z0 = -64; z0 < 4400; z0 += 7)
    for (size_t npad = 16; npad <= FA_I8_NK; npad += 16) {
      const float m = z0 % 3 == 0 ? 0.0f : 3.25f;
      for (size_t c = 0; c < npad; c++) {
        const int z = z0 + (int)(c * 37 % 4200);
        t[c] = m - (float)z / 256.0f + (c % 5 == 0 ? 1.0f / 1024 : 0.0f);
        if (c % 23 == 7 || t[c] > m) t[c] = c % 23 == 7 ? -INFINITY : m;
      }
      bad += check(t, npad, m, &n);
    }
  printf("%ld values, %ld mismatches\n", n, bad);
  return bad != 0;
}

FA_TARGET_END
