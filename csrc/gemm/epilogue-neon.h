/* The float32 epilogue of the two aarch64 int8 GEMM tiles (i8-neon.c, i8-neondot.c):
 * out = (float)acc · (x_scale[m] · w_scale[n]) + bias[n] for 4 rows x 16 channels.
 * Include only from those files, after arm_neon.h. */
#ifndef FASTATTN_GEMM_EPILOGUE_NEON_H
#define FASTATTN_GEMM_EPILOGUE_NEON_H

#include "gemm/job-i8.h"

static inline void fa_gemm_i8_store_neon(const fa_gemm_i8_tile *t, int32x4_t acc[4][4],
                                         float *dst, ptrdiff_t ds) {
  const float *ws = t->w_scale, *b = t->bias;
  for (size_t r = 0; r < t->mr; r++) {
    const float32x4_t xs = vdupq_n_f32(t->x_scale[r]);
    for (size_t i = 0; i < 4; i++) {
      const float32x4_t s = vmulq_f32(xs, vld1q_f32(ws + 4 * i));
      const float32x4_t y = vaddq_f32(vmulq_f32(vcvtq_f32_s32(acc[r][i]), s),
                                      vld1q_f32(b + 4 * i));
      vst1q_f32(dst + (ptrdiff_t)r * ds + (ptrdiff_t)(4 * i), y);
    }
  }
}

#endif
