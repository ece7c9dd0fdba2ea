/* int8 softmax steps in Advanced SIMD (baseline aarch64), shared by the aarch64
 * micro-kernels (ukernels/i8-neon.h and ukernels/i8-neondot.h): dequantise with the row
 * max, max, and P through the two 16-entry tables, looked up with tbl over their 16-bit
 * entries. */
#ifndef FASTATTN_UKERNELS_I8_ARM_H
#define FASTATTN_UKERNELS_I8_ARM_H

#include <arm_neon.h>
#include "flash/i8.h"

static float fa_i8_dequant_arm(const int32_t *s, float qs, const float *ks, float *t,
                                size_t npad) {
  float32x4_t m = vdupq_n_f32(-INFINITY);
  for (size_t c = 0; c < npad; c += 4) {
    const float32x4_t x = vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(s + c)), qs);
    const float32x4_t y = vmulq_f32(x, vld1q_f32(ks + c));
    vst1q_f32(t + c, y);
    m = vmaxq_f32(m, y);
  }
  return vmaxvq_f32(m);
}

static float fa_i8_max_arm(const float *t, size_t npad) {
  float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 8) {
    m0 = vmaxq_f32(m0, vld1q_f32(t + c));
    m1 = vmaxq_f32(m1, vld1q_f32(t + c + 4));
  }
  return vmaxvq_f32(vmaxq_f32(m0, m1));
}

/* table[idx] for 4 lanes, idx in [0, 16), table as 32 bytes of little-endian u16. */
static inline uint32x4_t fa_i8_lookup16_arm(uint8x16x2_t table, uint32x4_t idx) {
  const uint32x4_t bytes = vmlaq_n_u32(vdupq_n_u32(0xFFFF0100u), idx, 0x0202u);
  return vreinterpretq_u32_u8(vqtbl2q_u8(table, vreinterpretq_u8_u32(bytes)));
}

static inline uint32x4_t fa_i8_exp4_arm(float32x4_t t, float32x4_t m, uint8x16x2_t ta,
                                         uint8x16x2_t tb) {
  float32x4_t y = vmulq_n_f32(vsubq_f32(m, t), 256.0f);
  y = vminq_f32(y, vdupq_n_f32(FA_I8_ZMAX));
  const uint32x4_t z = vreinterpretq_u32_s32(vcvtnq_s32_f32(y));
  const uint32x4_t fifteen = vdupq_n_u32(15);
  const uint32x4_t a = fa_i8_lookup16_arm(ta, vandq_u32(vshrq_n_u32(z, 4), fifteen));
  const uint32x4_t b = fa_i8_lookup16_arm(tb, vandq_u32(z, fifteen));
  const uint32x4_t e = vshrq_n_u32(vaddq_u32(vmulq_u32(a, b), vdupq_n_u32(16384)), 15);
  const int32x4_t sh = vaddq_s32(vreinterpretq_s32_u32(vshrq_n_u32(z, 8)), vdupq_n_s32(7));
  return vshrq_n_u32(vaddq_u32(vshlq_u32(e, vnegq_s32(sh)), vdupq_n_u32(1)), 1);
}

static uint32_t fa_i8_exp_lut_arm(const float *t, size_t npad, float m, void *pv) {
  uint8_t *p = (uint8_t *)pv;
  uint8x16x2_t ta, tb;
  ta.val[0] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_a));
  ta.val[1] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_a + 8));
  tb.val[0] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_b));
  tb.val[1] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_b + 8));
  const float32x4_t vm = vdupq_n_f32(m);
  uint32x4_t sum = vdupq_n_u32(0);
  for (size_t c = 0; c < npad; c += 16) {
    const uint32x4_t p0 = fa_i8_exp4_arm(vld1q_f32(t + c), vm, ta, tb);
    const uint32x4_t p1 = fa_i8_exp4_arm(vld1q_f32(t + c + 4), vm, ta, tb);
    const uint32x4_t p2 = fa_i8_exp4_arm(vld1q_f32(t + c + 8), vm, ta, tb);
    const uint32x4_t p3 = fa_i8_exp4_arm(vld1q_f32(t + c + 12), vm, ta, tb);
    sum = vaddq_u32(sum, vaddq_u32(vaddq_u32(p0, p1), vaddq_u32(p2, p3)));
    const uint16x8_t h0 = vcombine_u16(vmovn_u32(p0), vmovn_u32(p1));
    const uint16x8_t h1 = vcombine_u16(vmovn_u32(p2), vmovn_u32(p3));
    vst1q_u8(p + c, vcombine_u8(vmovn_u16(h0), vmovn_u16(h1)));
  }
  return vaddvq_u32(sum);
}

#endif
