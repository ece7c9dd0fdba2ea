/* Decode, float32, AVX2 + FMA (x86-64).
 *
 * Scores: 8 keys at a time, one accumulator per key over the features, reduced
 * by a horizontal-add tree into one vector of 8 scores. Output: up to 8 vectors of
 * one output row in registers while the tile's value rows stream past. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx2.c is for x86-64 only"
#endif

#include <immintrin.h>

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma")

#include "decode/avx2.h"
#include "ukernels/f32-avx2.h"

/* [sum a0, sum a1, ..., sum a7]. */
static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5,
                           __m256 a6, __m256 a7) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

static void scores_f32_avx2(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                            float *s) {
  const float *q = (const float *)qrow; /* zero-padded to a multiple of 16 */
  const float *k = (const float *)(const void *)kv->k + (ptrdiff_t)j0 * kv->k_rs;
  const size_t d = kv->d, d8 = d & ~(size_t)7;
  const __m256i tail = fa_decode_tail_mask(d - d8);
  for (size_t c = 0; c < n; c += 8) {
    const float *row[8];
    for (size_t u = 0; u < 8; u++) /* past the tile's end: repeat the last key */
      row[u] = k + (ptrdiff_t)(c + u < n ? c + u : n - 1) * kv->k_rs;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0;
    for (size_t x = 0; x < d8; x += 8) {
      const __m256 qx = _mm256_loadu_ps(q + x);
      a0 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[0] + x), a0);
      a1 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[1] + x), a1);
      a2 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[2] + x), a2);
      a3 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[3] + x), a3);
      a4 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[4] + x), a4);
      a5 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[5] + x), a5);
      a6 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[6] + x), a6);
      a7 = _mm256_fmadd_ps(qx, _mm256_loadu_ps(row[7] + x), a7);
    }
    if (d8 < d) { /* masked loads never touch memory past the row */
      const __m256 qx = _mm256_loadu_ps(q + d8);
      a0 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[0] + d8, tail), a0);
      a1 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[1] + d8, tail), a1);
      a2 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[2] + d8, tail), a2);
      a3 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[3] + d8, tail), a3);
      a4 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[4] + d8, tail), a4);
      a5 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[5] + d8, tail), a5);
      a6 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[6] + d8, tail), a6);
      a7 = _mm256_fmadd_ps(qx, _mm256_maskload_ps(row[7] + d8, tail), a7);
    }
    _mm256_storeu_ps(s + c, hsum8(a0, a1, a2, a3, a4, a5, a6, a7));
  }
}

static inline __m256 load8_f32(const void *row, size_t x) {
  return _mm256_loadu_ps((const float *)row + x);
}

static void pv_f32_avx2(const float *p, const fa_decode_kv *kv, size_t j0, size_t n, float *o) {
  const float *v = (const float *)(const void *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  const size_t dv = kv->dv;
  size_t x = 0;
  const ptrdiff_t rs = kv->v_rs * (ptrdiff_t)sizeof(float);
  for (; x + 64 <= dv; x += 64)
    fa_decode_pv_block_avx2(load8_f32, p, (const char *)(v + x), rs, n, o + x, 8);
  for (; x + 8 <= dv; x += 8)
    fa_decode_pv_block_avx2(load8_f32, p, (const char *)(v + x), rs, n, o + x, 1);
  if (x < dv) {
    const __m256i tail = fa_decode_tail_mask(dv - x);
    __m256 acc = _mm256_loadu_ps(o + x); /* o is padded to a multiple of 16 */
    for (size_t c = 0; c < n; c++)
      acc = _mm256_fmadd_ps(_mm256_broadcast_ss(p + c),
                            _mm256_maskload_ps(v + (ptrdiff_t)c * kv->v_rs + x, tail), acc);
    _mm256_storeu_ps(o + x, acc);
  }
}

static const fa_decode_ukernels ukernels = {scores_f32_avx2, pv_f32_avx2, &fa_f32_ukernels_avx2};

fa_status fa_decode_f32__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
