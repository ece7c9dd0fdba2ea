/* The int8 multiply-accumulate peak loop of fa_i8_peak_loop (fastattn/peak.h):
 * aarch64 Advanced SIMD + dotprod (SDOT: Cortex-A76/A78 class). */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("arch=armv8.2-a+dotprod")

#include <arm_neon.h>
#include <stdint.h>

/* Peak int8 MAC rate with SDOT: 8 independent chains of 16 MACs per iteration. */
uint64_t fa_i8_peak__neondot(uint64_t iters, int32_t *sink) {
  int8x16_t a = vdupq_n_s8(3), b0 = vdupq_n_s8(-5), b1 = vdupq_n_s8(7);
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (uint64_t it = 0; it < iters; it++) {
    __asm__ volatile("" : "+w"(a), "+w"(b0), "+w"(b1));
    c0 = vdotq_s32(c0, a, b0), c1 = vdotq_s32(c1, a, b1);
    c2 = vdotq_laneq_s32(c2, a, b0, 0), c3 = vdotq_laneq_s32(c3, a, b0, 1);
    c4 = vdotq_laneq_s32(c4, a, b0, 2), c5 = vdotq_laneq_s32(c5, a, b0, 3);
    c6 = vdotq_laneq_s32(c6, a, b1, 0), c7 = vdotq_laneq_s32(c7, a, b1, 1);
  }
  const int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)),
                                vaddq_s32(vaddq_s32(c4, c5), vaddq_s32(c6, c7)));
  *sink = vaddvq_s32(s);
  return iters * 8 * 16;
}

FA_TARGET_END
