/* AVX2 + FMA float32 micro-kernels for the flash engine. Include only from a
 * file compiled with the avx2,fma target enabled. */
#ifndef FASTATTN_UKERNELS_F32_AVX2_H
#define FASTATTN_UKERNELS_F32_AVX2_H

#include <immintrin.h>
#include <math.h>
#include "common/exp2.h"
#include "flash/f32.h"

static inline float fa_avx2_hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

static inline float fa_avx2_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* 2^f for f in [-0.5, 0.5]: a degree-6 polynomial (relative error < 2e-7). */
static inline __m256 fa_avx2_exp2_poly(__m256 f) {
  __m256 p = _mm256_set1_ps(fa_exp2_poly6[0]);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[1]));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[2]));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[3]));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[4]));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[5]));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(fa_exp2_poly6[6]));
  return p;
}

/* exp2(x): 2^round(x) by exponent arithmetic times a degree-6 polynomial for
 * 2^f, f in [-0.5, 0.5] (relative error < 2e-7). Below -126 the result is 0
 * (so -inf gives 0); NaN is passed through. */
static inline __m256 fa_avx2_exp2(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-126.0f), hi = _mm256_set1_ps(127.0f);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 n = _mm256_round_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 f = _mm256_sub_ps(xc, n);
  __m256 p = fa_avx2_exp2_poly(f);
  __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  __m256 r = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
  r = _mm256_and_ps(r, _mm256_cmp_ps(x, lo, _CMP_GE_OQ));
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* The classic 6 x 16 register tile: 12 accumulators, 2 loads of b, 6 broadcasts of a. */
static void fa_f32_gemm_6x16_avx2(size_t k, const float *a, size_t lda, const float *b,
                                  size_t ldb, float *c, size_t ldc, int accumulate) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (accumulate) {
    c00 = _mm256_loadu_ps(c + 0 * ldc), c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
    c10 = _mm256_loadu_ps(c + 1 * ldc), c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
    c20 = _mm256_loadu_ps(c + 2 * ldc), c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
    c30 = _mm256_loadu_ps(c + 3 * ldc), c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
    c40 = _mm256_loadu_ps(c + 4 * ldc), c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
    c50 = _mm256_loadu_ps(c + 5 * ldc), c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_ps();
    c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
  }
  for (size_t p = 0; p < k; p++) {
    const __m256 b0 = _mm256_loadu_ps(b + p * ldb), b1 = _mm256_loadu_ps(b + p * ldb + 8);
    __m256 ai = _mm256_broadcast_ss(a + 0 * lda + p);
    c00 = _mm256_fmadd_ps(ai, b0, c00), c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1 * lda + p);
    c10 = _mm256_fmadd_ps(ai, b0, c10), c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2 * lda + p);
    c20 = _mm256_fmadd_ps(ai, b0, c20), c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3 * lda + p);
    c30 = _mm256_fmadd_ps(ai, b0, c30), c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4 * lda + p);
    c40 = _mm256_fmadd_ps(ai, b0, c40), c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5 * lda + p);
    c50 = _mm256_fmadd_ps(ai, b0, c50), c51 = _mm256_fmadd_ps(ai, b1, c51);
  }
  _mm256_storeu_ps(c + 0 * ldc, c00), _mm256_storeu_ps(c + 0 * ldc + 8, c01);
  _mm256_storeu_ps(c + 1 * ldc, c10), _mm256_storeu_ps(c + 1 * ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20), _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30), _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40), _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50), _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

static float fa_f32_max_avx2(const float *x, size_t n) {
  __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0, nan = _mm256_setzero_ps();
  for (size_t i = 0; i < n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    m0 = _mm256_max_ps(m0, x0);
    m1 = _mm256_max_ps(m1, x1);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(x0, x1, _CMP_UNORD_Q));
  }
  return _mm256_movemask_ps(nan) ? NAN : fa_avx2_hmax(_mm256_max_ps(m0, m1));
}

/* x[i] = exp(x[i] - shift) for i < n (a multiple of 16), returning the sum, with `exp` a
 * vector exp2 (inlined: the pointer is a constant at every call). */
static inline float fa_avx2_exp2_sum_by(__m256 (*exp)(__m256), float *x, size_t n, float shift) {
  const __m256 sh = _mm256_set1_ps(shift);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  for (size_t i = 0; i < n; i += 16) {
    const __m256 e0 = exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
    const __m256 e1 = exp(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), sh));
    _mm256_storeu_ps(x + i, e0), _mm256_storeu_ps(x + i + 8, e1);
    s0 = _mm256_add_ps(s0, e0), s1 = _mm256_add_ps(s1, e1);
  }
  return fa_avx2_hsum(_mm256_add_ps(s0, s1));
}

static float fa_f32_exp2_sum_avx2(float *x, size_t n, float shift) {
  return fa_avx2_exp2_sum_by(fa_avx2_exp2, x, n, shift);
}

static void fa_f32_scale_avx2(float *x, size_t n, float s) {
  const __m256 vs = _mm256_set1_ps(s);
  for (size_t i = 0; i < n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
}

/* Transposes 8 x 8 blocks of the key tile in registers; edges go through the portable loop. */
static void fa_f32_pack_kt_avx2(const float *k, ptrdiff_t k_rs, size_t n, size_t d, float *kt) {
  const size_t n8 = n & ~(size_t)7, d8 = d & ~(size_t)7;
  for (size_t c = 0; c < n8; c += 8) {
    const float *rows = k + (ptrdiff_t)c * k_rs;
    for (size_t x = 0; x < d8; x += 8) {
      __m256 r[8], t[8];
      for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(rows + i * k_rs + x);
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
      }
      for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
      }
      float *dst = kt + x * FA_F32_NK + c;
      for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * FA_F32_NK, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * FA_F32_NK, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
      }
    }
  }
  fa_f32_pack_kt_edges(k, k_rs, n8, d8, n, d, kt);
}

static const fa_f32_ukernels fa_f32_ukernels_avx2 = {
    6, fa_f32_gemm_6x16_avx2, fa_f32_max_avx2, fa_f32_exp2_sum_avx2, fa_f32_scale_avx2,
    fa_f32_pack_kt_avx2};

#endif
