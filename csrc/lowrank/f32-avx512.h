/* AVX-512 (F) float32 micro-kernels of the low-rank ops: 8 x 16 and 8 x 32 GEMM tiles in ZMM
 * registers and 512-bit element-wise steps. Include only from a file compiled with the
 * avx2,fma,avx512f,avx512dq,avx512bw,avx512vl target enabled (isa.def's avx512 row).
 * The key-tile transpose and every tail of fewer than 16 go through the AVX2 versions,
 * which this target also runs. */
#ifndef FASTATTN_LOWRANK_F32_AVX512_H
#define FASTATTN_LOWRANK_F32_AVX512_H

#include <immintrin.h>
#include "lowrank/f32-avx2.h"
#include "lowrank/rows-avx512.h"

_Static_assert(FA_F32_MR_MAX >= 8 && FA_F32_NR == 16, "the 8 x 16 tile: one ZMM per row");

/* Steps p .. p + u - 1 of the 8-row tiles below, with ar[i] pointing at a[i][p]: rows of
 * `panels` ZMM accumulators each (lo, and hi when panels is 2). */
static inline void fa_avx512_steps(__m512 *lo, __m512 *hi, int panels, const float *const *ar,
                                   int u, const float *b0, const float *b1, size_t ldb) {
  for (int s = 0; s < u; s++) {
    const __m512 x = _mm512_loadu_ps(b0 + s * ldb);
    const __m512 y = panels == 2 ? _mm512_loadu_ps(b1 + s * ldb) : x;
    for (int i = 0; i < 8; i++) {
      const __m512 ai = _mm512_set1_ps(ar[i][s]);
      lo[i] = _mm512_fmadd_ps(ai, x, lo[i]);
      if (panels == 2) hi[i] = _mm512_fmadd_ps(ai, y, hi[i]);
    }
  }
}

/* c[8][16 panels] (+)= a[8][k] (b0 | b1): one or two loads of b and 8 broadcasts of a per
 * step. The broadcasts bound it: with one panel there is one per FMA, and this CPU loads no
 * faster than it multiplies (about 66% of the FMA peak measured in L1); two panels share
 * them (78%). The row pointers move once per 4 steps, so every broadcast addresses base +
 * displacement (83%: an indexed address costs the FMA it feeds a second issue slot). */
static inline void fa_avx512_tile(int panels, size_t k, const float *a, size_t lda,
                                  const float *b0, const float *b1, size_t ldb, float *c,
                                  size_t ldc, int accumulate) {
  __m512 lo[8], hi[8];
  const float *ar[8];
  for (int i = 0; i < 8; i++) {
    ar[i] = a + i * lda;
    lo[i] = accumulate ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    hi[i] = accumulate && panels == 2 ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
  }
  size_t p = 0;
  for (; p + 4 <= k; p += 4) {
    fa_avx512_steps(lo, hi, panels, ar, 4, b0 + p * ldb, b1 + p * ldb, ldb);
    for (int i = 0; i < 8; i++) ar[i] += 4;
  }
  fa_avx512_steps(lo, hi, panels, ar, (int)(k - p), b0 + p * ldb, b1 + p * ldb, ldb);
  for (int i = 0; i < 8; i++) {
    _mm512_storeu_ps(c + i * ldc, lo[i]);
    if (panels == 2) _mm512_storeu_ps(c + i * ldc + 16, hi[i]);
  }
}

/* The next line of a tile's prefetches (l: its index in *row), as fa_lr_pf_issue does. */
static inline void fa_avx512_prefetch_next(const fa_f32_lines *pf, const char **row, size_t *l) {
  if (pf->write) __builtin_prefetch(*row + 64 * *l, 1, 2);
  else __builtin_prefetch(*row + 64 * *l, 0, 2);
  if (++*l == pf->per) *l = 0, *row += pf->rs;
}

/* c[6][64] (+)= a[6][k] (4 panels b + t bstep, rows ldb floats apart): 24 accumulators, 4
 * loads of b and 6 broadcasts of a per step of 24 FMAs (8 x 32: 10 per 16). As in
 * fa_avx512_tile, the row pointers move once per 4 steps (base + displacement). It issues
 * the prefetches pf asks for (fa_f32_ukernels.gemm4), one a step: the same lines issued
 * after the call, as a burst of ~50, filled the L1 miss buffers and stalled the core (the
 * state update and readout of linear attention ran at 2/3 of the speed they reach with
 * every line prefetched inside the tile). */
static void fa_f32_gemm4_6x64_avx512(size_t k, const float *a, size_t lda, const float *b,
                                     size_t bstep, size_t ldb, float *c, size_t ldc,
                                     int accumulate, const fa_f32_lines *pf) {
  __m512 acc[6][4];
  const float *ar[6], *bt[4];
  const char *row = pf ? pf->row : NULL;
  size_t line = pf ? pf->line : 0, left = pf ? (pf->count < k ? pf->count : k) : 0;
  for (int t = 0; t < 4; t++) bt[t] = b + t * bstep;
  for (int i = 0; i < 6; i++) {
    ar[i] = a + i * lda;
    for (int t = 0; t < 4; t++)
      acc[i][t] = accumulate ? _mm512_loadu_ps(c + i * ldc + 16 * t) : _mm512_setzero_ps();
  }
  size_t p = 0;
  for (; p + 4 <= k; p += 4) {
    for (int s = 0; s < 4; s++) {
      __m512 y[4];
      if (left) fa_avx512_prefetch_next(pf, &row, &line), left--;
      for (int t = 0; t < 4; t++) y[t] = _mm512_loadu_ps(bt[t] + s * ldb);
      for (int i = 0; i < 6; i++) {
        const __m512 ai = _mm512_set1_ps(ar[i][s]);
        for (int t = 0; t < 4; t++) acc[i][t] = _mm512_fmadd_ps(ai, y[t], acc[i][t]);
      }
    }
    for (int i = 0; i < 6; i++) ar[i] += 4;
    for (int t = 0; t < 4; t++) bt[t] += 4 * ldb;
  }
  for (; p < k; p++) {
    __m512 y[4];
    if (left) fa_avx512_prefetch_next(pf, &row, &line), left--;
    for (int t = 0; t < 4; t++) y[t] = _mm512_loadu_ps(bt[t]), bt[t] += ldb;
    for (int i = 0; i < 6; i++) {
      const __m512 ai = _mm512_set1_ps(*ar[i]++);
      for (int t = 0; t < 4; t++) acc[i][t] = _mm512_fmadd_ps(ai, y[t], acc[i][t]);
    }
  }
  for (int i = 0; i < 6; i++)
    for (int t = 0; t < 4; t++) _mm512_storeu_ps(c + i * ldc + 16 * t, acc[i][t]);
}

static void fa_f32_gemm_8x16_avx512(size_t k, const float *a, size_t lda, const float *b,
                                    size_t ldb, float *c, size_t ldc, int accumulate) {
  fa_avx512_tile(1, k, a, lda, b, b, ldb, c, ldc, accumulate);
}

static void fa_f32_gemm2_8x32_avx512(size_t k, const float *a, size_t lda, const float *b0,
                                     const float *b1, size_t ldb, float *c, size_t ldc,
                                     int accumulate) {
  fa_avx512_tile(2, k, a, lda, b0, b1, ldb, c, ldc, accumulate);
}

/* 2^f for f in [-0.5, 0.5]: the AVX2 polynomial, 16 lanes. */
static inline __m512 fa_avx512_exp2_poly(__m512 f) {
  __m512 p = _mm512_set1_ps(fa_exp2_poly6[0]);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[1]));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[2]));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[3]));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[4]));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[5]));
  return _mm512_fmadd_ps(p, f, _mm512_set1_ps(fa_exp2_poly6[6]));
}

/* 2^x for x in [-126, 127] clamped: round to the nearest integer n, 2^(x - n) by the
 * polynomial, times 2^n by vscalefps (exact: no exponent-field arithmetic). */
static inline __m512 fa_avx512_exp2_clamped(__m512 x) {
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-126.0f)), _mm512_set1_ps(127.0f));
  const __m512 n = _mm512_roundscale_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_scalef_ps(fa_avx512_exp2_poly(_mm512_sub_ps(xc, n)), n);
}

/* fa_avx2_exp2's contract: 0 below -126 (so -inf gives 0), NaN passed through. */
static inline __m512 fa_avx512_exp2(__m512 x) {
  const __m512 r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.0f), _CMP_GE_OQ),
                                       fa_avx512_exp2_clamped(x));
  return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

/* A softmax row's exp (x <= 0, no NaN): only the clamp at -126, which fa_avx512_exp2_clamped
 * does with one max more than it needs (the min at 127 never acts). */
static inline __m512 fa_avx512_softmax_exp2_vec(__m512 x) { return fa_avx512_exp2_clamped(x); }

static inline float fa_avx512_exp2_sum_by(__m512 (*exp)(__m512), float *x, size_t n,
                                          float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 e0 = exp(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
    const __m512 e1 = exp(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), sh));
    _mm512_storeu_ps(x + i, e0), _mm512_storeu_ps(x + i + 16, e1);
    s0 = _mm512_add_ps(s0, e0), s1 = _mm512_add_ps(s1, e1);
  }
  if (i < n) { /* n is a multiple of 16 */
    const __m512 e0 = exp(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
    _mm512_storeu_ps(x + i, e0);
    s0 = _mm512_add_ps(s0, e0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static float fa_f32_exp2_sum_avx512(float *x, size_t n, float shift) {
  return fa_avx512_exp2_sum_by(fa_avx512_exp2, x, n, shift);
}

static float fa_lr_softmax_exp2_avx512(float *x, size_t n, float shift) {
  return fa_avx512_exp2_sum_by(fa_avx512_softmax_exp2_vec, x, n, shift);
}

static float fa_f32_max_avx512(const float *x, size_t n) {
  __m512 m = _mm512_set1_ps(-INFINITY);
  __mmask16 nan = 0;
  for (size_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    m = _mm512_max_ps(m, v);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  return nan ? NAN : _mm512_reduce_max_ps(m);
}

static void fa_f32_scale_avx512(float *x, size_t n, float s) {
  const __m512 vs = _mm512_set1_ps(s);
  for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
}

static const fa_f32_ukernels fa_f32_ukernels_avx512 = {
    8, fa_f32_gemm_8x16_avx512, fa_f32_max_avx512, fa_f32_exp2_sum_avx512, fa_f32_scale_avx512,
    fa_f32_pack_kt_avx2, fa_f32_gemm2_8x32_avx512, 6, fa_f32_gemm4_6x64_avx512};

static float fa_lr_max_sub_avx512(const float *x, const float *h, size_t n) {
  __m512 m = _mm512_set1_ps(-INFINITY);
  __mmask16 nan = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(x + i);
    if (h) v = _mm512_sub_ps(v, _mm512_loadu_ps(h + i));
    m = _mm512_max_ps(m, v);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  if (nan) return NAN;
  const float head = _mm512_reduce_max_ps(m), tail = fa_lr_max_sub_avx2(x + i, h ? h + i : NULL, n - i);
  return tail != tail || tail > head ? tail : head;
}

/* One pass: the subtraction meets the exp in registers, four vectors in flight. */
static void fa_lr_exp2_sub_avx512(float *x, const float *h, float shift, size_t n) {
  const __m512 sh = _mm512_set1_ps(shift);
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int u = 0; u < 4; u++) {
      __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16 * u), sh);
      if (h) v = _mm512_sub_ps(v, _mm512_loadu_ps(h + i + 16 * u));
      _mm512_storeu_ps(x + i + 16 * u, fa_avx512_exp2(v));
    }
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + i), sh);
    if (h) v = _mm512_sub_ps(v, _mm512_loadu_ps(h + i));
    _mm512_storeu_ps(x + i, fa_avx512_exp2(v));
  }
  fa_lr_exp2_sub_avx2(x + i, h ? h + i : NULL, shift, n - i);
}

static void fa_lr_rows_max_sub_avx512(const float *x, size_t rows, size_t ld, const float *h,
                                      size_t n, float *top) {
  fa_lr_rows_max_sub(fa_lr_max_sub_avx512, x, rows, ld, h, n, top);
}

static void fa_lr_rows_exp2_sub_avx512(float *x, size_t rows, size_t ld, const float *h,
                                       const float *shift, size_t n) {
  fa_lr_rows_exp2_sub(fa_lr_exp2_sub_avx512, x, rows, ld, h, shift, n);
}

static const fa_lr_ukernels fa_lr_ukernels_avx512 = {
    &fa_f32_ukernels_avx512, fa_lr_elu1_avx512, fa_lr_rows_max_sub_avx512,
    fa_lr_rows_exp2_sub_avx512, fa_lr_softmax_exp2_avx512, fa_lr_divide_rows_avx512};

#endif
