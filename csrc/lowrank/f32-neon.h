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

static void fa_lr_exp2_sub_neon(float *x, const float *h, float shift, size_t n) {
  fa_lr_exp2_sub_with(fa_f32_exp2_sum_neon, x, h, shift, n);
}

static void fa_lr_rows_max_sub_neon(const float *x, size_t rows, size_t ld, const float *h,
                                    size_t n, float *top) {
  fa_lr_rows_max_sub(fa_lr_max_sub_neon, x, rows, ld, h, n, top);
}

static void fa_lr_rows_exp2_sub_neon(float *x, size_t rows, size_t ld, const float *h,
                                     const float *shift, size_t n) {
  fa_lr_rows_exp2_sub(fa_lr_exp2_sub_neon, x, rows, ld, h, shift, n);
}

static const fa_lr_ukernels fa_lr_ukernels_neon = {
    &fa_f32_ukernels_neon, fa_lr_elu1_neon, fa_lr_rows_max_sub_neon,
    fa_lr_rows_exp2_sub_neon, fa_f32_exp2_sum_neon};

#endif
