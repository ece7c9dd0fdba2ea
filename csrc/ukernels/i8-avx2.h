/* AVX2 int8 micro-kernels for the int8 flash engine. Include only from a file
 * compiled with the avx2,fma target enabled.
 *
 * q.k: vpmaddubsw (u8 x s8, two products summed into s16) of the keys offset to
 * unsigned (k + 128) by the 7-bit queries, then vpmaddwd by ones; each s16 sum is at
 * most 2 * 255 * 63 = 32130: no saturation. P.v: P reaches 255 and 2 * 255 * 127
 * would saturate vpmaddubsw, so P is stored as uint16 and v widened to s16
 * pairs once per tile, multiplied with vpmaddwd (exact in s32). The softmax
 * runs in 16-bit lanes, its table lookups by vpshufb on byte planes. */
#ifndef FASTATTN_UKERNELS_I8_AVX2_H
#define FASTATTN_UKERNELS_I8_AVX2_H

#include <immintrin.h>
#include "flash/i8.h"
#include "ukernels/i8-x86.h" /* fa_i8_pack_k_biased_x86, fa_i8_qk_bias_x86, fa_i8_load4 */

/* 4 query rows x 16 keys of q.(k + 128) per step over dp / 4 feature groups, started at the
 * row bias (fa_i8_qk_bias_x86) so the lanes end at q.k: vpmaddubsw(k + 128, q) cannot
 * saturate, |(k_a + 128) q_a + (k_b + 128) q_b| <= 2 * 255 * 63 = 32,130 < 2^15, then
 * vpmaddwd by ones into int32 (exact modulo 2^32, as in the VNNI kernel). */
static void fa_i8_qk_avx2(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                          size_t npad, int32_t *s) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t i = 0; i < mpad; i += 4) {
    const int8_t *q[4];
    __m256i bias[4];
    for (int r = 0; r < 4; r++) {
      q[r] = qp + (i + r) * dp;
      bias[r] = _mm256_set1_epi32(fa_i8_qk_bias_x86(q[r], dp));
    }
    for (size_t c = 0; c < npad; c += 16) {
      __m256i acc[4][2];
      for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = bias[r];
      const int8_t *kc = kp + c * 4;
      for (size_t g = 0; g < dp / 4; g++) {
        const __m256i k0 = _mm256_loadu_si256((const __m256i *)(kc + g * FA_I8_NK * 4));
        const __m256i k1 = _mm256_loadu_si256((const __m256i *)(kc + g * FA_I8_NK * 4 + 32));
        for (int r = 0; r < 4; r++) {
          const __m256i a = _mm256_set1_epi32(fa_i8_load4(q[r] + 4 * g));
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(k0, a), ones));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(k1, a), ones));
        }
      }
      for (int r = 0; r < 4; r++) {
        _mm256_storeu_si256((__m256i *)(s + (i + r) * FA_I8_NK + c), acc[r][0]);
        _mm256_storeu_si256((__m256i *)(s + (i + r) * FA_I8_NK + c + 8), acc[r][1]);
      }
    }
  }
}

static inline float fa_i8_hmax_avx2(__m256 m0) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(m0), _mm256_extractf128_ps(m0, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

static float fa_i8_dequant_avx2(const int32_t *s, float qs, const float *ks, float *t,
                                size_t npad) {
  const __m256 vq = _mm256_set1_ps(qs);
  __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 16) {
    const __m256i s0 = _mm256_loadu_si256((const __m256i *)(s + c));
    const __m256i s1 = _mm256_loadu_si256((const __m256i *)(s + c + 8));
    const __m256 t0 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s0), vq), _mm256_loadu_ps(ks + c));
    const __m256 t1 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s1), vq), _mm256_loadu_ps(ks + c + 8));
    _mm256_storeu_ps(t + c, t0), _mm256_storeu_ps(t + c + 8, t1);
    m0 = _mm256_max_ps(m0, t0), m1 = _mm256_max_ps(m1, t1);
  }
  return fa_i8_hmax_avx2(_mm256_max_ps(m0, m1));
}

static float fa_i8_max_avx2(const float *t, size_t npad) {
  __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 16) {
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(t + c));
    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(t + c + 8));
  }
  return fa_i8_hmax_avx2(_mm256_max_ps(m0, m1));
}

/* One byte plane (shift 0: low bytes, 8: high bytes) of a 16-entry uint16 table in both
 * 128-bit lanes, for vpshufb; constant-folded from the static tables. */
static inline __attribute__((always_inline)) __m256i fa_i8_plane_avx2(const uint16_t *x, int s) {
  const __m128i b = _mm_setr_epi8(
      (char)(x[0] >> s), (char)(x[1] >> s), (char)(x[2] >> s), (char)(x[3] >> s),
      (char)(x[4] >> s), (char)(x[5] >> s), (char)(x[6] >> s), (char)(x[7] >> s),
      (char)(x[8] >> s), (char)(x[9] >> s), (char)(x[10] >> s), (char)(x[11] >> s),
      (char)(x[12] >> s), (char)(x[13] >> s), (char)(x[14] >> s), (char)(x[15] >> s));
  return _mm256_broadcastsi128_si256(b);
}

/* y[idx] for a 16-entry uint16 table given as its low and high byte planes, idx in 0..15 in
 * the low byte of each 16-bit lane (high byte 0). vpshufb fills the lane's high byte with
 * entry 0 of the plane: 0 in every low plane here (A[0] = 0xFF00, B[0] = 0x8000, M[0] =
 * 0x100), and shifted out of the high plane. */
static inline __m256i fa_i8_lookup16_avx2(__m256i lo, __m256i hi, __m256i idx) {
  return _mm256_or_si256(_mm256_shuffle_epi8(lo, idx), _mm256_slli_epi16(_mm256_shuffle_epi8(hi, idx), 8));
}

/* The tables of the 16-bit softmax step: A of flash/i8.h with A[15] + 1 (34086), B as it is,
 * and M[e] = 2^(8 - e) (0 from e = 9). With them P = vpmulhrsw(mulhi(A'[h], B[l]), M[e]),
 * i.e. (hi + 2^(e + 6)) >> (e + 7) with hi the product's high half: equal to the scalar
 * definition for every z in [0, 4095] (tests/c/i8_exp_x86.c checks each; with A[15] itself
 * z = 502 would be off by one, the rounding carry of T that this form drops). */
static const uint16_t fa_i8_exp_a_avx2[16] = {65280, 62512, 59862, 57324, 54894, 52566, 50338, 48204,
                                              46160, 44203, 42329, 40534, 38816, 37170, 35594, 34086};
static const uint16_t fa_i8_exp_m_avx2[16] = {256, 128, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0};

typedef struct fa_i8_exp_tables_avx2 {
  __m256i a_lo, a_hi, b_lo, b_hi, m_lo, m_hi;
} fa_i8_exp_tables_avx2;

/* P for 16 scores in 16-bit lanes (z <= 4095), in the lane order of vpackssdw(z0, z1).
 * vpmulhrsw is signed: hi <= 65280 * 32768 >> 16 = 32640 and M <= 256 fit. */
static inline __m256i fa_i8_exp16_avx2(__m256 t0, __m256 t1, __m256 m256,
                                       const fa_i8_exp_tables_avx2 *tb) {
  /* 256 * (m - t) in one rounding: scaling by a power of two commutes with it (the caller
   * keeps 256 * m finite) */
  const __m256 zmax = _mm256_set1_ps(FA_I8_ZMAX);
  const __m256 y0 = _mm256_min_ps(_mm256_fnmadd_ps(t0, _mm256_set1_ps(256.0f), m256), zmax);
  const __m256 y1 = _mm256_min_ps(_mm256_fnmadd_ps(t1, _mm256_set1_ps(256.0f), m256), zmax);
  const __m256i z = _mm256_packs_epi32(_mm256_cvtps_epi32(y0), _mm256_cvtps_epi32(y1));
  const __m256i nib = _mm256_set1_epi16(15);
  const __m256i a = fa_i8_lookup16_avx2(tb->a_lo, tb->a_hi, _mm256_and_si256(_mm256_srli_epi16(z, 4), nib));
  const __m256i b = fa_i8_lookup16_avx2(tb->b_lo, tb->b_hi, _mm256_and_si256(z, nib));
  const __m256i mult = fa_i8_lookup16_avx2(tb->m_lo, tb->m_hi, _mm256_srli_epi16(z, 8));
  return _mm256_mulhrs_epi16(_mm256_mulhi_epu16(a, b), mult);
}

/* P as uint16 (see pv), 16 scores per step. 256 * m overflows only for |m| >= 2^120,
 * where the two-rounding form of fa_i8_z1 is used instead (the scalar definition). */
static uint32_t fa_i8_exp_lut_avx2(const float *t, size_t npad, float m, void *pv) {
  uint16_t *p = (uint16_t *)pv;
  if (!(fabsf(m) < 0x1p120f)) {
    uint32_t sum = 0;
    for (size_t c = 0; c < npad; c++) {
      p[c] = (uint16_t)fa_i8_exp_lut1(fa_i8_z1(m, t[c]));
      sum += p[c];
    }
    return sum;
  }
  fa_i8_exp_tables_avx2 tb;
  tb.a_lo = fa_i8_plane_avx2(fa_i8_exp_a_avx2, 0), tb.a_hi = fa_i8_plane_avx2(fa_i8_exp_a_avx2, 8);
  tb.b_lo = fa_i8_plane_avx2(fa_i8_exp_b, 0), tb.b_hi = fa_i8_plane_avx2(fa_i8_exp_b, 8);
  tb.m_lo = fa_i8_plane_avx2(fa_i8_exp_m_avx2, 0), tb.m_hi = fa_i8_plane_avx2(fa_i8_exp_m_avx2, 8);
  const __m256 m256 = _mm256_set1_ps(m * 256.0f);
  __m256i sum = _mm256_setzero_si256(); /* 16-bit lanes: at most FA_I8_NK / 16 * 255 each */
  for (size_t c = 0; c < npad; c += 16) {
    const __m256i e = fa_i8_exp16_avx2(_mm256_loadu_ps(t + c), _mm256_loadu_ps(t + c + 8), m256, &tb);
    sum = _mm256_add_epi16(sum, e);
    _mm256_storeu_si256((__m256i *)(p + c), _mm256_permute4x64_epi64(e, 0xD8));
  }
  __m256i s8 = _mm256_madd_epi16(sum, _mm256_set1_epi16(1));
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
  return (uint32_t)_mm_cvtsi128_si32(s4);
}

/* Values as s16 pairs of keys: vp16[((j / 2) * dvp + c) * 2 + j % 2] = v[j][c]. */
static void fa_i8_pack_v_avx2(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                              size_t dvp, int8_t *vp) {
  int16_t *vp16 = (int16_t *)(void *)vp;
  memset(vp16 + n / 2 * dvp * 2, 0, (fa_round_up(n, FA_I8_NR) - n / 2 * 2) * dvp * sizeof(int16_t));
  const size_t dv16 = dv / 16 * 16;
  for (size_t j = 0; j < n; j += 2) {
    const int8_t *r0 = v + (ptrdiff_t)j * v_rs, *r1 = r0 + v_rs;
    int16_t *dst = vp16 + (j / 2) * dvp * 2;
    if (j + 1 < n) {
      for (size_t c = 0; c < dv16; c += 16) {
        const __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r0 + c)));
        const __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r1 + c)));
        const __m256i lo = _mm256_unpacklo_epi16(x0, x1), hi = _mm256_unpackhi_epi16(x0, x1);
        _mm256_storeu_si256((__m256i *)(dst + c * 2), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(dst + c * 2 + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
      }
      for (size_t c = dv16; c < dv; c++) dst[c * 2] = r0[c], dst[c * 2 + 1] = r1[c];
    } else {
      for (size_t c = 0; c < dv; c++) dst[c * 2] = r0[c], dst[c * 2 + 1] = 0;
    }
    for (size_t c = dv; c < dvp; c++) dst[c * 2] = 0, dst[c * 2 + 1] = 0;
  }
}

/* A 4-row x 16-channel tile of P.v over npad keys (even), two keys per vpmaddwd. */
static void fa_i8_pv_avx2(const void *pv, size_t mpad, size_t npad, const int8_t *vp,
                          size_t dvp, int32_t *acc) {
  const uint16_t *p = (const uint16_t *)pv;
  const int16_t *vp16 = (const int16_t *)(const void *)vp;
  for (size_t i = 0; i < mpad; i += 4) {
    const uint16_t *p0 = p + i * FA_I8_NK, *p1 = p0 + FA_I8_NK, *p2 = p1 + FA_I8_NK,
                   *p3 = p2 + FA_I8_NK;
    for (size_t c = 0; c < dvp; c += 16) {
      __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
      __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const int16_t *vc = vp16 + c * 2;
      for (size_t g = 0; g < npad / 2; g++) {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)(vc + g * dvp * 2));
        const __m256i v1 = _mm256_loadu_si256((const __m256i *)(vc + g * dvp * 2 + 16));
        __m256i a = _mm256_set1_epi32(fa_i8_load4(p0 + 2 * g));
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(a, v0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(a, v1));
        a = _mm256_set1_epi32(fa_i8_load4(p1 + 2 * g));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(a, v0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(a, v1));
        a = _mm256_set1_epi32(fa_i8_load4(p2 + 2 * g));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(a, v0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(a, v1));
        a = _mm256_set1_epi32(fa_i8_load4(p3 + 2 * g));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(a, v0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(a, v1));
      }
      int32_t *ar = acc + i * dvp + c;
      _mm256_storeu_si256((__m256i *)(ar + 0 * dvp), c00);
      _mm256_storeu_si256((__m256i *)(ar + 0 * dvp + 8), c01);
      _mm256_storeu_si256((__m256i *)(ar + 1 * dvp), c10);
      _mm256_storeu_si256((__m256i *)(ar + 1 * dvp + 8), c11);
      _mm256_storeu_si256((__m256i *)(ar + 2 * dvp), c20);
      _mm256_storeu_si256((__m256i *)(ar + 2 * dvp + 8), c21);
      _mm256_storeu_si256((__m256i *)(ar + 3 * dvp), c30);
      _mm256_storeu_si256((__m256i *)(ar + 3 * dvp + 8), c31);
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_avx2 = {
    2,                   fa_i8_pack_k_biased_x86,   fa_i8_qk_avx2,     fa_i8_dequant_avx2, fa_i8_max_avx2,
    fa_i8_exp_lut_avx2,  fa_i8_pack_v_avx2, fa_i8_pv_avx2};

#endif
