/* AVX-512 VNNI int8 micro-kernels for the int8 flash engine. Include only from a
 * file compiled with the avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni target.
 *
 * vpdpbusd multiplies unsigned bytes of its first source by signed bytes of its
 * second, adds each group of four products to an int32 lane, and wraps (no
 * saturation, no int16 step).
 * - P.v: P (uint8 0..255) against v (int8) as they are; |acc| <= FA_I8_NK * 255 * 127.
 * - q.k: keys are stored offset to unsigned, k + 128 (1..255), and q stays signed,
 *   so the lanes hold q.k + 128 * sum(q); the row sum is subtracted from the start
 *   value. No overflow: |q.(k + 128)| <= d * 63 * 255 < 2^31 and
 *   |128 * sum(q)| <= 128 * 63 * d < 2^31 for d < 2^16 (checked by the drivers), and
 *   the true result |q.k| <= d * 63 * 127 fits too; as the arithmetic is modulo 2^32,
 *   the final int32 is exact whatever the order.
 * Tiles are 512 bits: 16 keys (or channels) x 4 bytes per register.
 * The softmax table lookups use 16-bit lanes and vpermt2w on the whole 256-entry table. */
#ifndef FASTATTN_UKERNELS_I8_AVX512VNNI_H
#define FASTATTN_UKERNELS_I8_AVX512VNNI_H

#include <immintrin.h>
#include "flash/i8.h"
#include "ukernels/i8-x86.h" /* fa_i8_pack_k_biased_x86, fa_i8_qk_bias_x86, fa_i8_load4 */

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
      bias[r] = _mm512_set1_epi32(fa_i8_qk_bias_x86(q[r], dp));
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

/* The whole fraction table of flash/i8.h, T[16h + l] = (A[h] * B[l] + 2^14) >> 15
 * (all below 2^16), so that 16-bit lanes look it up without a multiply. */
static const uint16_t fa_i8_exp_t256_avx512vnni[256] = {
    65280, 65103, 64927, 64752, 64577, 64401, 64228, 64055, 63881, 63708, 63537, 63364,
    63192, 63023, 62852, 62682, 62512, 62342, 62174, 62006, 61839, 61671, 61505, 61339,
    61173, 61007, 60843, 60677, 60513, 60351, 60186, 60024, 59862, 59699, 59539, 59378,
    59217, 59056, 58897, 58738, 58580, 58421, 58264, 58105, 57947, 57792, 57635, 57480,
    57324, 57168, 57014, 56860, 56706, 56553, 56400, 56248, 56096, 55944, 55793, 55641,
    55491, 55342, 55191, 55043, 54894, 54745, 54597, 54450, 54303, 54155, 54009, 53864,
    53718, 53572, 53428, 53282, 53138, 52996, 52852, 52709, 52566, 52423, 52282, 52141,
    52000, 51859, 51719, 51579, 51440, 51300, 51162, 51023, 50885, 50748, 50610, 50474,
    50338, 50201, 50066, 49931, 49796, 49661, 49527, 49393, 49260, 49126, 48994, 48860,
    48728, 48597, 48465, 48335, 48204, 48073, 47944, 47814, 47685, 47555, 47427, 47299,
    47171, 47043, 46917, 46789, 46662, 46537, 46411, 46286, 46160, 46035, 45911, 45787,
    45663, 45539, 45416, 45294, 45171, 45049, 44927, 44805, 44684, 44564, 44443, 44323,
    44203, 44083, 43964, 43846, 43727, 43608, 43491, 43373, 43256, 43139, 43023, 42905,
    42789, 42675, 42559, 42444, 42329, 42214, 42100, 41987, 41873, 41759, 41647, 41535,
    41422, 41310, 41199, 41086, 40975, 40865, 40754, 40645, 40534, 40424, 40315, 40206,
    40097, 39988, 39881, 39773, 39666, 39558, 39452, 39344, 39238, 39132, 39026, 38921,
    38816, 38711, 38606, 38502, 38398, 38294, 38191, 38087, 37984, 37881, 37780, 37676,
    37575, 37474, 37372, 37271, 37170, 37069, 36969, 36869, 36770, 36670, 36571, 36472,
    36374, 36275, 36177, 36079, 35981, 35885, 35787, 35691, 35594, 35497, 35402, 35306,
    35211, 35115, 35020, 34926, 34831, 34737, 34644, 34549, 34456, 34363, 34270, 34178,
    34085, 33992, 33901, 33809, 33718, 33626, 33536, 33445, 33355, 33264, 33175, 33084,
    32995, 32906, 32817, 32729,
};

/* z = rint(min((m - t) * 256, 4095)) for 16 scores, in int32 lanes, as fa_i8_z1. */
static inline __m512i fa_i8_z16_avx512vnni(const float *t, __m512 m) {
  __m512 y = _mm512_mul_ps(_mm512_sub_ps(m, _mm512_loadu_ps(t)), _mm512_set1_ps(256.0f));
  y = _mm512_min_ps(y, _mm512_set1_ps(FA_I8_ZMAX));
  return _mm512_cvtps_epi32(y); /* round half to even */
}

/* P = ((T[z & 255] >> ((z >> 8) + 7)) + 1) >> 1 for 32 z (0..4095) in uint16 lanes:
 * four 64-entry vpermt2w lookups (index bits 0-5) picked by bits 6 and 7; a
 * vpsrlvw count above 15 gives 0, which is the exact result there. */
static inline __m512i fa_i8_exp32_avx512vnni(__m512i z, const __m512i tab[8]) {
  const __m512i t0 = _mm512_permutex2var_epi16(tab[0], z, tab[1]);
  const __m512i t1 = _mm512_permutex2var_epi16(tab[2], z, tab[3]);
  const __m512i t2 = _mm512_permutex2var_epi16(tab[4], z, tab[5]);
  const __m512i t3 = _mm512_permutex2var_epi16(tab[6], z, tab[7]);
  const __mmask32 b6 = _mm512_test_epi16_mask(z, _mm512_set1_epi16(0x40));
  const __mmask32 b7 = _mm512_test_epi16_mask(z, _mm512_set1_epi16(0x80));
  const __m512i t = _mm512_mask_blend_epi16(b7, _mm512_mask_blend_epi16(b6, t0, t1),
                                            _mm512_mask_blend_epi16(b6, t2, t3));
  const __m512i sh = _mm512_add_epi16(_mm512_srli_epi16(z, 8), _mm512_set1_epi16(7));
  return _mm512_srli_epi16(_mm512_add_epi16(_mm512_srlv_epi16(t, sh), _mm512_set1_epi16(1)), 1);
}

/* P as uint8, the operand vpdpbusd takes unsigned; the sum by vpsadbw. After the
 * saturating packs (exact: z <= 4095, P <= 255), dword 4l + k holds
 * P[16k + 4l .. 16k + 4l + 3]; one dword permute restores the order. */
static uint32_t fa_i8_exp_lut_avx512vnni(const float *t, size_t npad, float m, void *pv) {
  uint8_t *p = (uint8_t *)pv;
  __m512i tab[8];
  for (int u = 0; u < 8; u++) tab[u] = _mm512_loadu_si512((const void *)(fa_i8_exp_t256_avx512vnni + 32 * u));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i zero = _mm512_setzero_si512();
  const __m512 vm = _mm512_set1_ps(m);
  __m512i sum = zero;
  size_t c = 0;
  for (; c + 64 <= npad; c += 64) {
    const __m512i z01 = _mm512_packus_epi32(fa_i8_z16_avx512vnni(t + c, vm), fa_i8_z16_avx512vnni(t + c + 16, vm));
    const __m512i z23 = _mm512_packus_epi32(fa_i8_z16_avx512vnni(t + c + 32, vm), fa_i8_z16_avx512vnni(t + c + 48, vm));
    const __m512i b = _mm512_packus_epi16(fa_i8_exp32_avx512vnni(z01, tab), fa_i8_exp32_avx512vnni(z23, tab));
    sum = _mm512_add_epi64(sum, _mm512_sad_epu8(b, zero));
    _mm512_storeu_si512((void *)(p + c), _mm512_permutexvar_epi32(order, b));
  }
  for (; c < npad; c += 16) { /* the same lanes, 16 scores in the first dword of each */
    const __m512i z = fa_i8_z16_avx512vnni(t + c, vm);
    const __m512i e = fa_i8_exp32_avx512vnni(_mm512_packus_epi32(z, z), tab);
    const __m128i b = _mm512_castsi512_si128(_mm512_permutexvar_epi32(order, _mm512_packus_epi16(e, e)));
    /* zext, not cast: a cast leaves the upper 384 bits undefined (clang keeps garbage there) */
    sum = _mm512_add_epi64(sum, _mm512_zextsi128_si512(_mm_sad_epu8(b, _mm_setzero_si128())));
    _mm_storeu_si128((__m128i *)(p + c), b);
  }
  return (uint32_t)_mm512_reduce_add_epi64(sum);
}

/* Values grouped by 4 keys, vp[((j / 4) * dvp + c) * 4 + j % 4] = v[j][c]: 4 rows x 32
 * channels by byte and word interleaves. */
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
  memset(vp + n4 * dvp, 0, (fa_round_up(n, FA_I8_NR) - n4) * dvp);
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
    1,                          fa_i8_pack_k_biased_x86, fa_i8_qk_avx512vnni,
    fa_i8_dequant_avx512vnni,   fa_i8_max_avx512vnni,    fa_i8_exp_lut_avx512vnni,
    fa_i8_pack_v_avx512vnni,    fa_i8_pv_avx512vnni};

#endif
