/* aarch64 Advanced SIMD int8 micro-kernels for the int8 flash engine (no dotprod:
 * Cortex-A72 class). q.k: smull/smull2 (s8 x s8 -> s16, |x| <= 127^2 fits) then
 * sadalp into s32, row by row; P.v: values widened to s16 once per tile, then
 * smlal by the scalar P (uint8, as s16). The softmax tables are looked up with tbl over the
 * 16-bit entries of the two 16-entry tables. */
#ifndef FASTATTN_UKERNELS_I8_NEON_H
#define FASTATTN_UKERNELS_I8_NEON_H

#include <arm_neon.h>
#include "flash/i8.h"
#include "ukernels/i8-arm.h" /* the softmax steps */

static void fa_i8_pack_k_neon(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                              int8_t *kp) {
  fa_i8_pack_rows(k, k_rs, n, d, dp, kp);
}

/* Row-major q and k (dp a multiple of 16): 4 keys at a time, reduced with addp. */
static void fa_i8_qk_neon(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                          size_t npad, int32_t *s) {
  for (size_t i = 0; i < mpad; i++) {
    const int8_t *a = qp + i * dp;
    for (size_t c = 0; c < npad; c += 4) {
      const int8_t *b0 = kp + c * dp, *b1 = b0 + dp, *b2 = b1 + dp, *b3 = b2 + dp;
      int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
      for (size_t x = 0; x < dp; x += 16) {
        const int8x16_t va = vld1q_s8(a + x);
        int8x16_t vb = vld1q_s8(b0 + x);
        s0 = vpadalq_s16(s0, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        s0 = vpadalq_s16(s0, vmull_high_s8(va, vb));
        vb = vld1q_s8(b1 + x);
        s1 = vpadalq_s16(s1, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        s1 = vpadalq_s16(s1, vmull_high_s8(va, vb));
        vb = vld1q_s8(b2 + x);
        s2 = vpadalq_s16(s2, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        s2 = vpadalq_s16(s2, vmull_high_s8(va, vb));
        vb = vld1q_s8(b3 + x);
        s3 = vpadalq_s16(s3, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
        s3 = vpadalq_s16(s3, vmull_high_s8(va, vb));
      }
      vst1q_s32(s + i * FA_I8_NK + c, vpaddq_s32(vpaddq_s32(s0, s1), vpaddq_s32(s2, s3)));
    }
  }
}

/* Values as s16 rows: vp16[j * dvp + c] = v[j][c] (vp has room for 2 bytes each). */
static void fa_i8_pack_v_neon(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                              size_t dvp, int8_t *vp) {
  int16_t *vp16 = (int16_t *)(void *)vp;
  for (size_t j = 0; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    int16_t *dst = vp16 + j * dvp;
    size_t c = 0;
    for (; c + 8 <= dv; c += 8) vst1q_s16(dst + c, vmovl_s8(vld1_s8(row + c)));
    for (; c < dv; c++) dst[c] = row[c];
    for (; c < dvp; c++) dst[c] = 0;
  }
  memset(vp16 + n * dvp, 0, (FA_I8_NK - n) * dvp * sizeof(int16_t));
}

static void fa_i8_pv_neon(const void *pv, size_t mpad, size_t npad, const int8_t *vp,
                          size_t dvp, int32_t *acc) {
  const int16_t *vp16 = (const int16_t *)(const void *)vp;
  const uint8_t *p = (const uint8_t *)pv;
  for (size_t i = 0; i < mpad; i++) {
    const uint8_t *prow = p + i * FA_I8_NK;
    for (size_t c = 0; c < dvp; c += 16) {
      int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
      for (size_t j = 0; j < npad; j++) {
        const int16_t w = (int16_t)prow[j];
        const int16x8_t v0 = vld1q_s16(vp16 + j * dvp + c);
        const int16x8_t v1 = vld1q_s16(vp16 + j * dvp + c + 8);
        a0 = vmlal_n_s16(a0, vget_low_s16(v0), w);
        a1 = vmlal_high_n_s16(a1, v0, w);
        a2 = vmlal_n_s16(a2, vget_low_s16(v1), w);
        a3 = vmlal_high_n_s16(a3, v1, w);
      }
      int32_t *dst = acc + i * dvp + c;
      vst1q_s32(dst, a0), vst1q_s32(dst + 4, a1), vst1q_s32(dst + 8, a2), vst1q_s32(dst + 12, a3);
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_neon = {
    1,                   fa_i8_pack_k_neon,   fa_i8_qk_neon,     fa_i8_dequant_arm, fa_i8_max_arm,
    fa_i8_exp_lut_arm,  fa_i8_pack_v_neon, fa_i8_pv_neon};

#endif
