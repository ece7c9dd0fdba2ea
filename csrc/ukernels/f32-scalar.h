/* Portable float32 micro-kernels for the flash engine (no ISA flags). */
#ifndef FASTATTN_UKERNELS_F32_SCALAR_H
#define FASTATTN_UKERNELS_F32_SCALAR_H

#include <math.h>
#include <string.h>
#include "flash/f32.h"

static void fa_f32_gemm_4x16_scalar(size_t k, const float *a, size_t lda, const float *b,
                                    size_t ldb, float *c, size_t ldc, int accumulate) {
  float acc[4][16];
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 16; j++) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
  for (size_t p = 0; p < k; p++) {
    const float *brow = b + p * ldb;
    for (size_t i = 0; i < 4; i++) {
      const float ai = a[i * lda + p];
      for (size_t j = 0; j < 16; j++) acc[i][j] += ai * brow[j];
    }
  }
  for (size_t i = 0; i < 4; i++) memcpy(c + i * ldc, acc[i], sizeof(acc[i]));
}

static float fa_f32_max_scalar(const float *x, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != x[i]) return x[i];
    m = x[i] > m ? x[i] : m;
  }
  return m;
}

static float fa_f32_exp2_sum_scalar(float *x, size_t n, float shift) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    x[i] = exp2f(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

static void fa_f32_scale_scalar(float *x, size_t n, float s) {
  for (size_t i = 0; i < n; i++) x[i] *= s;
}

static void fa_f32_pack_kt_scalar(const float *k, ptrdiff_t k_rs, size_t n, size_t d, float *kt) {
  fa_f32_pack_kt_rows(k, k_rs, 0, n, 0, d, kt);
}

static const fa_f32_ukernels fa_f32_ukernels_scalar = {
    4, fa_f32_gemm_4x16_scalar, fa_f32_max_scalar, fa_f32_exp2_sum_scalar, fa_f32_scale_scalar,
    fa_f32_pack_kt_scalar};

#endif
