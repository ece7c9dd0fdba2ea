/* AVX-512 VNNI int8 micro-kernels for the int8 flash engine. Include only from a
 * file compiled with the avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni target.
 *
 * vpdpbusd multiplies unsigned bytes of its first source by signed bytes of its
 * second, adds each group of four products to an int32 lane, and wraps (no
 * saturation, no int16 step).
 * - P.v: P (uint8 0..255) against v (int8) as they are; |acc| <= FA_I8_NK * 255 * 127.
 * - q.k (int8 x int8): keys are stored offset to unsigned, k + 128 (0..254), and q
 *   stays signed, so the lanes hold q.k + 128 * sum(q); the row sum is subtracted
 *   from the start value. No overflow: |q.(k + 128)| <= d * 127 * 255 =
 *   2,122,350,975 < 2^31 and |128 * sum(q)| <= 128 * 127 * d < 2^31 for d < 2^16
 *   (checked by the drivers), and the true result |q.k| <= d * 127^2 fits too; as
 *   the arithmetic is modulo 2^32, the final int32 is exact whatever the order.
 * Tiles are 512 bits: 16 keys (or channels) x 4 bytes per register.
 * Softmax steps use 16-lane registers too: one vpermd reads a 16-entry table. */
#ifndef FASTATTN_SIMD_I8_AVX512VNNI_H
#define FASTATTN_SIMD_I8_AVX512VNNI_H

#include "simd/i8-avx2.h" /* fa_i8_pack_k_avx2, fa_i8_load4 */

/* The grouped key layout of fa_i8_pack_k_avx2 with every byte offset by 128
 * (xor 0x80): padding keys and features hold 128, i.e. k = 0. */
static void fa_i8_pack_k_avx512vnni(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d,
                                    size_t dp, int8_t *kp) {
  fa_i8_pack_k_avx2(k, k_rs, n, d, dp, kp);
  const __m512i bias = _mm512_set1_epi8((char)0x80);
  for (size_t x = 0; x < FA_I8_NK * dp; x += 64) { /* FA_I8_NK * dp is a multiple of 64 */
    __m512i *w = (__m512i *)(void *)(kp + x);
    _mm512_storeu_si512(w, _mm512_xor_si512(_mm512_loadu_si512(w), bias));
  }
}

/* -128 * sum of the dp bytes of a q row (dp a multiple of 16), by vpsadbw on q + 128. */
static inline int32_t fa_i8_qk_bias_avx512vnni(const int8_t *q, size_t dp) {
  const __m128i flip = _mm_set1_epi8((char)0x80), zero = _mm_setzero_si128();
  __m128i s = zero;
  for (size_t x = 0; x < dp; x += 16)
    s = _mm_add_epi64(s, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(q + x)), flip), zero));
  const int64_t sum_offset = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1); /* sum(q) + 128 dp */
  return (int32_t)(-128 * (sum_offset - 128 * (int64_t)dp));
}

/* 4 query rows x 16 * NV keys of q.(k + 128) over dp / 4 feature groups, started at
 * the row bias; q is read by broadcast straight into vpdpbusd. */
static inline __attribute__((always_inline)) void fa_i8_qk_tile_avx512vnni(
    const int8_t *const q[4], const __m512i bias[4], const int8_t *kc, size_t dp, int nv,
    int32_t *sr) {
  __m512i acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int u = 0; u < nv; u++) acc[r][u] = bias[r];
  for (size_t g = 0; g < dp / 4; g++) {
    __m512i kv[4];
    for (int u = 0; u < nv; u++)
      kv[u] = _mm512_loadu_si512((const void *)(kc + g * FA_I8_NK * 4 + 64 * u));
    for (int r = 0; r < 4; r++) {
      const __m512i a = _mm512_set1_epi32(fa_i8_load4(q[r] + 4 * g));
      for (int u = 0; u < nv; u++) acc[r][u] = _mm512_dpbusd_epi32(acc[r][u], kv[u], a);
    }
  }
  for (int r = 0; r < 4; r++)
    for (int u = 0; u < nv; u++) _mm512_storeu_si512((void *)(sr + r * FA_I8_NK + 16 * u), acc[r][u]);
}

static void fa_i8_qk_avx512vnni(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                                size_t npad, int32_t *s) {
  for (size_t i = 0; i < mpad; i += 4) {
    const int8_t *q[4];
    __m512i bias[4];
    for (int r = 0; r < 4; r++) {
      q[r] = qp + (i + r) * dp;
      bias[r] = _mm512_set1_epi32(fa_i8_qk_bias_avx512vnni(q[r], dp));
    }
    size_t c = 0;
    for (; c + 64 <= npad; c += 64) fa_i8_qk_tile_avx512vnni(q, bias, kp + c * 4, dp, 4, s + i * FA_I8_NK + c);
    for (; c < npad; c += 16) fa_i8_qk_tile_avx512vnni(q, bias, kp + c * 4, dp, 1, s + i * FA_I8_NK + c);
  }
}

static float fa_i8_dequant_avx512vnni(const int32_t *s, float qs, const float *ks, float *t,
                                      size_t npad) {
  const __m512 vq = _mm512_set1_ps(qs);
  __m512 m = _mm512_set1_ps(-INFINITY);
  for (size_t c = 0; c < npad; c += 16) {
    const __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(s + c))), vq);
    const __m512 tc = _mm512_mul_ps(x, _mm512_loadu_ps(ks + c));
    _mm512_storeu_ps(t + c, tc);
    m = _mm512_max_ps(m, tc);
  }
  return _mm512_reduce_max_ps(m);
}

static float fa_i8_max_avx512vnni(const float *t, size_t npad) {
  __m512 m = _mm512_set1_ps(-INFINITY);
  for (size_t c = 0; c < npad; c += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(t + c));
  return _mm512_reduce_max_ps(m);
}

/* P for 16 scores (fa_i8_exp_lut1 of fa_i8_z1): vpermd reads index bits 0-3 only,
 * so the table indices need no masking; z <= 4095 keeps every shift below 32. */
static inline __m512i fa_i8_exp16_avx512vnni(__m512 t, __m512 m, __m512i ta16, __m512i tb16) {
  __m512 y = _mm512_mul_ps(_mm512_sub_ps(m, t), _mm512_set1_ps(256.0f));
  y = _mm512_min_ps(y, _mm512_set1_ps(FA_I8_ZMAX));
  const __m512i z = _mm512_cvtps_epi32(y); /* round half to even, as fa_i8_z1 */
  const __m512i ta = _mm512_permutexvar_epi32(_mm512_srli_epi32(z, 4), ta16);
  const __m512i tb = _mm512_permutexvar_epi32(z, tb16);
  const __m512i e = _mm512_srli_epi32(_mm512_add_epi32(_mm512_mullo_epi32(ta, tb), _mm512_set1_epi32(16384)), 15);
  const __m512i sh = _mm512_add_epi32(_mm512_srli_epi32(z, 8), _mm512_set1_epi32(7));
  return _mm512_srli_epi32(_mm512_add_epi32(_mm512_srlv_epi32(e, sh), _mm512_set1_epi32(1)), 1);
}

/* P as uint8, the operand vpdpbusd takes unsigned. 64 scores at a time go to bytes by
 * two saturating packs (exact: P <= 255) and one dword transpose of the lanes, which
 * is much cheaper than four vpmovdb on Zen 4; the last 16s by vpmovdb. */
static uint32_t fa_i8_exp_lut_avx512vnni(const float *t, size_t npad, float m, void *pv) {
  uint8_t *p = (uint8_t *)pv;
  const __m512i ta16 = _mm512_setr_epi32(65280, 62512, 59862, 57324, 54894, 52566, 50338, 48204,
                                         46160, 44203, 42329, 40534, 38816, 37170, 35594, 34085);
  const __m512i tb16 = _mm512_setr_epi32(32768, 32679, 32591, 32503, 32415, 32327, 32240, 32153,
                                         32066, 31979, 31893, 31806, 31720, 31635, 31549, 31464);
  /* after the packs, dword 4l + k holds P[16k + 4l .. 16k + 4l + 3] */
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512 vm = _mm512_set1_ps(m);
  __m512i sum = _mm512_setzero_si512();
  size_t c = 0;
  for (; c + 64 <= npad; c += 64) {
    const __m512i e0 = fa_i8_exp16_avx512vnni(_mm512_loadu_ps(t + c), vm, ta16, tb16);
    const __m512i e1 = fa_i8_exp16_avx512vnni(_mm512_loadu_ps(t + c + 16), vm, ta16, tb16);
    const __m512i e2 = fa_i8_exp16_avx512vnni(_mm512_loadu_ps(t + c + 32), vm, ta16, tb16);
    const __m512i e3 = fa_i8_exp16_avx512vnni(_mm512_loadu_ps(t + c + 48), vm, ta16, tb16);
    sum = _mm512_add_epi32(sum, _mm512_add_epi32(_mm512_add_epi32(e0, e1), _mm512_add_epi32(e2, e3)));
    const __m512i b = _mm512_packus_epi16(_mm512_packus_epi32(e0, e1), _mm512_packus_epi32(e2, e3));
    _mm512_storeu_si512((void *)(p + c), _mm512_permutexvar_epi32(order, b));
  }
  for (; c < npad; c += 16) {
    const __m512i e = fa_i8_exp16_avx512vnni(_mm512_loadu_ps(t + c), vm, ta16, tb16);
    sum = _mm512_add_epi32(sum, e);
    _mm_storeu_si128((__m128i *)(p + c), _mm512_cvtepi32_epi8(e)); /* e <= 255 */
  }
  return (uint32_t)_mm512_reduce_add_epi32(sum);
}

/* Values grouped by 4 keys, vp[((j / 4) * dvp + c) * 4 + j % 4] = v[j][c], as
 * fa_i8_pack_v_groups: 4 rows x 32 channels by byte and word interleaves. */
static void fa_i8_pack_v_avx512vnni(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                                    size_t dvp, int8_t *vp) {
  const size_t n4 = n / 4 * 4, dv32 = dv / 32 * 32;
  for (size_t j = 0; j < n4; j += 4) {
    const int8_t *r0 = v + (ptrdiff_t)j * v_rs, *r1 = r0 + v_rs, *r2 = r1 + v_rs, *r3 = r2 + v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4;
    for (size_t c = 0; c < dv32; c += 32) {
      const __m256i x0 = _mm256_loadu_si256((const __m256i *)(r0 + c));
      const __m256i x1 = _mm256_loadu_si256((const __m256i *)(r1 + c));
      const __m256i x2 = _mm256_loadu_si256((const __m256i *)(r2 + c));
      const __m256i x3 = _mm256_loadu_si256((const __m256i *)(r3 + c));
      const __m256i a = _mm256_unpacklo_epi8(x0, x1), b = _mm256_unpacklo_epi8(x2, x3);
      const __m256i e = _mm256_unpackhi_epi8(x0, x1), f = _mm256_unpackhi_epi8(x2, x3);
      /* per 128-bit lane h: w0 = channels 16h + 0..3, w1 = 4..7, w2 = 8..11, w3 = 12..15 */
      const __m256i w0 = _mm256_unpacklo_epi16(a, b), w1 = _mm256_unpackhi_epi16(a, b);
      const __m256i w2 = _mm256_unpacklo_epi16(e, f), w3 = _mm256_unpackhi_epi16(e, f);
      __m256i *out = (__m256i *)(void *)(dst + c * 4);
      _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(w0, w1, 0x20));
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(w2, w3, 0x20));
      _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(w0, w1, 0x31));
      _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(w2, w3, 0x31));
    }
    for (size_t c = dv32; c < dv; c++) {
      dst[c * 4] = r0[c], dst[c * 4 + 1] = r1[c], dst[c * 4 + 2] = r2[c], dst[c * 4 + 3] = r3[c];
    }
    memset(dst + dv * 4, 0, (dvp - dv) * 4);
  }
  memset(vp + n4 * dvp, 0, (FA_I8_NK - n4) * dvp);
  for (size_t j = n4; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4 + (j % 4);
    for (size_t c = 0; c < dv; c++) dst[c * 4] = row[c];
  }
}

/* 4 rows x 16 * NV channels of P.v over npad / 4 key groups; P rows read 4 keys
 * at a time by broadcast. */
static inline __attribute__((always_inline)) void fa_i8_pv_tile_avx512vnni(
    const uint8_t *p, size_t npad, const int8_t *vc, size_t dvp, int nv, int32_t *ar) {
  __m512i acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int u = 0; u < nv; u++) acc[r][u] = _mm512_setzero_si512();
  for (size_t g = 0; g < npad / 4; g++) {
    __m512i vv[4];
    for (int u = 0; u < nv; u++) vv[u] = _mm512_loadu_si512((const void *)(vc + g * dvp * 4 + 64 * u));
    for (int r = 0; r < 4; r++) {
      const __m512i a = _mm512_set1_epi32(fa_i8_load4(p + r * FA_I8_NK + 4 * g));
      for (int u = 0; u < nv; u++) acc[r][u] = _mm512_dpbusd_epi32(acc[r][u], a, vv[u]);
    }
  }
  for (int r = 0; r < 4; r++)
    for (int u = 0; u < nv; u++) _mm512_storeu_si512((void *)(ar + r * dvp + 16 * u), acc[r][u]);
}

static void fa_i8_pv_avx512vnni(const void *pv, size_t mpad, size_t npad, const int8_t *vp,
                                size_t dvp, int32_t *acc) {
  const uint8_t *p = (const uint8_t *)pv;
  for (size_t i = 0; i < mpad; i += 4) {
    size_t c = 0;
    for (; c + 64 <= dvp; c += 64) fa_i8_pv_tile_avx512vnni(p + i * FA_I8_NK, npad, vp + c * 4, dvp, 4, acc + i * dvp + c);
    for (; c < dvp; c += 16) fa_i8_pv_tile_avx512vnni(p + i * FA_I8_NK, npad, vp + c * 4, dvp, 1, acc + i * dvp + c);
  }
}

static const fa_i8_ukernels fa_i8_ukernels_avx512vnni = {
    1,                          fa_i8_pack_k_avx512vnni, fa_i8_qk_avx512vnni,
    fa_i8_dequant_avx512vnni,   fa_i8_max_avx512vnni,    fa_i8_exp_lut_avx512vnni,
    fa_i8_pack_v_avx512vnni,    fa_i8_pv_avx512vnni};

#endif
