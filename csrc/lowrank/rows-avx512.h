/* AVX-512 output rows of the low-rank scans (fa_lr_ukernels.divide_rows). Include only from a
 * file compiled with the avx512 target (lowrank/f32-avx512.h does). */
#ifndef FASTATTN_LOWRANK_ROWS_AVX512_H
#define FASTATTN_LOWRANK_ROWS_AVX512_H

#include <immintrin.h>
#include <string.h>
#include "lowrank/vec.h"

/* Plain 512-bit stores, not AVX2's non-temporal ones: with the AVX-512 GEMM tiles between
 * the calls, non-temporal stores made non-causal linear attention (L=4096, 8 heads) 0.5 ms
 * slower when the output is 64-byte aligned and 1.1-1.7 ms slower when it is 16 bytes off a
 * line, as numpy's large arrays are (plain stores: the same time either way). */
static void fa_lr_divide_rows_avx512(float *out, ptrdiff_t out_rs, const float *num, size_t ld,
                                     const float *den, size_t rows, size_t dv, int fence) {
  (void)fence; /* plain stores: nothing to order */
  for (size_t r = 0; r < rows; r++) {
    float *orow = out + (ptrdiff_t)r * out_rs;
    const float *nrow = num + r * ld;
    if (den[r] == 0.0f) {
      memset(orow, 0, dv * sizeof(float));
      continue;
    }
    int mul;
    const __m512 dr = _mm512_set1_ps(fa_lr_row_divisor(den[r], &mul));
    size_t x = 0;
    for (; x + 16 <= dv; x += 16) {
      const __m512 n = _mm512_loadu_ps(nrow + x);
      _mm512_storeu_ps(orow + x, mul ? _mm512_mul_ps(n, dr) : _mm512_div_ps(n, dr));
    }
    if (x < dv) { /* the tail under a mask */
      const __mmask16 m = (__mmask16)((1u << (dv - x)) - 1);
      const __m512 n = _mm512_maskz_loadu_ps(m, nrow + x);
      _mm512_mask_storeu_ps(orow + x, m, mul ? _mm512_mul_ps(n, dr) : _mm512_div_ps(n, dr));
    }
  }
}

#endif
