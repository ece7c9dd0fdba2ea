/* aarch64 Advanced SIMD element-wise micro-kernels of the low-rank ops. Tails of fewer
 * than 4 go through the portable versions. */
#ifndef FASTATTN_LOWRANK_F32_NEON_H
#define FASTATTN_LOWRANK_F32_NEON_H

#include <arm_neon.h>
#include "lowrank/f32-scalar.h"
#include "ukernels/f32-neon.h"

static void fa_lr_elu1_neon(float *y, const float *x, size_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    const float32x4_t e = fa_neon_exp2(vmulq_n_f32(vminq_f32(v, zero), FA_LOG2E));
    vst1q_f32(y + i, vbslq_f32(vcgtq_f32(v, zero), vaddq_f32(v, one), e));
  }
  fa_lr_elu1_scalar(y + i, x + i, n - i);
}

static void fa_lr_relu_neon(float *y, const float *x, size_t n) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmaxq_f32(vld1q_f32(x + i), zero)); /* NaN stays */
  fa_lr_relu_scalar(y + i, x + i, n - i);
}

static void fa_lr_exp2_sub_neon(float *x, const float *h, float shift, size_t n) {
  const float32x4_t sh = vdupq_n_f32(shift);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vsubq_f32(vld1q_f32(x + i), sh);
    if (h) v = vsubq_f32(v, vld1q_f32(h + i));
    vst1q_f32(x + i, fa_neon_exp2(v));
  }
  fa_lr_exp2_sub_scalar(x + i, h ? h + i : NULL, shift, n - i);
}

static float fa_lr_max_sub_neon(const float *x, const float *h, size_t n) {
  float32x4_t m = vdupq_n_f32(-INFINITY); /* FMAX propagates NaN */
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t v = vld1q_f32(x + i);
    if (h) v = vsubq_f32(v, vld1q_f32(h + i));
    m = vmaxq_f32(m, v);
  }
  const float head = vmaxvq_f32(m), tail = fa_lr_max_sub_scalar(x + i, h ? h + i : NULL, n - i);
  if (head != head) return head;
  return tail != tail || tail > head ? tail : head;
}

static float fa_lr_sum_neon(const float *x, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vaddq_f32(s0, vld1q_f32(x + i));
    s1 = vaddq_f32(s1, vld1q_f32(x + i + 4));
  }
  for (; i + 4 <= n; i += 4) s0 = vaddq_f32(s0, vld1q_f32(x + i));
  return vaddvq_f32(vaddq_f32(s0, s1)) + fa_lr_sum_scalar(x + i, n - i);
}

static float fa_lr_dot_neon(const float *a, const float *b, size_t n) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  return vaddvq_f32(vaddq_f32(s0, s1)) + fa_lr_dot_scalar(a + i, b + i, n - i);
}

static void fa_lr_scale_neon(float *x, size_t n, float s) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), s));
  fa_lr_scale_scalar(x + i, n - i, s);
}

static const fa_lr_ukernels fa_lr_ukernels_neon = {
    &fa_f32_ukernels_neon, fa_lr_elu1_neon, fa_lr_relu_neon, fa_lr_exp2_sub_neon,
    fa_lr_max_sub_neon,    fa_lr_sum_neon,  fa_lr_dot_neon,  fa_lr_scale_neon};

#endif
