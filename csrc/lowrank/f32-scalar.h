/* Portable element-wise micro-kernels of the low-rank ops (no ISA flags). */
#ifndef FASTATTN_LOWRANK_F32_SCALAR_H
#define FASTATTN_LOWRANK_F32_SCALAR_H

#include <math.h>
#include "lowrank/scan.h"
#include "ukernels/f32-scalar.h"

static void fa_lr_elu1_scalar(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] + 1.0f : expf(x[i]);
}

static float fa_lr_max_sub_scalar(const float *x, const float *h, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    const float y = x[i] - (h ? h[i] : 0.0f);
    if (y != y) return y;
    m = y > m ? y : m;
  }
  return m;
}

static void fa_lr_exp2_sub_scalar(float *x, const float *h, float shift, size_t n) {
  fa_lr_exp2_sub_with(fa_f32_exp2_sum_scalar, x, h, shift, n);
}

static void fa_lr_rows_max_sub_scalar(const float *x, size_t rows, size_t ld, const float *h,
                                    size_t n, float *top) {
  fa_lr_rows_max_sub(fa_lr_max_sub_scalar, x, rows, ld, h, n, top);
}

static void fa_lr_rows_exp2_sub_scalar(float *x, size_t rows, size_t ld, const float *h,
                                     const float *shift, size_t n) {
  fa_lr_rows_exp2_sub(fa_lr_exp2_sub_scalar, x, rows, ld, h, shift, n);
}

static const fa_lr_ukernels fa_lr_ukernels_scalar = {
    &fa_f32_ukernels_scalar, fa_lr_elu1_scalar, fa_lr_rows_max_sub_scalar,
    fa_lr_rows_exp2_sub_scalar, fa_f32_exp2_sum_scalar};

#endif
