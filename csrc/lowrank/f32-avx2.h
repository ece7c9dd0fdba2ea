/* AVX2 + FMA element-wise micro-kernels of the low-rank ops. Include only from a file
 * compiled with the avx2,fma target enabled. Tails of fewer than 8 go through the
 * portable versions. */
#ifndef FASTATTN_LOWRANK_F32_AVX2_H
#define FASTATTN_LOWRANK_F32_AVX2_H

#include <immintrin.h>
#include "lowrank/f32-scalar.h"
#include "ukernels/f32-avx2.h"

static inline __m256 fa_lr_elu1_vec_avx2(__m256 v) {
  const __m256 zero = _mm256_setzero_ps();
  /* min returns v when v is NaN, so NaN reaches exp2, which keeps it */
  const __m256 e = fa_avx2_exp2(_mm256_mul_ps(_mm256_min_ps(zero, v), _mm256_set1_ps(FA_LOG2E)));
  return _mm256_blendv_ps(e, _mm256_add_ps(v, _mm256_set1_ps(1.0f)),
                          _mm256_cmp_ps(v, zero, _CMP_GT_OQ));
}

/* Two independent vectors per step: the exp polynomial is a chain of dependent FMAs. */
static void fa_lr_elu1_avx2(float *y, const float *x, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i));
    const __m256 b = fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i + 8));
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fa_lr_elu1_vec_avx2(_mm256_loadu_ps(x + i)));
  fa_lr_elu1_scalar(y + i, x + i, n - i);
}

static float fa_lr_max_sub_avx2(const float *x, const float *h, size_t n) {
  __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    if (h) v = _mm256_sub_ps(v, _mm256_loadu_ps(h + i));
    m = _mm256_max_ps(m, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan)) return NAN;
  const float head = fa_avx2_hmax(m), tail = fa_lr_max_sub_scalar(x + i, h ? h + i : NULL, n - i);
  return tail != tail || tail > head ? tail : head;
}

static const fa_lr_ukernels fa_lr_ukernels_avx2 = {&fa_f32_ukernels_avx2, fa_lr_elu1_avx2,
                                                   fa_lr_max_sub_avx2};

#endif
