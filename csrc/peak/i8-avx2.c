/* The int8 multiply-accumulate peak loop of fa_i8_peak_loop (fastattn/peak.h):
 * AVX2 (x86-64). */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma")

#include <immintrin.h>
#include <stdint.h>

/* Peak int8 MAC rate: 8 independent vpmaddubsw + vpmaddwd + vpaddd chains of 32
 * MACs each per iteration; the empty asm makes the operands opaque so nothing is
 * hoisted or merged. */
uint64_t fa_i8_peak__avx2(uint64_t iters, int32_t *sink) {
  __m256i a0 = _mm256_set1_epi8(3), a1 = _mm256_set1_epi8(5), b0 = _mm256_set1_epi8(-5);
  __m256i b1 = _mm256_set1_epi8(7), b2 = _mm256_set1_epi8(-9), b3 = _mm256_set1_epi8(11);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0;
  for (uint64_t it = 0; it < iters; it++) {
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(b0), "+x"(b1), "+x"(b2), "+x"(b3));
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b0), ones));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b1), ones));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b2), ones));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b3), ones));
    c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b0), ones));
    c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b1), ones));
    c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b2), ones));
    c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b3), ones));
  }
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                               _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  *sink = _mm256_extract_epi32(s, 0);
  return iters * 8 * 32;
}

FA_TARGET_END
