/* AVX-512 row steps of the linear-attention scan: elu+1 features (fa_lr_ukernels.elu1) and
 * output rows (divide_rows). Include only from a file compiled with the avx512 target
 * (lowrank/f32-avx512.h does). */
#ifndef FASTATTN_LOWRANK_ROWS_AVX512_H
#define FASTATTN_LOWRANK_ROWS_AVX512_H

#include <immintrin.h>
#include <string.h>
#include "lowrank/f32-avx2.h"
#include "lowrank/vec.h"

/* elu(x) + 1 as fa_lr_elu1_vec_avx2 computes it (x + 1 where x's sign bit is clear, else exp
 * on the degree-5 exp2, rounding by the 1.5 * 2^23 trick), 2^n applied by vscalefps instead
 * of exponent-field arithmetic: 13 vector operations for 16 lanes (the full fa_avx512_exp2
 * path took 19). vscalefps rounds to subnormals as expf does; x is clamped at -110, where
 * 2^n p rounds to 0 (so -inf gives 0). NaN passes (max returns its second operand, x, for
 * NaN). */
static inline __m512 fa_lr_elu1_vec_avx512(__m512 x) {
  const __m512 magic = _mm512_set1_ps(12582912.0f), log2e = _mm512_set1_ps(FA_LOG2E);
  const __m512 xc = _mm512_max_ps(_mm512_set1_ps(-110.0f), x);
  const __m512 t = _mm512_fmadd_ps(xc, log2e, magic), n = _mm512_sub_ps(t, magic);
  const __m512 f = _mm512_fmsub_ps(xc, log2e, n);
  __m512 p = _mm512_set1_ps(fa_exp2_poly5[0]);
  for (int i = 1; i <= 5; i++) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly5[i]));
  const __mmask16 negative = _mm512_movepi32_mask(_mm512_castps_si512(x));
  return _mm512_mask_blend_ps(negative, _mm512_add_ps(x, _mm512_set1_ps(1.0f)),
                              _mm512_scalef_ps(p, n));
}

/* Two independent vectors per step: the exp polynomial is a chain of dependent FMAs. */
static void fa_lr_elu1_avx512(float *y, const float *x, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = fa_lr_elu1_vec_avx512(_mm512_loadu_ps(x + i));
    const __m512 b = fa_lr_elu1_vec_avx512(_mm512_loadu_ps(x + i + 16));
    _mm512_storeu_ps(y + i, a);
    _mm512_storeu_ps(y + i + 16, b);
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, fa_lr_elu1_vec_avx512(_mm512_loadu_ps(x + i)));
  fa_lr_elu1_avx2(y + i, x + i, n - i);
}

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
