/* aarch64 NEON + dotprod int8 micro-kernels: SDOT for q.k, UDOT for P.v (on v + 128,
 * corrected by 128 * sum P), on operands grouped by 4 (flash/i8.h packings); softmax
 * steps from ukernels/i8-arm.h. Include only from a file compiled with
 * dotprod enabled. */
#ifndef FASTATTN_UKERNELS_I8_NEONDOT_H
#define FASTATTN_UKERNELS_I8_NEONDOT_H

#include <arm_neon.h>
#include "flash/i8.h"
#include "ukernels/i8-arm.h" /* the softmax steps */

/* c[i * ldc + col] = sum_g a[i][4g..4g+3] . b[g][col][0..3] for i < mpad (multiple of 4),
 * col < ncols (multiple of 16), g < ngroups; b groups are gstride bytes
 * apart. A 4-row x 16-column tile in 16 accumulators. */
static inline int8x16_t fa_i8_dup4_neon(const int8_t *x) {
  int32_t w;
  memcpy(&w, x, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(w));
}

static inline void fa_i8_sdot_tiles(const int8_t *a, size_t lda, size_t mpad, const int8_t *b,
                                    size_t gstride, size_t ngroups, size_t ncols, int32_t *c,
                                    size_t ldc) {
  for (size_t i = 0; i < mpad; i += 4) {
    for (size_t col = 0; col < ncols; col += 16) {
      int32x4_t acc[4][4];
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++) acc[r][u] = vdupq_n_s32(0);
      for (size_t g = 0; g < ngroups; g++) {
        const int8_t *bg = b + g * gstride + col * 4;
        const int8x16_t b0 = vld1q_s8(bg), b1 = vld1q_s8(bg + 16);
        const int8x16_t b2 = vld1q_s8(bg + 32), b3 = vld1q_s8(bg + 48);
        for (int r = 0; r < 4; r++) {
          const int8x16_t ar = fa_i8_dup4_neon(a + (i + r) * lda + 4 * g);
          acc[r][0] = vdotq_s32(acc[r][0], b0, ar);
          acc[r][1] = vdotq_s32(acc[r][1], b1, ar);
          acc[r][2] = vdotq_s32(acc[r][2], b2, ar);
          acc[r][3] = vdotq_s32(acc[r][3], b3, ar);
        }
      }
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++) vst1q_s32(c + (i + r) * ldc + col + 4 * u, acc[r][u]);
    }
  }
}

static void fa_i8_pack_k_neondot(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                                 int8_t *kp) {
  fa_i8_pack_k_groups(k, k_rs, n, d, dp, kp);
}

static void fa_i8_qk_neondot(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                             size_t npad, int32_t *s) {
  fa_i8_sdot_tiles(qp, dp, mpad, kp, FA_I8_NK * 4, dp / 4, npad, s, FA_I8_NK);
}

/* Values grouped by 4 keys and offset to unsigned: vp = (uint8)(v + 128), so that
 * UDOT takes P (0..255) as it is; padding becomes 128, i.e. 0. */
static void fa_i8_pack_v_neondot(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                                 size_t dvp, int8_t *vp) {
  fa_i8_pack_v_groups(v, v_rs, n, dv, dvp, vp);
  const uint8x16_t bias = vdupq_n_u8(0x80);
  uint8_t *u = (uint8_t *)vp;
  for (size_t x = 0; x < FA_I8_NK * dvp; x += 16) vst1q_u8(u + x, veorq_u8(vld1q_u8(u + x), bias));
}

/* UDOT of P (uint8) with v + 128, minus 128 * sum P: exact, and every partial sum
 * stays below FA_I8_NK * 255 * 255 < 2^31. */
static void fa_i8_pv_neondot(const void *pv, size_t mpad, size_t npad, const int8_t *vp,
                             size_t dvp, int32_t *acc) {
  const uint8_t *p = (const uint8_t *)pv, *vu = (const uint8_t *)vp;
  for (size_t i = 0; i < mpad; i += 4) {
    int32x4_t bias[4];
    for (int r = 0; r < 4; r++) {
      uint32_t sum = 0;
      for (size_t j = 0; j < npad; j += 16) sum += vaddlvq_u8(vld1q_u8(p + (i + r) * FA_I8_NK + j));
      bias[r] = vdupq_n_s32(-128 * (int32_t)sum);
    }
    for (size_t col = 0; col < dvp; col += 16) {
      uint32x4_t a4[4][4];
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++) a4[r][u] = vdupq_n_u32(0);
      for (size_t g = 0; g < npad / 4; g++) {
        const uint8_t *bg = vu + g * dvp * 4 + col * 4;
        const uint8x16_t b0 = vld1q_u8(bg), b1 = vld1q_u8(bg + 16);
        const uint8x16_t b2 = vld1q_u8(bg + 32), b3 = vld1q_u8(bg + 48);
        for (int r = 0; r < 4; r++) {
          const uint8x16_t ar = vreinterpretq_u8_s8(fa_i8_dup4_neon((const int8_t *)p + (i + r) * FA_I8_NK + 4 * g));
          a4[r][0] = vdotq_u32(a4[r][0], b0, ar);
          a4[r][1] = vdotq_u32(a4[r][1], b1, ar);
          a4[r][2] = vdotq_u32(a4[r][2], b2, ar);
          a4[r][3] = vdotq_u32(a4[r][3], b3, ar);
        }
      }
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++)
          vst1q_s32(acc + (i + r) * dvp + col + 4 * u,
                    vaddq_s32(vreinterpretq_s32_u32(a4[r][u]), bias[r]));
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_neondot = {
    1,                    fa_i8_pack_k_neondot, fa_i8_qk_neondot,     fa_i8_dequant_arm, fa_i8_max_arm,
    fa_i8_exp_lut_arm,   fa_i8_pack_v_neondot, fa_i8_pv_neondot};

#endif
