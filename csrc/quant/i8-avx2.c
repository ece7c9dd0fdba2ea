/* The int8 quantiser (fastattn/quant_i8.h), AVX2 (x86-64): its job (quant/job-i8.h) with
 * one element per lane, 16 (8 for the float64 sums) at a time, the tails element by
 * element: the same float operations in the same order as quant/i8-scalar.c. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma")

#include <immintrin.h>
#include "quant/job-i8.h"

/* sum[0 .. 8 nv) += channels [0, 8 nv) of x over len tokens, token after token: one sweep
 * over the rows in memory order (nv = 8 spills a few sums; the loop waits on memory) */
static inline __attribute__((always_inline)) void sum_sweep(double *sum, const float *x,
                                                            size_t len, size_t d, int nv) {
  __m256d a[16];
  for (int u = 0; u < 2 * nv; u++) a[u] = _mm256_loadu_pd(sum + 4 * u);
  for (size_t t = 0; t < len; t++) {
    for (int u = 0; u < nv; u++) {
      const __m256 v = _mm256_loadu_ps(x + t * d + 8 * u);
      a[2 * u] = _mm256_add_pd(a[2 * u], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
      a[2 * u + 1] = _mm256_add_pd(a[2 * u + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
  }
  for (int u = 0; u < 2 * nv; u++) _mm256_storeu_pd(sum + 4 * u, a[u]);
}

static void sum_rows(double *sum, const float *x, size_t len, size_t d, size_t nc) {
  size_t c = 0;
  for (; c + 64 <= nc; c += 64) sum_sweep(sum + c, x + c, len, d, 8); /* 64 channels a sweep */
  for (; c + 32 <= nc; c += 32) sum_sweep(sum + c, x + c, len, d, 4);
  for (; c + 8 <= nc; c += 8) sum_sweep(sum + c, x + c, len, d, 1);
  for (size_t t = 0; t < len; t++)
    for (size_t k = c; k < nc; k++) sum[k] += (double)x[t * d + k];
}

static inline __m256i absbits(__m256 y) {
  return _mm256_and_si256(_mm256_castps_si256(y), _mm256_set1_epi32(0x7FFFFFFF));
}

/* y = x - mean (x alone without a mean) for channels c..c+7 */
static inline __m256 load_y(const float *x, const float *mean, size_t c) {
  const __m256 y = _mm256_loadu_ps(x + c);
  return mean ? _mm256_sub_ps(y, _mm256_loadu_ps(mean + c)) : y;
}

static uint32_t absmax_rows(uint32_t m, const float *x, const float *mean, size_t rows,
                            size_t d) {
  __m256i a0 = _mm256_set1_epi32((int)m), a1 = a0;
  for (size_t t = 0; t < rows; t++) {
    const float *xt = x + t * d;
    size_t c = 0;
    for (; c + 16 <= d; c += 16) {
      a0 = _mm256_max_epu32(a0, absbits(load_y(xt, mean, c)));
      a1 = _mm256_max_epu32(a1, absbits(load_y(xt, mean, c + 8)));
    }
    for (; c + 8 <= d; c += 8) a0 = _mm256_max_epu32(a0, absbits(load_y(xt, mean, c)));
    for (; c < d; c++) m = fa_quant_i8_absbits_max(m, mean ? xt[c] - mean[c] : xt[c]);
  }
  a0 = _mm256_max_epu32(a0, a1);
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xB1));
  const uint32_t v = (uint32_t)_mm_cvtsi128_si32(h);
  return v > m ? v : m;
}

/* 16 codes from two vectors of y / s: rint by the magic constant, clamp, int8. */
static inline __m128i codes16(__m256 r0, __m256 r1, __m256 magic) {
  const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
  r0 = _mm256_sub_ps(_mm256_add_ps(r0, magic), magic);
  r1 = _mm256_sub_ps(_mm256_add_ps(r1, magic), magic);
  r0 = _mm256_max_ps(_mm256_min_ps(r0, hi), lo); /* no NaN: the inputs were checked */
  r1 = _mm256_max_ps(_mm256_min_ps(r1, hi), lo);
  const __m256i i0 = _mm256_cvttps_epi32(r0), i1 = _mm256_cvttps_epi32(r1);
  const __m128i w0 = _mm_packs_epi32(_mm256_castsi256_si128(i0), _mm256_extracti128_si256(i0, 1));
  const __m128i w1 = _mm_packs_epi32(_mm256_castsi256_si128(i1), _mm256_extracti128_si256(i1, 1));
  return _mm_packs_epi16(w0, w1);
}

static void quant_rows(int8_t *q, const float *x, const float *mean, float s, size_t rows,
                       size_t d, float magic) {
  const __m256 vs = _mm256_set1_ps(s), vm = _mm256_set1_ps(magic);
  for (size_t t = 0; t < rows; t++) {
    const float *xt = x + t * d;
    int8_t *qt = q + t * d;
    size_t c = 0;
    for (; c + 16 <= d; c += 16)
      _mm_storeu_si128((__m128i *)(qt + c), codes16(_mm256_div_ps(load_y(xt, mean, c), vs),
                                                    _mm256_div_ps(load_y(xt, mean, c + 8), vs), vm));
    for (; c < d; c++) qt[c] = fa_quant_i8_code((mean ? xt[c] - mean[c] : xt[c]) / s, magic);
  }
}

/* m[0 .. 8 nv) = max(m, |x| bits) over len tokens, one sweep in memory order */
static inline __attribute__((always_inline)) void absmax_sweep(uint32_t *m, const float *x,
                                                               size_t len, size_t d, int nv) {
  __m256i a[8];
  for (int u = 0; u < nv; u++) a[u] = _mm256_loadu_si256((const __m256i *)(m + 8 * u));
  for (size_t t = 0; t < len; t++)
    for (int u = 0; u < nv; u++)
      a[u] = _mm256_max_epu32(a[u], absbits(_mm256_loadu_ps(x + t * d + 8 * u)));
  for (int u = 0; u < nv; u++) _mm256_storeu_si256((__m256i *)(m + 8 * u), a[u]);
}

static void absmax_channels(uint32_t *m, const float *x, size_t len, size_t d) {
  size_t c = 0;
  for (; c + 64 <= d; c += 64) absmax_sweep(m + c, x + c, len, d, 8); /* as in sum_rows */
  for (; c + 32 <= d; c += 32) absmax_sweep(m + c, x + c, len, d, 4);
  for (; c + 8 <= d; c += 8) absmax_sweep(m + c, x + c, len, d, 1);
  for (size_t t = 0; t < len; t++)
    for (size_t k = c; k < d; k++) m[k] = fa_quant_i8_absbits_max(m[k], x[t * d + k]);
}

static void quant_channels(int8_t *q, const float *x, const float *s, size_t len, size_t d,
                           float magic) {
  const __m256 vm = _mm256_set1_ps(magic);
  for (size_t t = 0; t < len; t++) {
    const float *xt = x + t * d;
    int8_t *qt = q + t * d;
    size_t c = 0;
    for (; c + 16 <= d; c += 16)
      _mm_storeu_si128((__m128i *)(qt + c),
                       codes16(_mm256_div_ps(_mm256_loadu_ps(xt + c), _mm256_loadu_ps(s + c)),
                               _mm256_div_ps(_mm256_loadu_ps(xt + c + 8), _mm256_loadu_ps(s + c + 8)),
                               vm));
    for (; c < d; c++) qt[c] = fa_quant_i8_code(xt[c] / s[c], magic);
  }
}

static const fa_quant_i8_ukernels uk = {sum_rows, absmax_rows, quant_rows, absmax_channels,
                                        quant_channels};

fa_status fa_quant_i8__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_quant_i8_job(&uk, params, job, workspace);
}

FA_TARGET_END
