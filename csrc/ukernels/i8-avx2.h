/* AVX2 int8 micro-kernels for the int8 flash engine. Include only from a file
 * compiled with the avx2,fma target enabled.
 *
 * q.k: vpmaddubsw (u8 x s8, two products summed into s16) of the keys offset to
 * unsigned (k + 128) by the 7-bit queries, then vpmaddwd by ones; each s16 sum is at
 * most 2 * 255 * 63 = 32130: no saturation. P.v the same way on the 7-bit P (u8)
 * against v (s8) grouped by 4 keys: each s16 sum is at most 2 * 127 * 127 = 32258.
 * Both add two such sums in int16 before vpmaddwd where the data proves it exact.
 * The softmax runs in 16-bit lanes, its table lookups by vpshufb on byte planes. */
#ifndef FASTATTN_UKERNELS_I8_AVX2_H
#define FASTATTN_UKERNELS_I8_AVX2_H

#include <immintrin.h>
#include "flash/i8.h"
#include "ukernels/i8-x86.h" /* packings, fa_i8_qk_bias_x86, fa_i8_load4 */

static inline float fa_i8_hmax_avx2(__m256 m0) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(m0), _mm256_extractf128_ps(m0, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

/* Whether two vpmaddubsw results of the 4-row group of rows x[0..3] (dp bytes each, one
 * broadcast operand) may be added in int16 before vpmaddwd: groups of 4 bytes are paired
 * (2h, 2h + 1), and each int16 lane of the sum takes bytes 8h + 2u, 8h + 2u + 1, 8h + 4 + 2u
 * and 8h + 5 + 2u (u = 0, 1) of the row. It may if every such quadruple sums to at most
 * `limit` in absolute value (|x| summed, or x itself for P's unsigned bytes). */
static inline int fa_i8_pairs_fit_avx2(const int8_t *const x[4], size_t dp, int is_signed,
                                       int limit) {
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i mx = _mm256_setzero_si256();
  for (int r = 0; r < 4; r++) {
    for (size_t c = 0; c < dp; c += 32) { /* dp is a multiple of 16: a last half vector */
      const __m256i raw = dp - c >= 32 ? _mm256_loadu_si256((const __m256i *)(const void *)(x[r] + c))
                                       : _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(x[r] + c)));
      const __m256i a = is_signed ? _mm256_abs_epi8(raw) : raw;
      const __m256i s = _mm256_maddubs_epi16(a, ones); /* byte pair sums, <= 2 * 255 */
      mx = _mm256_max_epi16(mx, _mm256_add_epi16(s, _mm256_srli_epi64(s, 32)));
    }
  }
  /* words 0, 1 of each 64 bits hold the quadruples used; words 2, 3 pair across pairs */
  const __m256i used = _mm256_and_si256(mx, _mm256_set1_epi64x(0xFFFFFFFF));
  return _mm256_movemask_epi8(_mm256_cmpgt_epi16(used, _mm256_set1_epi16((short)limit))) == 0;
}

/* vpmaddubsw of a tile vector t and a broadcast b, the unsigned operand t (ut) or b */
static inline __attribute__((always_inline)) __m256i fa_i8_maddubs_avx2(int ut, __m256i t,
                                                                        __m256i b) {
  return ut ? _mm256_maddubs_epi16(t, b) : _mm256_maddubs_epi16(b, t);
}

/* acc[r][h] += the int32 dot products of 4 rows x 16 columns over ng groups of 4 bytes: the
 * tile operand x (32 bytes per 8 columns, group g at x + g * xstride, halves h at +0 and +32)
 * by the broadcast 4 bytes y[r] + 4g. The unsigned operand of vpmaddubsw is x (ux = 1: keys
 * offset by 128) or y (ux = 0: P). With pairs, two groups' vpmaddubsw results are added in
 * int16 before one vpmaddwd by ones (fa_i8_pairs_fit_avx2 said that cannot saturate; ng is
 * even): 5 vector operations per 64 products of a row instead of 6. Exact either way. */
static inline __attribute__((always_inline)) void fa_i8_dot4x16_avx2(
    const int8_t *x, size_t xstride, const int8_t *const y[4], size_t ng, int ux, int pairs,
    __m256i acc[4][2]) {
  const __m256i ones = _mm256_set1_epi16(1);
  if (pairs) {
    for (size_t g = 0; g < ng; g += 2) {
      const int8_t *xg = x + g * xstride;
      const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)xg);
      const __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(xg + 32));
      const __m256i x2 = _mm256_loadu_si256((const __m256i *)(const void *)(xg + xstride));
      const __m256i x3 = _mm256_loadu_si256((const __m256i *)(const void *)(xg + xstride + 32));
      for (int r = 0; r < 4; r++) {
        const __m256i a = _mm256_set1_epi32(fa_i8_load4(y[r] + 4 * g));
        const __m256i b = _mm256_set1_epi32(fa_i8_load4(y[r] + 4 * g + 4));
        const __m256i s0 = _mm256_add_epi16(fa_i8_maddubs_avx2(ux, x0, a), fa_i8_maddubs_avx2(ux, x2, b));
        const __m256i s1 = _mm256_add_epi16(fa_i8_maddubs_avx2(ux, x1, a), fa_i8_maddubs_avx2(ux, x3, b));
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(s0, ones));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(s1, ones));
      }
    }
    return;
  }
  for (size_t g = 0; g < ng; g++) {
    const int8_t *xg = x + g * xstride;
    const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)xg);
    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(xg + 32));
    for (int r = 0; r < 4; r++) {
      const __m256i a = _mm256_set1_epi32(fa_i8_load4(y[r] + 4 * g));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(fa_i8_maddubs_avx2(ux, x0, a), ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(fa_i8_maddubs_avx2(ux, x1, a), ones));
    }
  }
}

/* 4 query rows x 16 keys of q.(k + 128) per step over dp / 4 feature groups, started at the
 * row bias (fa_i8_qk_bias_x86) so the lanes end at q.k: vpmaddubsw(k + 128, q) cannot
 * saturate, |(k_a + 128) q_a + (k_b + 128) q_b| <= 2 * 255 * 63 = 32,130 < 2^15, then
 * vpmaddwd by ones into int32 (exact modulo 2^32, as in the VNNI kernel). Two groups'
 * int16 sums are added first when the 4 rows allow: |sum| <= 255 * (sum of the 4 |q| of
 * a lane) <= 255 * 128 = 32,640 (fa_i8_pairs_fit_avx2; most rows of 7-bit queries with a
 * block scale do). The int32 scores never leave the registers: each becomes
 * t = ((float)s * qs) * ks (dequant's formula, lane for lane), stored, and the rows'
 * maxima are kept on the way. */
static void fa_i8_qk_scores_avx2(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                                 size_t npad, const float *qs, const float *ks, float *t,
                                 float *tmax) {
  for (size_t i = 0; i < mpad; i += 4) {
    const int8_t *q[4];
    __m256i bias[4];
    __m256 mx[4];
    for (int r = 0; r < 4; r++) {
      q[r] = qp + (i + r) * dp;
      bias[r] = _mm256_set1_epi32(fa_i8_qk_bias_x86(q[r], dp));
      mx[r] = _mm256_set1_ps(-INFINITY);
    }
    const int pairs = fa_i8_pairs_fit_avx2(q, dp, 1, 128);
    for (size_t c = 0; c < npad; c += 16) {
      __m256i acc[4][2];
      for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = bias[r];
      if (pairs)
        fa_i8_dot4x16_avx2(kp + c * 4, FA_I8_NK * 4, q, dp / 4, 1, 1, acc);
      else
        fa_i8_dot4x16_avx2(kp + c * 4, FA_I8_NK * 4, q, dp / 4, 1, 0, acc);
      const __m256 ks0 = _mm256_loadu_ps(ks + c), ks1 = _mm256_loadu_ps(ks + c + 8);
      for (int r = 0; r < 4; r++) {
        const __m256 vq = _mm256_set1_ps(qs[i + r]);
        const __m256 t0 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][0]), vq), ks0);
        const __m256 t1 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][1]), vq), ks1);
        _mm256_storeu_ps(t + (i + r) * FA_I8_NK + c, t0);
        _mm256_storeu_ps(t + (i + r) * FA_I8_NK + c + 8, t1);
        mx[r] = _mm256_max_ps(mx[r], _mm256_max_ps(t0, t1));
      }
    }
    for (int r = 0; r < 4; r++) tmax[i + r] = fa_i8_hmax_avx2(mx[r]);
  }
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
 * the low byte of each 16-bit lane (high byte 0; a low byte with bit 7 set gives 0, and its
 * bits 4-6 are ignored). vpshufb fills the lane's high byte with
 * entry 0 of the plane: 0 in both low planes here (A[0] = 0xFE00, B[0] = 0x8000), and
 * shifted out of the high plane. */
static inline __m256i fa_i8_lookup16_avx2(__m256i lo, __m256i hi, __m256i idx) {
  return _mm256_or_si256(_mm256_shuffle_epi8(lo, idx), _mm256_slli_epi16(_mm256_shuffle_epi8(hi, idx), 8));
}

/* The tables of the 16-bit softmax step: A of flash/i8.h with A[12] and A[13] one higher,
 * B as it is, and M[e] = 2^(7 - e) (0 from e = 8), held one entry up (M'[e + 1] = M[e],
 * M'[0] = 0, which vpshufb also puts in each lane's high byte; e = 15 wraps to it). With them
 * P = vpmulhrsw(mulhi(A'[h], B[l]), M[e]), i.e. (hi + 2^(e + 7)) >> (e + 8) with hi the
 * product's high half: equal to the scalar definition for every z in [0, 4095]
 * (tests/c/i8_exp_x86.c checks each; with A itself z = 197, 202 and 732 would be off by one,
 * the rounding carry of T that this form drops). */
static const uint16_t fa_i8_exp_a_avx2[16] = {65024, 62267, 59627, 57099, 54678, 52360, 50140, 48015,
                                              45979, 44030, 42163, 40375, 38665, 37025, 35455, 33951};
static const uint16_t fa_i8_exp_m_avx2[16] = {0, 128, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0};

typedef struct fa_i8_exp_tables_avx2 {
  __m256i a_lo, a_hi, b_lo, b_hi, m;
} fa_i8_exp_tables_avx2;

/* P for 16 scores in 16-bit lanes (0 <= z <= 4095), in the lane order of vpackusdw(z0, z1),
 * whose unsigned saturation is the clamp of z at 0. vpmulhrsw is signed: hi <= 65024 *
 * 32768 >> 16 = 32512 and M <= 128 fit. */
static inline __m256i fa_i8_exp16_avx2(__m256 t0, __m256 t1, __m256 r256,
                                       const fa_i8_exp_tables_avx2 *tb) {
  /* 256 * (r - t) in one rounding: scaling by a power of two commutes with it (the caller
   * keeps 256 * r finite) */
  const __m256 zmax = _mm256_set1_ps(FA_I8_ZMAX);
  const __m256 y0 = _mm256_min_ps(_mm256_fnmadd_ps(t0, _mm256_set1_ps(256.0f), r256), zmax);
  const __m256 y1 = _mm256_min_ps(_mm256_fnmadd_ps(t1, _mm256_set1_ps(256.0f), r256), zmax);
  const __m256i z = _mm256_packus_epi32(_mm256_cvtps_epi32(y0), _mm256_cvtps_epi32(y1));
  /* A's index z >> 4 needs no mask: vpshufb reads bits 0-3 and 7 of each byte, and bit 7 (z >=
   * 2048) gives A = 0, hence P = 0, which is P there (127 * 2^-8 rounds to 0) */
  const __m256i a = fa_i8_lookup16_avx2(tb->a_lo, tb->a_hi, _mm256_srli_epi16(z, 4));
  const __m256i b = fa_i8_lookup16_avx2(tb->b_lo, tb->b_hi, _mm256_and_si256(z, _mm256_set1_epi16(15)));
  const __m256i e1 = _mm256_add_epi16(_mm256_srli_epi16(z, 8), _mm256_set1_epi16(1));
  return _mm256_mulhrs_epi16(_mm256_mulhi_epu16(a, b), _mm256_shuffle_epi8(tb->m, e1));
}

static inline void fa_i8_exp_tables_init_avx2(fa_i8_exp_tables_avx2 *tb) {
  tb->a_lo = fa_i8_plane_avx2(fa_i8_exp_a_avx2, 0), tb->a_hi = fa_i8_plane_avx2(fa_i8_exp_a_avx2, 8);
  tb->b_lo = fa_i8_plane_avx2(fa_i8_exp_b, 0), tb->b_hi = fa_i8_plane_avx2(fa_i8_exp_b, 8);
  tb->m = fa_i8_plane_avx2(fa_i8_exp_m_avx2, 0);
}

/* P as uint8, 32 scores per step: the two 16-lane results packed to bytes (vpackuswb, exact:
 * P <= 127), whose dword order [0 2 4 6 1 3 5 7] (groups of 4 keys) one vpermd restores; the
 * sum by vpsadbw. 256 * r overflows only for |r| >= 2^120, where the two-rounding form of
 * fa_i8_z1 is used instead (the scalar definition). */
static inline uint32_t fa_i8_exp_row_avx2(const float *t, size_t npad, float r, uint8_t *p,
                                          const fa_i8_exp_tables_avx2 *tb) {
  if (!(fabsf(r) < 0x1p120f)) {
    uint32_t sum = 0;
    for (size_t c = 0; c < npad; c++) {
      p[c] = (uint8_t)fa_i8_exp_lut1(fa_i8_z1(r, t[c]));
      sum += p[c];
    }
    return sum;
  }
  const __m256 r256 = _mm256_set1_ps(r * 256.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), zero = _mm256_setzero_si256();
  __m256i sum = zero;
  size_t c = 0;
  for (; c + 32 <= npad; c += 32) {
    const __m256i e0 = fa_i8_exp16_avx2(_mm256_loadu_ps(t + c), _mm256_loadu_ps(t + c + 8), r256, tb);
    const __m256i e1 = fa_i8_exp16_avx2(_mm256_loadu_ps(t + c + 16), _mm256_loadu_ps(t + c + 24), r256, tb);
    const __m256i b = _mm256_packus_epi16(e0, e1);
    sum = _mm256_add_epi64(sum, _mm256_sad_epu8(b, zero));
    _mm256_storeu_si256((__m256i *)(void *)(p + c), _mm256_permutevar8x32_epi32(b, order));
  }
  if (c < npad) { /* 16 scores: the first 16 bytes after the same permute */
    const __m256i e = fa_i8_exp16_avx2(_mm256_loadu_ps(t + c), _mm256_loadu_ps(t + c + 8), r256, tb);
    const __m128i b = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_packus_epi16(e, e), order));
    sum = _mm256_add_epi64(sum, _mm256_zextsi128_si256(_mm_sad_epu8(b, _mm_setzero_si128())));
    _mm_storeu_si128((__m128i *)(void *)(p + c), b);
  }
  const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
  return (uint32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1));
}

static uint32_t fa_i8_exp_lut_avx2(const float *t, size_t npad, float r, uint8_t *p) {
  fa_i8_exp_tables_avx2 tb;
  fa_i8_exp_tables_init_avx2(&tb);
  return fa_i8_exp_row_avx2(t, npad, r, p, &tb);
}

/* y[idx] of a 16-entry float table, idx in 0..15 per lane: two vpermps and a blend on bit 3. */
static inline __m256 fa_i8_table16_avx2(const float *x, __m256i idx) {
  const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x), idx);
  const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + 8), idx);
  return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

/* The engine's row steps (fa_i8_row_step, then P and the sums) with the step taken 8 rows at
 * a time: every lane computes the scalar formulas (the same float operations, blends for the
 * branches; exp2f, lane by lane, only where the max grows) and the exp tables are set up once
 * for all rows. */
static void fa_i8_softmax_avx2(const float *t, size_t m, size_t npad, float *rmax, float *rsum,
                               float *alpha, float *beta, float *ref, uint8_t *p) {
  const volatile float magic_v = 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v;
  const __m256 vmagic = _mm256_set1_ps(magic), one = _mm256_set1_ps(1.0f);
  const __m256 dskip = _mm256_set1_ps((float)FA_I8_DSKIP), zero = _mm256_setzero_ps();
  const __m256i nib = _mm256_set1_epi32(15);
  size_t i = 0;
  for (; i + 8 <= m; i += 8) {
    const __m256 old = _mm256_loadu_ps(rmax + i), tmax = _mm256_loadu_ps(ref + i);
    const __m256 grow = _mm256_cmp_ps(tmax, old, _CMP_GT_OQ);
    const __m256 y = _mm256_mul_ps(_mm256_sub_ps(old, tmax), _mm256_set1_ps(256.0f));
    /* min_ps(y, c) is y < c ? y : c, NaN included, as in the scalar form */
    const __m256 dzf = _mm256_sub_ps(_mm256_add_ps(_mm256_min_ps(y, dskip), vmagic), vmagic);
    const __m256 gone = _mm256_or_ps(_mm256_cmp_ps(tmax, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ),
                                     _mm256_cmp_ps(dzf, dskip, _CMP_EQ_OQ));
    const __m256i dz = _mm256_cvttps_epi32(dzf);
    const __m256 frac = _mm256_mul_ps(
        fa_i8_table16_avx2(fa_i8_weight_a, _mm256_and_si256(_mm256_srli_epi32(dz, 4), nib)),
        fa_i8_table16_avx2(fa_i8_weight_b, _mm256_and_si256(dz, nib)));
    const __m256i pow2 = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_set1_epi32(127), _mm256_srli_epi32(dz, 8)), 23);
    const __m256 weight = _mm256_mul_ps(frac, _mm256_castsi256_ps(pow2));
    const __m256 shifted = _mm256_sub_ps(old, _mm256_mul_ps(_mm256_cvtepi32_ps(dz), _mm256_set1_ps(1.0f / 256)));
    const __m256 b = _mm256_blendv_ps(_mm256_blendv_ps(weight, zero, gone), one, grow);
    const __m256 r = _mm256_blendv_ps(_mm256_blendv_ps(shifted, old, gone), tmax, grow);
    _mm256_storeu_ps(alpha + i, one);
    for (unsigned g = (unsigned)_mm256_movemask_ps(grow); g; g &= g - 1) {
      const size_t l = i + (size_t)__builtin_ctz(g);
      alpha[l] = rmax[l] == -INFINITY ? 0.0f : exp2f(rmax[l] - ref[l]);
    }
    _mm256_storeu_ps(beta + i, b);
    _mm256_storeu_ps(ref + i, r);
    _mm256_storeu_ps(rmax + i, _mm256_blendv_ps(old, tmax, grow));
  }
  for (; i < m; i++) rmax[i] = fa_i8_row_step(rmax[i], ref[i], magic, &alpha[i], &beta[i], &ref[i]);
  fa_i8_exp_tables_avx2 tb;
  fa_i8_exp_tables_init_avx2(&tb);
  for (i = 0; i < m; i++) {
    uint8_t *prow = p + i * FA_I8_NK;
    if (beta[i] == 0.0f) { /* skipped: P = 0, the sums stay */
      memset(prow, 0, npad);
      continue;
    }
    const uint32_t tile_sum = fa_i8_exp_row_avx2(t + i * FA_I8_NK, npad, ref[i], prow, &tb);
    const float kept = rsum[i] * alpha[i], added = (float)tile_sum * beta[i];
    rsum[i] = kept + added;
  }
}

/* A 4-row x 16-channel tile of P.v over npad keys (a multiple of 16), 4 keys per step:
 * vpmaddubsw(P, v) then vpmaddwd by ones, on values grouped by 4 keys (fa_i8_pack_v_x86);
 * two groups' int16 sums are added first when the 4 rows' P allow: |sum| <= 127 * (the 4 P
 * of a lane) <= 128 * 255 = 32,640 (fa_i8_pairs_fit_avx2, with |v| <= 128 so that any int8
 * v is safe; P is mostly far below 127, so most rows pass). Each
 * int32 sum then goes straight into the output row, o = o * alpha + (float)acc * beta
 * (rows with beta = 0 keep o). */
static void fa_i8_pv_update_avx2(const uint8_t *p, size_t m, size_t mpad, size_t npad,
                                 const int8_t *vp, size_t dvp, const float *alpha,
                                 const float *beta, float *o) {
  for (size_t i = 0; i < mpad; i += 4) {
    const int8_t *pr[4];
    for (int r = 0; r < 4; r++) pr[r] = (const int8_t *)(const void *)(p + (i + r) * FA_I8_NK);
    const int pairs = fa_i8_pairs_fit_avx2(pr, npad, 0, 255);
    for (size_t c = 0; c < dvp; c += 16) {
      __m256i a[4][2];
      for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = _mm256_setzero_si256();
      if (pairs)
        fa_i8_dot4x16_avx2(vp + c * 4, dvp * 4, pr, npad / 4, 0, 1, a);
      else
        fa_i8_dot4x16_avx2(vp + c * 4, dvp * 4, pr, npad / 4, 0, 0, a);
      for (size_t r = 0; r < 4 && i + r < m; r++) {
        if (beta[i + r] == 0.0f) continue;
        const __m256 va = _mm256_set1_ps(alpha[i + r]), vb = _mm256_set1_ps(beta[i + r]);
        float *orow = o + (i + r) * dvp + c;
        const __m256 o0 = _mm256_mul_ps(_mm256_loadu_ps(orow), va);
        const __m256 o1 = _mm256_mul_ps(_mm256_loadu_ps(orow + 8), va);
        _mm256_storeu_ps(orow, _mm256_add_ps(o0, _mm256_mul_ps(_mm256_cvtepi32_ps(a[r][0]), vb)));
        _mm256_storeu_ps(orow + 8, _mm256_add_ps(o1, _mm256_mul_ps(_mm256_cvtepi32_ps(a[r][1]), vb)));
      }
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_avx2 = {
    fa_i8_pack_k_biased_x86, NULL, NULL, fa_i8_max_avx2, fa_i8_exp_lut_avx2, fa_i8_pack_v_x86,
    NULL, fa_i8_qk_scores_avx2, fa_i8_pv_update_avx2, fa_i8_softmax_avx2};

#endif
