/* int8 GEMM, AVX2 (x86-64 without VNNI): 4 rows x 16 channels per tile. Each step
 * broadcasts 4 inputs of a row and multiplies them with 8 channels x 4 inputs by
 * vpmaddubsw with the sign trick |x| · (w · sign(x)) (pairs of products at most
 * 2 · 127 · 127 = 32258: no int16 saturation), then vpmaddwd by ones into int32. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma")

#include <immintrin.h>
#include "gemm/job-i8.h"

#define MR 4

__attribute__((noinline)) static void tile_avx2(const fa_gemm_i8_tile *t, float *dst,
                                                ptrdiff_t ds) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[MR][2];
  for (size_t r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (size_t g = 0; g < t->kp / 4; g++) {
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(t->w + g * 64));
    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(t->w + g * 64 + 32));
    for (size_t r = 0; r < MR; r++) {
      const __m256i xb = _mm256_set1_epi32(fa_gemm_i8_load4(t->x[r] + 4 * g));
      const __m256i ax = _mm256_abs_epi8(xb);
      acc[r][0] = _mm256_add_epi32(
          acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w0, xb)), ones));
      acc[r][1] = _mm256_add_epi32(
          acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w1, xb)), ones));
    }
  }
  const float *ws = t->w_scale, *b = t->bias;
  for (size_t r = 0; r < t->mr; r++) {
    const __m256 xs = _mm256_set1_ps(t->x_scale[r]);
    for (size_t h = 0; h < 2; h++) {
      const __m256 s = _mm256_mul_ps(xs, _mm256_loadu_ps(ws + 8 * h));
      const __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][h]), s),
                                     _mm256_loadu_ps(b + 8 * h));
      _mm256_storeu_ps(dst + (ptrdiff_t)r * ds + (ptrdiff_t)(8 * h), y);
    }
  }
}

fa_status fa_gemm_i8__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_gemm_i8_job(tile_avx2, MR, params, job, workspace);
}

FA_TARGET_END
