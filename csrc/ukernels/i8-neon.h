/* aarch64 Advanced SIMD int8 micro-kernels for the int8 flash engine (no dotprod:
 * Cortex-A72 class).
 * - q.k on row-major q and k: smull + smlal2 put two products in each int16 lane
 *   (|q|, |k| <= 127: at most 2 * 127^2 = 32258), sadalp adds the pairs into int32.
 * - P.v the same way on P (0..127, a signed byte as it is) against v transposed per tile
 *   (two products per int16 lane: at most 2 * 127 * 127 = 32258).
 * - The softmax steps: ukernels/i8-arm.h. */
#ifndef FASTATTN_UKERNELS_I8_NEON_H
#define FASTATTN_UKERNELS_I8_NEON_H

#include <arm_neon.h>
#include "flash/i8.h"
#include "ukernels/i8-arm.h" /* the softmax steps */

static void fa_i8_pack_k_neon(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                              int8_t *kp) {
  fa_i8_pack_rows(k, k_rs, n, d, dp, kp);
}

/* acc += the 16 products a * b, two per int16 lane, pairwise into int32 */
static inline int32x4_t fa_i8_dot16_neon(int32x4_t acc, int8x16_t a, int8x16_t b) {
  return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
}

/* the same, starting a sum (no zeroed accumulator to add to) */
static inline int32x4_t fa_i8_dot16_first_neon(int8x16_t a, int8x16_t b) {
  return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
}

/* 2 rows x 4 columns of 16-byte dot products over len bytes (a multiple of 16): a rows at
 * a0, a1, b rows ldb bytes apart; the four sums of row r in out[r]. */
static inline void fa_i8_dots_2x4_neon(const int8_t *a0, const int8_t *a1, const int8_t *b0,
                                       size_t ldb, size_t len, int32x4_t out[2]) {
  const int8_t *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
  int8x16_t va0 = vld1q_s8(a0), va1 = vld1q_s8(a1);
  int8x16_t vb0 = vld1q_s8(b0), vb1 = vld1q_s8(b1), vb2 = vld1q_s8(b2), vb3 = vld1q_s8(b3);
  int32x4_t s00 = fa_i8_dot16_first_neon(va0, vb0), s01 = fa_i8_dot16_first_neon(va0, vb1);
  int32x4_t s02 = fa_i8_dot16_first_neon(va0, vb2), s03 = fa_i8_dot16_first_neon(va0, vb3);
  int32x4_t s10 = fa_i8_dot16_first_neon(va1, vb0), s11 = fa_i8_dot16_first_neon(va1, vb1);
  int32x4_t s12 = fa_i8_dot16_first_neon(va1, vb2), s13 = fa_i8_dot16_first_neon(va1, vb3);
  for (size_t x = 16; x < len; x += 16) {
    va0 = vld1q_s8(a0 + x), va1 = vld1q_s8(a1 + x);
    vb0 = vld1q_s8(b0 + x), vb1 = vld1q_s8(b1 + x), vb2 = vld1q_s8(b2 + x), vb3 = vld1q_s8(b3 + x);
    s00 = fa_i8_dot16_neon(s00, va0, vb0), s01 = fa_i8_dot16_neon(s01, va0, vb1);
    s02 = fa_i8_dot16_neon(s02, va0, vb2), s03 = fa_i8_dot16_neon(s03, va0, vb3);
    s10 = fa_i8_dot16_neon(s10, va1, vb0), s11 = fa_i8_dot16_neon(s11, va1, vb1);
    s12 = fa_i8_dot16_neon(s12, va1, vb2), s13 = fa_i8_dot16_neon(s13, va1, vb3);
  }
  out[0] = vpaddq_s32(vpaddq_s32(s00, s01), vpaddq_s32(s02, s03));
  out[1] = vpaddq_s32(vpaddq_s32(s10, s11), vpaddq_s32(s12, s13));
}

/* Row-major q and k (dp a multiple of 16): 2 rows x 4 keys per step. */
static void fa_i8_qk_neon(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                          size_t npad, int32_t *s) {
  for (size_t i = 0; i < mpad; i += 2)
    for (size_t c = 0; c < npad; c += 4) {
      int32x4_t r[2];
      fa_i8_dots_2x4_neon(qp + i * dp, qp + (i + 1) * dp, kp + c * dp, dp, dp, r);
      vst1q_s32(s + i * FA_I8_NK + c, r[0]);
      vst1q_s32(s + (i + 1) * FA_I8_NK + c, r[1]);
    }
}

/* dst[c * ds + j] = src[j * rs + c] for a 16 x 16 block of bytes: after the trn stages
 * of 8, 16, 32 and 64 bits, register c holds column c in row order. */
static inline void fa_i8_transpose16_neon(const int8_t *src, ptrdiff_t rs, int8_t *dst,
                                          size_t ds) {
  uint8x16_t r[16];
  for (int i = 0; i < 16; i++) r[i] = vld1q_u8((const uint8_t *)src + i * rs);
  for (int i = 0; i < 16; i += 2) {
    const uint8x16_t a = vtrn1q_u8(r[i], r[i + 1]), b = vtrn2q_u8(r[i], r[i + 1]);
    r[i] = a, r[i + 1] = b;
  }
  for (int i = 0; i < 16; i++) {
    if (i & 2) continue;
    const uint16x8_t x = vreinterpretq_u16_u8(r[i]), y = vreinterpretq_u16_u8(r[i + 2]);
    r[i] = vreinterpretq_u8_u16(vtrn1q_u16(x, y)), r[i + 2] = vreinterpretq_u8_u16(vtrn2q_u16(x, y));
  }
  for (int i = 0; i < 16; i++) {
    if (i & 4) continue;
    const uint32x4_t x = vreinterpretq_u32_u8(r[i]), y = vreinterpretq_u32_u8(r[i + 4]);
    r[i] = vreinterpretq_u8_u32(vtrn1q_u32(x, y)), r[i + 4] = vreinterpretq_u8_u32(vtrn2q_u32(x, y));
  }
  for (int i = 0; i < 8; i++) {
    const uint64x2_t x = vreinterpretq_u64_u8(r[i]), y = vreinterpretq_u64_u8(r[i + 8]);
    r[i] = vreinterpretq_u8_u64(vtrn1q_u64(x, y)), r[i + 8] = vreinterpretq_u8_u64(vtrn2q_u64(x, y));
  }
  for (int c = 0; c < 16; c++) vst1q_u8((uint8_t *)dst + c * ds, r[c]);
}

/* Values transposed, vt[c * FA_I8_NK + j] = v[j][c] (zeros beyond n keys and dv
 * channels). */
static void fa_i8_pack_v_neon(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                              size_t dvp, int8_t *vp) {
  if (n < FA_I8_NK || dv < dvp) memset(vp, 0, FA_I8_NK * dvp);
  const size_t n16 = n / 16 * 16, dv16 = dv / 16 * 16;
  for (size_t j = 0; j < n16; j += 16)
    for (size_t c = 0; c < dv16; c += 16)
      fa_i8_transpose16_neon(v + (ptrdiff_t)j * v_rs + c, v_rs, vp + c * FA_I8_NK + j, FA_I8_NK);
  for (size_t j = 0; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    for (size_t c = (j < n16 ? dv16 : 0); c < dv; c++) vp[c * FA_I8_NK + j] = row[c];
  }
}

/* 2 rows x 4 channels per step over npad keys (a multiple of 16). */
static void fa_i8_pv_neon(const uint8_t *pu, size_t mpad, size_t npad, const int8_t *vp,
                          size_t dvp, int32_t *acc) {
  const int8_t *p = (const int8_t *)pu; /* P <= 127 */
  for (size_t i = 0; i < mpad; i += 2)
    for (size_t c = 0; c < dvp; c += 4) {
      int32x4_t r[2];
      fa_i8_dots_2x4_neon(p + i * FA_I8_NK, p + (i + 1) * FA_I8_NK, vp + c * FA_I8_NK, FA_I8_NK,
                          npad, r);
      vst1q_s32(acc + i * dvp + c, r[0]);
      vst1q_s32(acc + (i + 1) * dvp + c, r[1]);
    }
}

static const fa_i8_ukernels fa_i8_ukernels_neon = {
    fa_i8_pack_k_neon,   fa_i8_qk_neon,     fa_i8_dequant_arm, fa_i8_max_arm,
    fa_i8_exp_lut_arm,   fa_i8_pack_v_neon, fa_i8_pv_neon};

#endif
