/* Decode, int8 cache, AVX2 (x86-64).
 *
 * Scores: 8 keys at a time, q.k exactly in int32 by vpmaddubsw on |q| and k * sign(q)
 * (each pair sum at most 2 * 127 * 127 = 32258: no saturation) and vpmaddwd by ones,
 * reduced by a horizontal-add tree; then t = (s * qc) * k_scale, two float32 products
 * as in the reference. Output: the value rows widened to float32 (vpmovsxbd +
 * vcvtdq2ps) and accumulated with the weight p * v_scale, up to 8 vectors in registers. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include <immintrin.h>
#include <stdint.h>

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma")

#include "decode/avx2.h"
#include "ukernels/f32-avx2.h"

static inline __m256i hsum8_epi32(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i a4,
                                  __m256i a5, __m256i a6, __m256i a7) {
  const __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  const __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a4, a5), _mm256_hadd_epi32(a6, a7));
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

static inline __m256i dot32(__m256i acc, __m256i qa, __m256i qx, const int8_t *k) {
  const __m256i kx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)k), qx);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(qa, kx), _mm256_set1_epi16(1)));
}

static void scores_i8_avx2(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                           float *s) {
  const __m256 qc = _mm256_set1_ps(*(const float *)qrow);
  const int8_t *q = (const int8_t *)qrow + 16;
  const size_t d = kv->d, d32 = d & ~(size_t)31;
  for (size_t c = 0; c < n; c += 8) {
    const int8_t *row[8];
    float ks[8];
    fa_decode_i8_key_rows(kv, j0, c, n, 8, row, ks);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    for (size_t x = 0; x < d32; x += 32) {
      const __m256i qx = _mm256_loadu_si256((const __m256i *)(q + x));
      const __m256i qa = _mm256_abs_epi8(qx);
      a0 = dot32(a0, qa, qx, row[0] + x), a1 = dot32(a1, qa, qx, row[1] + x);
      a2 = dot32(a2, qa, qx, row[2] + x), a3 = dot32(a3, qa, qx, row[3] + x);
      a4 = dot32(a4, qa, qx, row[4] + x), a5 = dot32(a5, qa, qx, row[5] + x);
      a6 = dot32(a6, qa, qx, row[6] + x), a7 = dot32(a7, qa, qx, row[7] + x);
    }
    __m256i sum = hsum8_epi32(a0, a1, a2, a3, a4, a5, a6, a7);
    if (d32 < d) {
      int32_t tails[8];
      for (size_t u = 0; u < 8; u++) {
        int32_t acc = 0;
        for (size_t x = d32; x < d; x++) acc += (int32_t)q[x] * row[u][x];
        tails[u] = acc;
      }
      sum = _mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)tails));
    }
    const __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sum), qc), _mm256_loadu_ps(ks));
    _mm256_storeu_ps(s + c, t);
  }
}

static inline __m256 load8_i8(const void *row, size_t x) {
  const __m128i raw = _mm_loadl_epi64((const __m128i *)((const int8_t *)row + x));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(raw));
}

static void pv_i8_avx2(const float *p, const fa_decode_kv *kv, size_t j0, size_t n, float *o) {
  const char *v = (const char *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  float w[FA_DECODE_TILE];
  fa_decode_i8_weights(p, kv, j0, n, w);
  size_t x = 0;
  for (; x + 64 <= kv->dv; x += 64)
    fa_decode_pv_block_avx2(load8_i8, w, v + x, kv->v_rs, n, o + x, 8);
  for (; x + 8 <= kv->dv; x += 8)
    fa_decode_pv_block_avx2(load8_i8, w, v + x, kv->v_rs, n, o + x, 1);
  fa_decode_i8_pv_cols(w, kv, j0, n, x, o);
}

static const fa_decode_ukernels ukernels = {scores_i8_avx2, pv_i8_avx2, &fa_f32_ukernels_avx2};

fa_status fa_decode_i8__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
