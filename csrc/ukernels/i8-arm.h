/* int8 softmax steps in Advanced SIMD (baseline aarch64), shared by the aarch64
 * micro-kernels (ukernels/i8-neon.h and ukernels/i8-neondot.h): dequantise with the row
 * max, max, and P through the two 16-entry tables, looked up with tbl on their byte
 * planes, in 16-bit lanes: their product by umull and a rounding narrow, the integer part
 * of the exponent by one rounding shift (urshl). */
#ifndef FASTATTN_UKERNELS_I8_ARM_H
#define FASTATTN_UKERNELS_I8_ARM_H

#include <arm_neon.h>
#include "flash/i8.h"

/* npad is a multiple of 16: 16 scores per step, two running maxima. */
static float fa_i8_dequant_arm(const int32_t *s, float qs, const float *ks, float *t,
                                size_t npad) {
  float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 16) {
    float32x4_t y[4];
    for (int u = 0; u < 4; u++) {
      const float32x4_t x = vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(s + c + 4 * u)), qs);
      y[u] = vmulq_f32(x, vld1q_f32(ks + c + 4 * u));
      vst1q_f32(t + c + 4 * u, y[u]);
    }
    m0 = vmaxq_f32(m0, vmaxq_f32(y[0], y[1])), m1 = vmaxq_f32(m1, vmaxq_f32(y[2], y[3]));
  }
  return vmaxvq_f32(vmaxq_f32(m0, m1));
}

static float fa_i8_max_arm(const float *t, size_t npad) {
  float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 8) {
    m0 = vmaxq_f32(m0, vld1q_f32(t + c));
    m1 = vmaxq_f32(m1, vld1q_f32(t + c + 4));
  }
  return vmaxvq_f32(vmaxq_f32(m0, m1));
}

/* The two 16-entry tables as byte planes (low bytes, high bytes) for tbl. */
typedef struct fa_i8_exp_tables_arm {
  uint8x16_t a_lo, a_hi, b_lo, b_hi;
} fa_i8_exp_tables_arm;

static inline fa_i8_exp_tables_arm fa_i8_exp_tables_arm_load(void) {
  const uint16x8_t a0 = vld1q_u16(fa_i8_exp_a), a1 = vld1q_u16(fa_i8_exp_a + 8);
  const uint16x8_t b0 = vld1q_u16(fa_i8_exp_b), b1 = vld1q_u16(fa_i8_exp_b + 8);
  fa_i8_exp_tables_arm tab;
  tab.a_lo = vuzp1q_u8(vreinterpretq_u8_u16(a0), vreinterpretq_u8_u16(a1));
  tab.a_hi = vuzp2q_u8(vreinterpretq_u8_u16(a0), vreinterpretq_u8_u16(a1));
  tab.b_lo = vuzp1q_u8(vreinterpretq_u8_u16(b0), vreinterpretq_u8_u16(b1));
  tab.b_hi = vuzp2q_u8(vreinterpretq_u8_u16(b0), vreinterpretq_u8_u16(b1));
  return tab;
}

/* z = clamp(rint(min((r - t) * 256, 4095)), 0) for the 8 scores at t, in 16-bit lanes: the
 * unsigned conversion (fcvtnu) saturates negatives to 0. */
static inline uint16x8_t fa_i8_z8_arm(const float *t, float32x4_t r) {
  const float32x4_t zmax = vdupq_n_f32(FA_I8_ZMAX);
  const float32x4_t y0 = vminq_f32(vmulq_n_f32(vsubq_f32(r, vld1q_f32(t)), 256.0f), zmax);
  const float32x4_t y1 = vminq_f32(vmulq_n_f32(vsubq_f32(r, vld1q_f32(t + 4)), 256.0f), zmax);
  return vuzp1q_u16(vreinterpretq_u16_u32(vcvtnq_u32_f32(y0)), vreinterpretq_u16_u32(vcvtnq_u32_f32(y1)));
}

/* P = ((T >> (e + 8)) + 1) >> 1 = (T + 2^(e + 8)) >> (e + 9) (one urshl, computed without
 * overflow) for 8 lanes, e = z >> 8. */
static inline uint16x8_t fa_i8_shift8_arm(uint16x8_t frac, uint16x8_t z) {
  return vrshlq_u16(frac, vsubq_s16(vdupq_n_s16(-9), vreinterpretq_s16_u16(vshrq_n_u16(z, 8))));
}

/* P for the 16 scores at t: the table indices h = (z >> 4) & 15 and l = z & 15 as bytes,
 * A[h] and B[l] by tbl on the byte planes, T = (A * B + 2^14) >> 15 by umull and a rounding
 * narrow. p0 gets keys 0-7, p1 keys 8-15. */
static inline void fa_i8_exp16_arm(const float *t, float32x4_t m, const fa_i8_exp_tables_arm *tab,
                                    uint16x8_t *p0, uint16x8_t *p1) {
  const uint16x8_t z0 = fa_i8_z8_arm(t, m), z1 = fa_i8_z8_arm(t + 8, m);
  const uint8x16_t fifteen = vdupq_n_u8(15);
  const uint8x16_t h = vandq_u8(vshrn_high_n_u16(vshrn_n_u16(z0, 4), z1, 4), fifteen);
  const uint8x16_t l = vandq_u8(vmovn_high_u16(vmovn_u16(z0), z1), fifteen);
  const uint8x16_t alo = vqtbl1q_u8(tab->a_lo, h), ahi = vqtbl1q_u8(tab->a_hi, h);
  const uint8x16_t blo = vqtbl1q_u8(tab->b_lo, l), bhi = vqtbl1q_u8(tab->b_hi, l);
  const uint16x8_t a0 = vreinterpretq_u16_u8(vzip1q_u8(alo, ahi)), a1 = vreinterpretq_u16_u8(vzip2q_u8(alo, ahi));
  const uint16x8_t b0 = vreinterpretq_u16_u8(vzip1q_u8(blo, bhi)), b1 = vreinterpretq_u16_u8(vzip2q_u8(blo, bhi));
  const uint16x8_t f0 = vrshrn_high_n_u32(vrshrn_n_u32(vmull_u16(vget_low_u16(a0), vget_low_u16(b0)), 15),
                                          vmull_high_u16(a0, b0), 15);
  const uint16x8_t f1 = vrshrn_high_n_u32(vrshrn_n_u32(vmull_u16(vget_low_u16(a1), vget_low_u16(b1)), 15),
                                          vmull_high_u16(a1, b1), 15);
  *p0 = fa_i8_shift8_arm(f0, z0), *p1 = fa_i8_shift8_arm(f1, z1);
}

static uint32_t fa_i8_exp_lut_arm(const float *t, size_t npad, float r, uint8_t *p) {
  const fa_i8_exp_tables_arm tab = fa_i8_exp_tables_arm_load();
  const float32x4_t vm = vdupq_n_f32(r);
  uint16x8_t sum = vdupq_n_u16(0); /* at most FA_I8_NK / 8 * 2 * 127 per lane */
  for (size_t c = 0; c < npad; c += 16) {
    uint16x8_t p0, p1;
    fa_i8_exp16_arm(t + c, vm, &tab, &p0, &p1);
    sum = vaddq_u16(sum, vaddq_u16(p0, p1));
    vst1q_u8(p + c, vuzp1q_u8(vreinterpretq_u8_u16(p0), vreinterpretq_u8_u16(p1)));
  }
  return vaddlvq_u16(sum);
}

#endif
