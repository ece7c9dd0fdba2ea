/* The float32 FMA peak loop of fa_f32_peak_loop (fastattn/peak.h): aarch64 Advanced SIMD. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include <arm_neon.h>
#include <stdint.h>

/* 8 independent FMA chains in named registers (2 pipes x 4 cycles of latency). */
uint64_t fa_f32_peak__neon(uint64_t iters, float *sink) {
  const float32x4_t a = vdupq_n_f32(1.0f + 1e-7f), b = vdupq_n_f32(1e-7f);
  float32x4_t c0 = vdupq_n_f32(0.0f), c1 = vdupq_n_f32(1.0f), c2 = vdupq_n_f32(2.0f);
  float32x4_t c3 = vdupq_n_f32(3.0f), c4 = vdupq_n_f32(4.0f), c5 = vdupq_n_f32(5.0f);
  float32x4_t c6 = vdupq_n_f32(6.0f), c7 = vdupq_n_f32(7.0f);
  for (uint64_t i = 0; i < iters; i++) {
    c0 = vfmaq_f32(b, c0, a), c1 = vfmaq_f32(b, c1, a), c2 = vfmaq_f32(b, c2, a);
    c3 = vfmaq_f32(b, c3, a), c4 = vfmaq_f32(b, c4, a), c5 = vfmaq_f32(b, c5, a);
    c6 = vfmaq_f32(b, c6, a), c7 = vfmaq_f32(b, c7, a);
  }
  const float32x4_t s0 = vaddq_f32(vaddq_f32(c0, c1), vaddq_f32(c2, c3));
  const float32x4_t s1 = vaddq_f32(vaddq_f32(c4, c5), vaddq_f32(c6, c7));
  *sink = vaddvq_f32(vaddq_f32(s0, s1));
  return iters * 8 * 4 * 2;
}
