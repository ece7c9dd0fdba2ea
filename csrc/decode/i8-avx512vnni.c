/* Decode, int8 cache, AVX-512 VNNI (x86-64: Ice Lake and later, Sapphire Rapids, Zen 4/5).
 *
 * Scores: keys in groups of 16 (decode/engine-i8.h), one vpdpbusd per group of 16 keys
 * and 4 features on k + 128 (the xor of the stored byte with 0x80, unsigned) against the
 * 4 query bytes (signed); the lanes hold q.k + 128 sum(q) and the prepared row's header
 * carries sum(q), so s = q.k exactly in int32 (|q.(k+128)| <= d * 127 * 255 < 2^31 for
 * d < 2^16; wrapping arithmetic keeps the result exact whatever the order); then
 * t = (s * qc) * k_scale, two float32 products as in the reference. Output: integer P.V (decode/engine-i8.h), one vpdpbusd per 4 keys and 16
 * channels, up to 4 vectors (64 channels) in registers. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")

#define FA_DECODE_VLANES 16 /* the weights step in 512-bit vectors, single instructions: */
#define FA_DECODE_VMAXF(a, b) ((fa_vf)_mm512_max_ps((__m512)(a), (__m512)(b)))
#define FA_DECODE_VMINF(a, b) ((fa_vf)_mm512_min_ps((__m512)(a), (__m512)(b)))
#define FA_DECODE_VMAXI(a, b) ((fa_vi)_mm512_max_epi32((__m512i)(a), (__m512i)(b)))
#define FA_DECODE_VRINTF(y) \
  ((fa_vf)_mm512_roundscale_ps((__m512)(y), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))
#define FA_DECODE_VRINTI(y) \
  ((fa_vi)_mm512_cvt_roundps_epi32((__m512)(y), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))
#include "decode/engine-i8.h"
#include "ukernels/f32-avx2.h"

/* acc + the 16 keys' features 4 x4 .. 4 x4 + 3 (from the group at kg) times q's. */
static inline __m512i dot_step(__m512i acc, const int8_t *kg, const int8_t *q, size_t x4,
                               __m512i flip) {
  int32_t q4;
  memcpy(&q4, q + 4 * x4, sizeof(q4));
  const __m512i kx = _mm512_loadu_si512((const void *)(kg + 64 * (ptrdiff_t)x4));
  return _mm512_dpbusd_epi32(acc, _mm512_xor_si512(kx, flip), _mm512_set1_epi32(q4));
}

/* Scores of `groups` (<= 4) groups of 16 keys from k: per 4 features one vpdpbusd per
 * group, the 16 keys' bytes (xor 0x80: k + 128, unsigned) against the 4 query bytes
 * broadcast (signed). Each group is read front to back (the order the hardware prefetcher
 * follows), its features in 4 interleaved sums that hide vpdpbusd's latency. Always
 * inlined with a constant groups. */
static inline __attribute__((always_inline)) void scores_groups(const int8_t *q, int32_t qsum,
                                                                float qcf, const int8_t *k,
                                                                ptrdiff_t k_rs, size_t d4,
                                                                const float *ks, float *s,
                                                                int groups) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  /* the lanes hold q.(k + 128) = q.k + 128 sum(q), exactly (wrapping int32 arithmetic) */
  const __m512i offset = _mm512_set1_epi32(128 * qsum);
  const __m512 qc = _mm512_set1_ps(qcf);
  for (int g = 0; g < groups; g++) {
    const int8_t *kg = k + g * k_rs;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t x4 = 0;
    for (; x4 + 4 <= d4; x4 += 4) {
      a0 = dot_step(a0, kg, q, x4, flip);
      a1 = dot_step(a1, kg, q, x4 + 1, flip);
      a2 = dot_step(a2, kg, q, x4 + 2, flip);
      a3 = dot_step(a3, kg, q, x4 + 3, flip);
    }
    for (; x4 < d4; x4++) a0 = dot_step(a0, kg, q, x4, flip);
    const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
    const __m512 t = _mm512_cvtepi32_ps(_mm512_sub_epi32(sum, offset));
    _mm512_storeu_ps(s + 16 * g, _mm512_mul_ps(_mm512_mul_ps(t, qc), _mm512_loadu_ps(ks + 16 * g)));
  }
}

static void scores_i8_avx512vnni(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                                 const float *ks, float *s) {
  float qc;
  int32_t qsum;
  memcpy(&qc, qrow, sizeof(float));
  memcpy(&qsum, (const char *)qrow + 4, sizeof(int32_t));
  const int8_t *q = (const int8_t *)qrow + 16; /* zero-padded to a multiple of 64 */
  const int8_t *k = fa_decode_i8_key_group(kv, j0);
  const size_t d4 = (kv->d + 3) / 4, groups = (n + 15) / 16;
  if (groups == 4) scores_groups(q, qsum, qc, k, kv->k_rs, d4, ks, s, 4);
  if (groups == 3) scores_groups(q, qsum, qc, k, kv->k_rs, d4, ks, s, 3);
  if (groups == 2) scores_groups(q, qsum, qc, k, kv->k_rs, d4, ks, s, 2);
  if (groups == 1) scores_groups(q, qsum, qc, k, kv->k_rs, d4, ks, s, 1);
}

/* Channels [x, x + 16 nv) of the pv step, nv <= 4 vectors, the last one `tail` channels
 * wide: per group of 4 keys one vpdpbusd per vector (the 4 weights broadcast, u8, against
 * the 4 keys of 16 channels, s8); always inlined with a constant nv. */
static inline __attribute__((always_inline)) void pv_chunk(const uint8_t *w, const float *g,
                                                           float alpha, const fa_decode_kv *kv,
                                                           size_t j0, size_t n, size_t x,
                                                           float *o, int nv, size_t tail) {
  const int8_t *v = (const int8_t *)kv->v + (ptrdiff_t)(j0 / 4) * kv->v_rs + 4 * x;
  __m512 out[4];
  for (int u = 0; u < nv; u++) {
    out[u] = _mm512_loadu_ps(o + x + 16 * u);
    if (alpha != 1.0f) out[u] = _mm512_mul_ps(out[u], _mm512_set1_ps(alpha));
  }
  const __mmask64 last = tail == 16 ? ~(__mmask64)0 : ((__mmask64)1 << (4 * tail)) - 1;
  for (size_t c0 = 0; c0 < n; c0 += FA_DECODE_BLOCK) {
    const float gb = g[c0 / FA_DECODE_BLOCK];
    if (gb == 0.0f) continue;
    const size_t c1 = c0 + FA_DECODE_BLOCK < n ? c0 + FA_DECODE_BLOCK : n;
    __m512i acc[4];
    for (int u = 0; u < nv; u++) acc[u] = _mm512_setzero_si512();
    for (size_t c = c0; c < c1; c += 4) {
      int32_t w4;
      memcpy(&w4, w + c, sizeof(w4));
      const __m512i wb = _mm512_set1_epi32(w4);
      const int8_t *row = v + (ptrdiff_t)(c / 4) * kv->v_rs;
      for (int u = 0; u < nv - 1; u++)
        acc[u] = _mm512_dpbusd_epi32(acc[u], wb, _mm512_loadu_si512((const void *)(row + 64 * u)));
      acc[nv - 1] = _mm512_dpbusd_epi32(acc[nv - 1], wb,
                                        _mm512_maskz_loadu_epi8(last, row + 64 * (nv - 1)));
    }
    const __m512 gv = _mm512_set1_ps(gb);
    for (int u = 0; u < nv; u++)
      out[u] = _mm512_add_ps(out[u], _mm512_mul_ps(_mm512_cvtepi32_ps(acc[u]), gv));
  }
  for (int u = 0; u < nv; u++) _mm512_storeu_ps(o + x + 16 * u, out[u]);
}

static void pv_i8_avx512vnni(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv,
                             size_t j0, size_t n, float *o) {
  const size_t dv = kv->dv;
  size_t x = 0;
  for (; x + 64 <= dv; x += 64) pv_chunk(w, g, alpha, kv, j0, n, x, o, 4, 16);
  if (x < dv) { /* 1-4 vectors left, the last one partial or whole; o is padded to 16 */
    const size_t left = dv - x, nv = (left + 15) / 16;
    const size_t tail = left - 16 * (nv - 1);
    if (nv == 1) pv_chunk(w, g, alpha, kv, j0, n, x, o, 1, tail);
    if (nv == 2) pv_chunk(w, g, alpha, kv, j0, n, x, o, 2, tail);
    if (nv == 3) pv_chunk(w, g, alpha, kv, j0, n, x, o, 3, tail);
    if (nv == 4) pv_chunk(w, g, alpha, kv, j0, n, x, o, 4, tail);
  }
}

static const fa_decode_i8_ukernels ukernels = {scores_i8_avx512vnni, pv_i8_avx512vnni,
                                               &fa_f32_ukernels_avx2};

fa_status fa_decode_i8__avx512vnni(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_i8_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
