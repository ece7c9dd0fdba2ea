/* Dense attention, int8, AVX-512 VNNI (x86-64: Ice Lake and later, Sapphire Rapids,
 * Zen 4/5). vpdpbusd adds four u8 x s8 products into int32 with no int16 step, so
 * P (0..255) multiplies v directly: about twice the MAC rate of the AVX2 kernels. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))), apply_to = function)
#else
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")
#pragma GCC optimize("fp-contract=off") /* t and z must match the reference bit for bit */
#endif

#include "dense/job-i8.h"
#include "ukernels/i8-avx512vnni.h"

fa_status fa_dense_i8__avx512vnni(const fa_dense_i8_params *p, size_t job, void *workspace) {
  return fa_dense_i8_job(&fa_i8_ukernels_avx512vnni, p, job, workspace);
}

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

#if defined(__clang__)
#pragma clang attribute pop
#endif
