/* AVX-512 VNNI int8 micro-kernels for the int8 flash engine. Include only from a
 * file compiled with the avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni target.
 *
 * vpdpbusd multiplies unsigned bytes of its first source by signed bytes of its
 * second, adds each group of four products to an int32 lane, and wraps (no
 * saturation, no int16 step).
 * - P.v: P (uint8 0..127) against v (int8) as they are; |acc| <= FA_I8_NK * 127 * 127.
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
#include "ukernels/i8-x86.h" /* packings, fa_i8_qk_bias_x86, fa_i8_load4 */

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
    65024, 64847, 64673, 64498, 64324, 64149, 63976, 63804, 63631, 63458, 63288, 63115, 62944,
    62776, 62605, 62436, 62267, 62098, 61931, 61763, 61596, 61429, 61264, 61098, 60933, 60768,
    60604, 60439, 60276, 60114, 59951, 59789, 59627, 59465, 59305, 59145, 58985, 58825, 58666,
    58508, 58350, 58191, 58035, 57876, 57720, 57565, 57409, 57254, 57099, 56944, 56791, 56637,
    56484, 56331, 56179, 56027, 55876, 55724, 55574, 55423, 55273, 55125, 54975, 54827, 54678,
    54529, 54383, 54236, 54089, 53942, 53797, 53652, 53507, 53361, 53218, 53073, 52929, 52787,
    52644, 52502, 52360, 52218, 52077, 51937, 51796, 51655, 51516, 51377, 51238, 51099, 50962,
    50823, 50685, 50550, 50412, 50276, 50140, 50004, 49869, 49735, 49600, 49465, 49332, 49199,
    49066, 48933, 48801, 48668, 48536, 48406, 48275, 48145, 48015, 47885, 47756, 47627, 47498,
    47369, 47241, 47114, 46986, 46859, 46733, 46605, 46479, 46355, 46229, 46104, 45979, 45854,
    45731, 45607, 45484, 45360, 45238, 45116, 44994, 44872, 44751, 44629, 44508, 44389, 44269,
    44149, 44030, 43910, 43792, 43674, 43556, 43437, 43321, 43204, 43087, 42970, 42854, 42737,
    42622, 42508, 42392, 42278, 42163, 42048, 41935, 41822, 41709, 41596, 41484, 41372, 41260,
    41148, 41037, 40925, 40815, 40705, 40594, 40485, 40375, 40265, 40157, 40048, 39940, 39832,
    39724, 39617, 39510, 39403, 39297, 39190, 39084, 38979, 38873, 38768, 38664, 38559, 38455,
    38351, 38247, 38144, 38041, 37938, 37836, 37733, 37632, 37529, 37427, 37327, 37226, 37125,
    37024, 36923, 36824, 36725, 36625, 36526, 36427, 36329, 36231, 36133, 36035, 35937, 35840,
    35744, 35647, 35551, 35455, 35359, 35263, 35168, 35073, 34978, 34884, 34790, 34695, 34601,
    34508, 34414, 34321, 34229, 34136, 34044, 33951, 33859, 33768, 33676, 33585, 33494, 33404,
    33314, 33224, 33134, 33044, 32954, 32865, 32777, 32688, 32600,
};

/* rint(min((r - t) * 256, 4095)) for 16 scores, in int32 lanes; the callers' unsigned
 * saturating pack to 16 bits is fa_i8_z1's clamp at 0. */
static inline __m512i fa_i8_z16_avx512vnni(const float *t, __m512 m) {
  __m512 y = _mm512_mul_ps(_mm512_sub_ps(m, _mm512_loadu_ps(t)), _mm512_set1_ps(256.0f));
  y = _mm512_min_ps(y, _mm512_set1_ps(FA_I8_ZMAX));
  return _mm512_cvtps_epi32(y); /* round half to even */
}

/* P = ((T[z & 255] >> ((z >> 8) + 8)) + 1) >> 1 for 32 z (0..4095) in uint16 lanes:
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
  const __m512i sh = _mm512_add_epi16(_mm512_srli_epi16(z, 8), _mm512_set1_epi16(8));
  return _mm512_srli_epi16(_mm512_add_epi16(_mm512_srlv_epi16(t, sh), _mm512_set1_epi16(1)), 1);
}

/* P as uint8, the operand vpdpbusd takes unsigned; the sum by vpsadbw. After the
 * saturating packs (exact: 0 <= z <= 4095, P <= 127), dword 4l + k holds
 * P[16k + 4l .. 16k + 4l + 3]; one dword permute restores the order. */
static uint32_t fa_i8_exp_lut_avx512vnni(const float *t, size_t npad, float m, uint8_t *p) {
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

static void fa_i8_pv_avx512vnni(const uint8_t *p, size_t mpad, size_t npad, const int8_t *vp,
                                size_t dvp, int32_t *acc) {
  for (size_t i = 0; i < mpad; i += 4) {
    size_t c = 0;
    for (; c + 64 <= dvp; c += 64) fa_i8_pv_tile_avx512vnni(p + i * FA_I8_NK, npad, vp + c * 4, dvp, 4, acc + i * dvp + c);
    for (; c < dvp; c += 16) fa_i8_pv_tile_avx512vnni(p + i * FA_I8_NK, npad, vp + c * 4, dvp, 1, acc + i * dvp + c);
  }
}

static const fa_i8_ukernels fa_i8_ukernels_avx512vnni = {
    fa_i8_pack_k_biased_x86,  fa_i8_qk_avx512vnni,      fa_i8_dequant_avx512vnni,
    fa_i8_max_avx512vnni,     fa_i8_exp_lut_avx512vnni, fa_i8_pack_v_x86,
    fa_i8_pv_avx512vnni};

#endif
