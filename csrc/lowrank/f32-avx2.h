/* AVX2 + FMA element-wise micro-kernels of the low-rank ops. Include only from a file
 * compiled with the avx2,fma target enabled. Tails of fewer than 8 go through the
 * portable versions. */
#ifndef FASTATTN_LOWRANK_F32_AVX2_H
#define FASTATTN_LOWRANK_F32_AVX2_H

#include <float.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "lowrank/f32-scalar.h"
#include "lowrank/vec.h"
#include "ukernels/f32-avx2.h"

/* 2^f for f in [-0.5, 0.5] by the degree-5 fit of common/exp2.h. */
static inline __m256 fa_lr_exp2_poly5_avx2(__m256 f) {
  __m256 p = _mm256_set1_ps(fa_exp2_poly5[0]);
  for (int i = 1; i <= 5; i++) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly5[i]));
  return p;
}

/* p(f) 2^n from t = y + 1.5 * 2^23 (the trick leaves n = round(y) in t's low bits: no round
 * instruction) and f = y - n: 2^n is a float whose exponent field is n + 127, so 0 at
 * n = -127 (the callers clamp y to [-127, 127]), and p 2^n is exact scaling. */
static inline __m256 fa_lr_exp2_scaled_avx2(__m256 t, __m256 f) {
  const __m256i bits = _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),
                                        _mm256_set1_epi32(127 << 23));
  return _mm256_mul_ps(fa_lr_exp2_poly5_avx2(f), _mm256_castsi256_ps(bits));
}

/* exp2(x) as fa_avx2_exp2 gives it (0 below about -126.5 and for -inf, 2^127 for +inf, NaN
 * stays: max and min return their second operand, x, for NaN, and every step after keeps
 * it), in 11 vector operations instead of 17. */
static inline __m256 fa_lr_exp2_vec_avx2(__m256 x) {
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  const __m256 t = _mm256_add_ps(xc, magic);
  return fa_lr_exp2_scaled_avx2(t, _mm256_sub_ps(xc, _mm256_sub_ps(t, magic)));
}

/* elu(x) + 1: x + 1 for x >= 0, exp(x) below, chosen by x's sign bit (blendv reads it), so
 * the exp only counts for x <= 0: no overflow care. f comes from one FMA (x log2(e)
 * unrounded); x is clamped at -88, so the result is 0 below x = -87.7 and subnormal just
 * above, as expf gives. NaN (either sign) passes the clamp (max returns its second operand
 * for NaN) and every step after it. 12 vector operations, 10 of them on the FMA ports,
 * instead of 22. */
static inline __m256 fa_lr_elu1_vec_avx2(__m256 x) {
  const __m256 magic = _mm256_set1_ps(12582912.0f), log2e = _mm256_set1_ps(FA_LOG2E);
  const __m256 xc = _mm256_max_ps(_mm256_set1_ps(-88.0f), x);
  const __m256 t = _mm256_fmadd_ps(xc, log2e, magic);
  const __m256 e = fa_lr_exp2_scaled_avx2(t, _mm256_fmsub_ps(xc, log2e, _mm256_sub_ps(t, magic)));
  return _mm256_blendv_ps(_mm256_add_ps(x, _mm256_set1_ps(1.0f)), e, x);
}

/* Two independent vectors per step: the exp polynomial is a chain of dependent FMAs. */
static void fa_lr_elu1_avx2(float *y, const float *x, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i));
    const __m256 b = fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i + 8));
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i)));
  fa_lr_elu1_scalar(y + i, x + i, n - i);
}

static float fa_lr_max_sub_avx2(const float *x, const float *h, size_t n) {
  __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    if (h) v = _mm256_sub_ps(v, _mm256_loadu_ps(h + i));
    m = _mm256_max_ps(m, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan)) return NAN;
  const float head = fa_avx2_hmax(m), tail = fa_lr_max_sub_scalar(x + i, h ? h + i : NULL, n - i);
  return tail != tail || tail > head ? tail : head;
}

/* One pass: the subtraction meets the exp in registers, four vectors in flight. */
static void fa_lr_exp2_sub_avx2(float *x, const float *h, float shift, size_t n) {
  const __m256 sh = _mm256_set1_ps(shift);
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int u = 0; u < 4; u++) {
      __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * u), sh);
      if (h) v = _mm256_sub_ps(v, _mm256_loadu_ps(h + i + 8 * u));
      _mm256_storeu_ps(x + i + 8 * u, fa_lr_exp2_vec_avx2(v));
    }
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i), sh);
    if (h) v = _mm256_sub_ps(v, _mm256_loadu_ps(h + i));
    _mm256_storeu_ps(x + i, fa_lr_exp2_vec_avx2(v));
  }
  for (; i < n; i++) x[i] = exp2f(x[i] - shift - (h ? h[i] : 0.0f));
}

/* fa_avx2_exp2 without what a softmax row cannot meet (NaN, +inf, x > 0): the clamp at
 * -126 only (so -inf gives 2^-126, not 0), rounding by the 1.5 * 2^23 trick (its low bits
 * are the integer, shifted into the exponent), the same polynomial. 12 vector operations
 * instead of 17; equal to fa_avx2_exp2 for x >= -126. */
static inline __m256 fa_lr_softmax_exp2_vec_avx2(__m256 x) {
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 xc = _mm256_max_ps(x, _mm256_set1_ps(-126.0f));
  const __m256 t = _mm256_add_ps(xc, magic);
  const __m256 f = _mm256_sub_ps(xc, _mm256_sub_ps(t, magic));
  const __m256 p = fa_avx2_exp2_poly(f);
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(t), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

static float fa_lr_softmax_exp2_avx2(float *x, size_t n, float shift) {
  return fa_avx2_exp2_sum_by(fa_lr_softmax_exp2_vec_avx2, x, n, shift);
}

static void fa_lr_rows_max_sub_avx2(const float *x, size_t rows, size_t ld, const float *h,
                                    size_t n, float *top) {
  fa_lr_rows_max_sub(fa_lr_max_sub_avx2, x, rows, ld, h, n, top);
}

static void fa_lr_rows_exp2_sub_avx2(float *x, size_t rows, size_t ld, const float *h,
                                     const float *shift, size_t n) {
  fa_lr_rows_exp2_sub(fa_lr_exp2_sub_avx2, x, rows, ld, h, shift, n);
}

/* Non-temporal stores (16-byte ones: a numpy row is often 16 but not 32 bytes aligned) take
 * the output past the cache: no read for ownership, no eviction of the operands. */
static void fa_lr_divide_rows_avx2(float *out, ptrdiff_t out_rs, const float *num, size_t ld,
                                   const float *den, size_t rows, size_t dv, int fence) {
  for (size_t r = 0; r < rows; r++) {
    float *orow = out + (ptrdiff_t)r * out_rs;
    const float *nrow = num + r * ld;
    if (den[r] == 0.0f) {
      memset(orow, 0, dv * sizeof(float));
      continue;
    }
    int mul;
    const __m256 dr = _mm256_set1_ps(fa_lr_row_divisor(den[r], &mul));
    size_t x = 0;
    if (((uintptr_t)orow & 15) == 0)
      for (; x + 8 <= dv; x += 8) {
        const __m256 n = _mm256_loadu_ps(nrow + x);
        const __m256 y = mul ? _mm256_mul_ps(n, dr) : _mm256_div_ps(n, dr);
        _mm_stream_ps(orow + x, _mm256_castps256_ps128(y));
        _mm_stream_ps(orow + x + 4, _mm256_extractf128_ps(y, 1));
      }
    for (; x < dv; x++) orow[x] = nrow[x] / den[r];
  }
  if (fence) _mm_sfence(); /* once per job: a fence waits for every store in flight */
}

static const fa_lr_ukernels fa_lr_ukernels_avx2 = {
    &fa_f32_ukernels_avx2, fa_lr_elu1_avx2, fa_lr_rows_max_sub_avx2,
    fa_lr_rows_exp2_sub_avx2, fa_lr_softmax_exp2_avx2, fa_lr_divide_rows_avx2};

#endif
