/* int8 GEMM, AVX-512 VNNI: 8 rows x 16 channels per tile, one vpdpbusd per row and
 * group of 4 inputs. vpdpbusd multiplies u8 by s8, so the weights are read as
 * u8 = w + 128 (an xor of the packed panel) against the s8 activations, and
 * 128 · Σ_k xq[m][k] is subtracted once per row: exact, and the sum stays below
 * 255 · 127 · FA_GEMM_I8_KMAX < 2³¹. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")

#include <immintrin.h>
#include "gemm/job-i8.h"

#define MR 8

__attribute__((noinline)) static void tile_avx512vnni(const fa_gemm_i8_tile *t, float *dst,
                                                      ptrdiff_t ds) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  __m512i acc[MR];
  for (size_t r = 0; r < MR; r++) acc[r] = _mm512_setzero_si512();
  for (size_t g = 0; g < t->kp / 4; g++) {
    const __m512i wu = _mm512_xor_si512(_mm512_loadu_si512((const void *)(t->w + g * 64)), flip);
    for (size_t r = 0; r < MR; r++) {
      const __m512i xb = _mm512_set1_epi32(fa_gemm_i8_load4(t->x[r] + 4 * g));
      acc[r] = _mm512_dpbusd_epi32(acc[r], wu, xb);
    }
  }
  const __m512 wsv = _mm512_loadu_ps(t->w_scale), bv = _mm512_loadu_ps(t->bias);
  for (size_t r = 0; r < t->mr; r++) {
    const __m512i exact = _mm512_sub_epi32(acc[r], _mm512_set1_epi32(128 * t->x_sum[r]));
    const __m512 s = _mm512_mul_ps(_mm512_set1_ps(t->x_scale[r]), wsv);
    const __m512 y = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(exact), s), bv);
    _mm512_storeu_ps(dst + (ptrdiff_t)r * ds, y);
  }
}

fa_status fa_gemm_i8__avx512vnni(const void *params, const fa_job *job, void *workspace) {
  return fa_gemm_i8_job(tile_avx512vnni, MR, params, job, workspace);
}

FA_TARGET_END
