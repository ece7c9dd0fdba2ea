/* The int8 multiply-accumulate peak loop of fa_i8_peak_loop (fastattn/peak.h):
 * aarch64 Advanced SIMD (no dotprod: Cortex-A72 class). */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif


#include <arm_neon.h>
#include <stdint.h>

/* Peak int8 MAC rate with smull + sadalp: 4 chains of 16 MACs per iteration. */
uint64_t fa_i8_peak__neon(uint64_t iters, int32_t *sink) {
  int8x16_t a = vdupq_n_s8(3), b0 = vdupq_n_s8(-5), b1 = vdupq_n_s8(7);
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0;
  for (uint64_t it = 0; it < iters; it++) {
    __asm__ volatile("" : "+w"(a), "+w"(b0), "+w"(b1));
    c0 = vpadalq_s16(c0, vmull_s8(vget_low_s8(a), vget_low_s8(b0)));
    c1 = vpadalq_s16(c1, vmull_high_s8(a, b0));
    c2 = vpadalq_s16(c2, vmull_s8(vget_low_s8(a), vget_low_s8(b1)));
    c3 = vpadalq_s16(c3, vmull_high_s8(a, b1));
  }
  *sink = vaddvq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)));
  return iters * 4 * 8;
}
