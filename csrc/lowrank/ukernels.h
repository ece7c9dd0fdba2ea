/* The micro-kernels of the low-rank ops (linear, Performer, Linformer): the flash engine's
 * GEMM tile and element-wise steps, one const struct per ISA (lowrank/f32-<isa>.h). */
#ifndef FASTATTN_LOWRANK_UKERNELS_H
#define FASTATTN_LOWRANK_UKERNELS_H

#include <math.h>
#include "flash/f32.h"

typedef struct fa_lr_ukernels {
  const fa_f32_ukernels *mm;                       /* the GEMM tile */
  void (*elu1)(float *y, const float *x, size_t n); /* y = elu(x) + 1 (y may be x) */
  /* max of x[i] - h[i] (h NULL: 0); -inf when n = 0; NaN when any term is NaN */
  float (*max_sub)(const float *x, const float *h, size_t n);
  /* x[i] = exp2(x[i] - h[i] - shift) (h NULL: 0) for i < n; exp2 of -inf is 0, NaN stays */
  void (*exp2_sub)(float *x, const float *h, float shift, size_t n);
  /* A softmax row: x[i] = exp2(x[i] - shift) for i < n (n a multiple of 16), returns the
   * sum; only for a finite shift >= every x[i] (the row's max, so no x is NaN or +inf).
   * Terms below 2^-126 may come out as any value in [0, 2^-126] instead of 0. */
  float (*softmax_exp2)(float *x, size_t n, float shift);
} fa_lr_ukernels;

/* exp2_sub through an ISA's exp2_sum (which runs on whole 16s; exp2f for the rest): the
 * subtraction as one pass, then the exp as another. */
static inline void fa_lr_exp2_sub_with(float (*exp2_sum)(float *, size_t, float), float *x,
                                       const float *h, float shift, size_t n) {
  if (h)
    for (size_t i = 0; i < n; i++) x[i] = x[i] - shift - h[i];
  else
    for (size_t i = 0; i < n; i++) x[i] = x[i] - shift;
  const size_t n16 = n & ~(size_t)15;
  if (n16) (void)exp2_sum(x, n16, 0.0f);
  for (size_t i = n16; i < n; i++) x[i] = exp2f(x[i]);
}

#endif
