/* The float32 FMA peak loop of fa_f32_peak_loop (fastattn/peak.h): AVX-512 (x86-64), the
 * ZMM registers the f32-avx512 kernels use. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx512.c is for x86-64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl")

#include <immintrin.h>
#include <stdint.h>

/* 12 independent FMA chains of 16 lanes: more than the 2 ports x 4 cycles of latency need;
 * the empty asm keeps the multiplier opaque, so nothing is folded or hoisted. */
uint64_t fa_f32_peak__avx512(uint64_t iters, float *sink) {
  __m512 a = _mm512_set1_ps(1.0f + 1e-7f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  __m512 c[12];
  for (int j = 0; j < 12; j++) c[j] = _mm512_set1_ps((float)j);
  for (uint64_t i = 0; i < iters; i++) {
    __asm__ volatile("" : "+v"(a));
    for (int j = 0; j < 12; j++) c[j] = _mm512_fmadd_ps(c[j], a, b);
  }
  __m512 s = c[0];
  for (int j = 1; j < 12; j++) s = _mm512_add_ps(s, c[j]);
  *sink = _mm512_reduce_add_ps(s);
  return iters * 12 * 16 * 2;
}

FA_TARGET_END
