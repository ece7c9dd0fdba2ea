/* The int8 multiply-accumulate peak loop of fa_i8_peak_loop (fastattn/peak.h):
 * AVX-512 VNNI (x86-64: Ice Lake and later, Sapphire Rapids, Zen 4/5). */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")

#include <immintrin.h>
#include <stdint.h>

/* Peak int8 MAC rate: 8 independent vpdpbusd chains of 64 MACs each per iteration;
 * the empty asm makes the operands opaque so nothing is hoisted or merged. */
uint64_t fa_i8_peak__avx512vnni(uint64_t iters, int32_t *sink) {
  __m512i a0 = _mm512_set1_epi8(3), a1 = _mm512_set1_epi8(5), b0 = _mm512_set1_epi8(-5);
  __m512i b1 = _mm512_set1_epi8(7), b2 = _mm512_set1_epi8(-9), b3 = _mm512_set1_epi8(11);
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0;
  for (uint64_t it = 0; it < iters; it++) {
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3));
    c0 = _mm512_dpbusd_epi32(c0, a0, b0), c1 = _mm512_dpbusd_epi32(c1, a0, b1);
    c2 = _mm512_dpbusd_epi32(c2, a0, b2), c3 = _mm512_dpbusd_epi32(c3, a0, b3);
    c4 = _mm512_dpbusd_epi32(c4, a1, b0), c5 = _mm512_dpbusd_epi32(c5, a1, b1);
    c6 = _mm512_dpbusd_epi32(c6, a1, b2), c7 = _mm512_dpbusd_epi32(c7, a1, b3);
  }
  const __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                     _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
  *sink = _mm512_reduce_add_epi32(s);
  return iters * 8 * 64;
}

FA_TARGET_END
