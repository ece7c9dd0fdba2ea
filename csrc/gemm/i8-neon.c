/* int8 GEMM, aarch64 Advanced SIMD without dotprod (Cortex-A72 class): 4 rows x 16
 * channels per tile. Per group of 4 inputs: smull/smull2 of a vector of 4 channels x 4
 * inputs with the broadcast inputs, addp into pairs (at most 2 · 127 · 127 = 32258, no
 * int16 overflow), sadalp into the int32 accumulator of the 4 channels. */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP

#include <arm_neon.h>
#include "gemm/epilogue-neon.h"

#define MR 4

__attribute__((noinline)) static void tile_neon(const fa_gemm_i8_tile *t, float *dst,
                                                ptrdiff_t ds) {
  int32x4_t acc[MR][4];
  for (size_t r = 0; r < MR; r++)
    for (size_t i = 0; i < 4; i++) acc[r][i] = vdupq_n_s32(0);
  for (size_t g = 0; g < t->kp / 4; g++) {
    int8x16_t wv[4];
    for (size_t i = 0; i < 4; i++) wv[i] = vld1q_s8(t->w + g * 64 + 16 * i);
    for (size_t r = 0; r < MR; r++) {
      const int8x16_t xb = vreinterpretq_s8_s32(vdupq_n_s32(fa_gemm_i8_load4(t->x[r] + 4 * g)));
      for (size_t i = 0; i < 4; i++) {
        const int16x8_t lo = vmull_s8(vget_low_s8(wv[i]), vget_low_s8(xb));
        const int16x8_t hi = vmull_high_s8(wv[i], xb);
        acc[r][i] = vpadalq_s16(acc[r][i], vpaddq_s16(lo, hi));
      }
    }
  }
  fa_gemm_i8_store_neon(t, acc, dst, ds);
}

fa_status fa_gemm_i8__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_gemm_i8_job(tile_neon, MR, params, job, workspace);
}
