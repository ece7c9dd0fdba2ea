/* Decode, int8 cache, AVX2 (x86-64).
 *
 * Scores: keys in groups of 16 (decode/engine-i8.h), q.k exactly in int32 by vpmaddubsw
 * on |q| and k * sign(q) (each pair sum at most 2 * 127 * 127 = 32258: no saturation) and
 * vpmaddwd by ones, one lane per key; then t = (s * qc) * k_scale, two float32 products
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
#define FA_DECODE_VLANES 8 /* the weights step in 256-bit vectors, single instructions: */
#define FA_DECODE_VMAXF(a, b) ((fa_vf)_mm256_max_ps((__m256)(a), (__m256)(b)))
#define FA_DECODE_VMINF(a, b) ((fa_vf)_mm256_min_ps((__m256)(a), (__m256)(b)))
#define FA_DECODE_VMAXI(a, b) ((fa_vi)_mm256_max_epi32((__m256i)(a), (__m256i)(b)))
/* the 16 weights of a block (two vectors of int32 in [0, 127]) as bytes, in order: GCC
 * narrows lane by lane (70 scalar instructions per block) */
static inline __m128i fa_decode_pack16_avx2(__m256i a, __m256i b) {
  const __m256i h = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8); /* a0-7 b0-7 */
  return _mm_packus_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
#define FA_DECODE_VSTOREW(wi, w) \
  _mm_storeu_si128((__m128i *)(void *)(w), fa_decode_pack16_avx2((__m256i)(wi)[0], (__m256i)(wi)[1]))
#include "decode/engine-i8.h"
#include "ukernels/f32-avx2.h"

/* Scores of `groups` (<= 4) groups of 16 keys from k: per 4 features and 8 keys one
 * vpmaddubsw on |q| and k * sign(q) (pair sums at most 2 * 127^2: no saturation) and one
 * vpmaddwd by ones into int32, one lane per key; then t = (s * qc) * k_scale, two float32
 * products as in the reference. Always inlined with a constant groups. */
static inline __attribute__((always_inline)) void scores_groups(const int8_t *q, float qcf,
                                                                const int8_t *k,
                                                                ptrdiff_t k_rs, size_t d4,
                                                                const float *ks, float *s,
                                                                int groups) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[8];
  for (int u = 0; u < 2 * groups; u++) acc[u] = _mm256_setzero_si256();
  for (size_t x4 = 0; x4 < d4; x4++) {
    int32_t q4;
    memcpy(&q4, q + 4 * x4, sizeof(q4));
    const __m256i qb = _mm256_set1_epi32(q4), qa = _mm256_abs_epi8(qb);
    for (int u = 0; u < 2 * groups; u++) {
      const int8_t *row = k + (u / 2) * k_rs + 64 * (ptrdiff_t)x4 + 32 * (u % 2);
      const __m256i kx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)row), qb);
      acc[u] = _mm256_add_epi32(acc[u], _mm256_madd_epi16(_mm256_maddubs_epi16(qa, kx), ones));
    }
  }
  const __m256 qc = _mm256_set1_ps(qcf);
  for (int u = 0; u < 2 * groups; u++) {
    const __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[u]), qc);
    _mm256_storeu_ps(s + 8 * u, _mm256_mul_ps(t, _mm256_loadu_ps(ks + 8 * u)));
  }
}

static void scores_i8_avx2(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                           const float *ks, float *s) {
  const float qc = *(const float *)qrow;
  const int8_t *q = (const int8_t *)qrow + 16; /* zero-padded to a multiple of 64 */
  const int8_t *k = fa_decode_i8_key_group(kv, j0);
  const size_t d4 = (kv->d + 3) / 4, groups = (n + 15) / 16;
  if (groups == 4) scores_groups(q, qc, k, kv->k_rs, d4, ks, s, 4);
  if (groups == 3) scores_groups(q, qc, k, kv->k_rs, d4, ks, s, 3);
  if (groups == 2) scores_groups(q, qc, k, kv->k_rs, d4, ks, s, 2);
  if (groups == 1) scores_groups(q, qc, k, kv->k_rs, d4, ks, s, 1);
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
