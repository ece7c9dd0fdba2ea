/* aarch64 NEON + dotprod int8 micro-kernels: SDOT for q.k and for P.v (P <= 127 is a
 * signed byte as it is), on operands grouped by 4 (flash/i8.h packings); softmax steps
 * from ukernels/i8-arm.h. Include only from a file compiled with dotprod enabled. */
#ifndef FASTATTN_UKERNELS_I8_NEONDOT_H
#define FASTATTN_UKERNELS_I8_NEONDOT_H

#include <arm_neon.h>
#include "flash/i8.h"
#include "ukernels/i8-arm.h" /* the softmax steps */

/* acc[u] += b[u] . (4 bytes of lane `lane` of a), u < 4, by the indexed SDOT (a row's
 * 4 bytes come from a register lane, so a row is loaded once per 4 groups instead of being
 * broadcast per group). The switch folds: every call passes a constant lane. */
static inline void fa_i8_sdot_lane(int32x4_t acc[4], const int8x16_t b[4], int8x16_t a, int lane) {
  for (int u = 0; u < 4; u++) {
    switch (lane) {
      case 0: acc[u] = vdotq_laneq_s32(acc[u], b[u], a, 0); break;
      case 1: acc[u] = vdotq_laneq_s32(acc[u], b[u], a, 1); break;
      case 2: acc[u] = vdotq_laneq_s32(acc[u], b[u], a, 2); break;
      default: acc[u] = vdotq_laneq_s32(acc[u], b[u], a, 3); break;
    }
  }
}

/* c[i * ldc + col] = sum_g a[i][4g..4g+3] . b[g][col][0..3] for i < mpad (multiple of 4),
 * col < ncols (multiple of 16), g < ngroups (multiple of 4); b groups are gstride bytes
 * apart. A 4-row x 16-column tile in 16 accumulators. */
static inline void fa_i8_sdot_tiles(const int8_t *a, size_t lda, size_t mpad, const int8_t *b,
                                    size_t gstride, size_t ngroups, size_t ncols, int32_t *c,
                                    size_t ldc) {
  for (size_t i = 0; i < mpad; i += 4) {
    for (size_t col = 0; col < ncols; col += 16) {
      int32x4_t acc[4][4];
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++) acc[r][u] = vdupq_n_s32(0);
      for (size_t g = 0; g < ngroups; g += 4) {
        int8x16_t ar[4];
        for (int r = 0; r < 4; r++) ar[r] = vld1q_s8(a + (i + r) * lda + 4 * g);
        for (int l = 0; l < 4; l++) {
          const int8_t *bg = b + (g + l) * gstride + col * 4;
          const int8x16_t bv[4] = {vld1q_s8(bg), vld1q_s8(bg + 16), vld1q_s8(bg + 32), vld1q_s8(bg + 48)};
          for (int r = 0; r < 4; r++) fa_i8_sdot_lane(acc[r], bv, ar[r], l);
        }
      }
      for (int r = 0; r < 4; r++)
        for (int u = 0; u < 4; u++) vst1q_s32(c + (i + r) * ldc + col + 4 * u, acc[r][u]);
    }
  }
}

/* The grouped key layout of fa_i8_pack_k_groups, kp[(g * FA_I8_NK + c) * 4 + u] =
 * k[c][4g + u]: blocks of 4 keys x 4 groups by a 4 x 4 transpose of 32-bit words. */
static void fa_i8_pack_k_neondot(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                                 int8_t *kp) {
  if (d % 16 != 0) {
    fa_i8_pack_k_groups(k, k_rs, n, d, dp, kp);
    return;
  }
  if (n < FA_I8_NK || d < dp) memset(kp, 0, FA_I8_NK * dp);
  const size_t n4 = n / 4 * 4;
  for (size_t c = 0; c < n4; c += 4) {
    const int8_t *r = k + (ptrdiff_t)c * k_rs;
    for (size_t x = 0; x < d; x += 16) {
      const uint32x4_t r0 = vreinterpretq_u32_s8(vld1q_s8(r + x));
      const uint32x4_t r1 = vreinterpretq_u32_s8(vld1q_s8(r + k_rs + x));
      const uint32x4_t r2 = vreinterpretq_u32_s8(vld1q_s8(r + 2 * k_rs + x));
      const uint32x4_t r3 = vreinterpretq_u32_s8(vld1q_s8(r + 3 * k_rs + x));
      const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1));
      const uint64x2_t t1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1));
      const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3));
      const uint64x2_t t3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
      uint8_t *dst = (uint8_t *)kp + ((x / 4) * FA_I8_NK + c) * 4;
      vst1q_u8(dst, vreinterpretq_u8_u64(vtrn1q_u64(t0, t2)));
      vst1q_u8(dst + FA_I8_NK * 4, vreinterpretq_u8_u64(vtrn1q_u64(t1, t3)));
      vst1q_u8(dst + 2 * FA_I8_NK * 4, vreinterpretq_u8_u64(vtrn2q_u64(t0, t2)));
      vst1q_u8(dst + 3 * FA_I8_NK * 4, vreinterpretq_u8_u64(vtrn2q_u64(t1, t3)));
    }
  }
  for (size_t c = n4; c < n; c++)
    for (size_t g = 0; g < d / 4; g++) memcpy(kp + (g * FA_I8_NK + c) * 4, k + (ptrdiff_t)c * k_rs + 4 * g, 4);
}

static void fa_i8_qk_neondot(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                             size_t npad, int32_t *s) {
  fa_i8_sdot_tiles(qp, dp, mpad, kp, FA_I8_NK * 4, dp / 4, npad, s, FA_I8_NK);
}

/* Values grouped by 4 keys, vp[((j / 4) * dvp + c) * 4 + j % 4] = v[j][c], zeros beyond n
 * keys and dv channels: blocks of 4 keys x 16 channels by one interleaving store (st4). */
static void fa_i8_pack_v_neondot(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                                 size_t dvp, int8_t *vp) {
  if (n < FA_I8_NK || dv < dvp) memset(vp, 0, FA_I8_NK * dvp);
  const size_t n4 = n / 4 * 4, dv16 = dv / 16 * 16;
  for (size_t j = 0; j < n4; j += 4) {
    const int8_t *r = v + (ptrdiff_t)j * v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4;
    for (size_t c = 0; c < dv16; c += 16) {
      int8x16x4_t x;
      x.val[0] = vld1q_s8(r + c);
      x.val[1] = vld1q_s8(r + v_rs + c);
      x.val[2] = vld1q_s8(r + 2 * v_rs + c);
      x.val[3] = vld1q_s8(r + 3 * v_rs + c);
      vst4q_s8(dst + c * 4, x);
    }
  }
  for (size_t j = 0; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4 + (j % 4);
    for (size_t c = (j < n4 ? dv16 : 0); c < dv; c++) dst[c * 4] = row[c];
  }
}

/* SDOT of P (0..127 as signed bytes) with v: |acc| <= FA_I8_NK * 127 * 127. */
static void fa_i8_pv_neondot(const uint8_t *p, size_t mpad, size_t npad, const int8_t *vp,
                             size_t dvp, int32_t *acc) {
  fa_i8_sdot_tiles((const int8_t *)p, FA_I8_NK, mpad, vp, dvp * 4, npad / 4, dvp, acc, dvp);
}

static const fa_i8_ukernels fa_i8_ukernels_neondot = {
    fa_i8_pack_k_neondot, fa_i8_qk_neondot,     fa_i8_dequant_arm, fa_i8_max_arm,
    fa_i8_exp_lut_arm,    fa_i8_pack_v_neondot, fa_i8_pv_neondot};

#endif
