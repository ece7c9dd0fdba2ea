/* Decode, int8 cache, AVX2 (x86-64).
 *
 * Scores: 8 keys at a time, q.k exactly in int32 by vpmaddubsw on |q| and k * sign(q)
 * (each pair sum at most 2 * 127 * 127 = 32258: no saturation) and vpmaddwd by ones,
 * reduced by a horizontal-add tree; then t = (s * qc) * k_scale, two float32 products
 * as in the reference. Output: integer P.V (decode/engine-i8.h) by vpmaddubsw + vpmaddwd,
 * up to 4 vectors (32 channels) in registers. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma")

#include "decode/avx2.h"
#include "decode/engine-i8.h"
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

/* Channels [x, x + 8 nv) of the pv step, nv <= 4 vectors, the last one `tail` channels
 * wide: per group of 4 keys and 8 channels one vpmaddubsw (the 4 weights broadcast, u8 <=
 * 127, against the 4 keys of each channel, s8: pair sums <= 2 * 127^2, no saturation) and
 * one vpmaddwd by ones into int32; always inlined with a constant nv. */
static inline __attribute__((always_inline)) void pv_chunk(const uint8_t *w, const float *g,
                                                           float alpha, const fa_decode_kv *kv,
                                                           size_t j0, size_t n, size_t x,
                                                           float *o, int nv, size_t tail) {
  const int8_t *v = (const int8_t *)kv->v + (ptrdiff_t)(j0 / 4) * kv->v_rs + 4 * x;
  const __m256i ones = _mm256_set1_epi16(1), last = fa_decode_tail_mask(tail == 8 ? 0 : tail);
  __m256 out[4];
  for (int u = 0; u < nv; u++) {
    out[u] = _mm256_loadu_ps(o + x + 8 * u);
    if (alpha != 1.0f) out[u] = _mm256_mul_ps(out[u], _mm256_set1_ps(alpha));
  }
  for (size_t c0 = 0; c0 < n; c0 += FA_DECODE_BLOCK) {
    const float gb = g[c0 / FA_DECODE_BLOCK];
    if (gb == 0.0f) continue;
    const size_t c1 = c0 + FA_DECODE_BLOCK < n ? c0 + FA_DECODE_BLOCK : n;
    __m256i acc[4];
    for (int u = 0; u < nv; u++) acc[u] = _mm256_setzero_si256();
    for (size_t c = c0; c < c1; c += 4) {
      int32_t w4;
      memcpy(&w4, w + c, sizeof(w4));
      const __m256i wb = _mm256_set1_epi32(w4);
      const int8_t *row = v + (ptrdiff_t)(c / 4) * kv->v_rs;
      for (int u = 0; u < nv; u++) {
        const __m256i vv =
            u < nv - 1 || tail == 8
                ? _mm256_loadu_si256((const __m256i *)(row + 32 * u))
                : _mm256_maskload_epi32((const int *)(const void *)(row + 32 * u), last);
        acc[u] = _mm256_add_epi32(acc[u], _mm256_madd_epi16(_mm256_maddubs_epi16(wb, vv), ones));
      }
    }
    const __m256 gv = _mm256_set1_ps(gb);
    for (int u = 0; u < nv; u++)
      out[u] = _mm256_add_ps(out[u], _mm256_mul_ps(_mm256_cvtepi32_ps(acc[u]), gv));
  }
  for (int u = 0; u < nv; u++) _mm256_storeu_ps(o + x + 8 * u, out[u]);
}

static void pv_i8_avx2(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv,
                       size_t j0, size_t n, float *o) {
  const size_t dv = kv->dv;
  size_t x = 0;
  for (; x + 32 <= dv; x += 32) pv_chunk(w, g, alpha, kv, j0, n, x, o, 4, 8);
  if (x < dv) { /* 1-4 vectors left, the last one partial or whole; o is padded to 16 */
    const size_t left = dv - x, nv = (left + 7) / 8, tail = left - 8 * (nv - 1);
    if (nv == 1) pv_chunk(w, g, alpha, kv, j0, n, x, o, 1, tail);
    if (nv == 2) pv_chunk(w, g, alpha, kv, j0, n, x, o, 2, tail);
    if (nv == 3) pv_chunk(w, g, alpha, kv, j0, n, x, o, 3, tail);
    if (nv == 4) pv_chunk(w, g, alpha, kv, j0, n, x, o, 4, tail);
  }
}

static const fa_decode_i8_ukernels ukernels = {scores_i8_avx2, pv_i8_avx2,
                                               &fa_f32_ukernels_avx2};

fa_status fa_decode_i8__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_i8_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
