/* The micro-kernels of the low-rank ops (linear, Performer, Linformer): the flash engine's
 * GEMM tile and element-wise steps, one const struct per ISA (lowrank/f32-<isa>.h). */
#ifndef FASTATTN_LOWRANK_UKERNELS_H
#define FASTATTN_LOWRANK_UKERNELS_H

#include <math.h>
#include "flash/f32.h"

typedef struct fa_lr_ukernels {
  const fa_f32_ukernels *mm;                       /* the GEMM tile */
  void (*elu1)(float *y, const float *x, size_t n); /* y = elu(x) + 1 (y may be x) */
  /* For rows r < rows of x (ld floats apart): top[r] = max over i < n of x[r][i] - h[i]
   * (h NULL: 0); -inf when n = 0; NaN when any term is NaN */
  void (*max_sub)(const float *x, size_t rows, size_t ld, const float *h, size_t n, float *top);
  /* x[r][i] = exp2(x[r][i] - shift[r] - h[i]) (h NULL: 0) for r < rows, i < n; exp2 of
   * -inf is 0, NaN stays */
  void (*exp2_sub)(float *x, size_t rows, size_t ld, const float *h, const float *shift,
                   size_t n);
  /* A softmax row: x[i] = exp2(x[i] - shift) for i < n (n a multiple of 16), returns the
   * sum; only for a finite shift >= every x[i] (the row's max, so no x is NaN or +inf).
   * Terms below 2^-126 may come out as any value in [0, 2^-126] instead of 0. */
  float (*softmax_exp2)(float *x, size_t n, float shift);
  /* Optional (NULL: the portable loop, lowrank/vec.h): row r < rows of out (out_rs floats
   * apart) = row r of num (ld floats apart) / den[r] over dv columns, zeros where den[r] is
   * 0, with the stores the ISA measured fastest (AVX2: non-temporal, around the cache, as the
   * output is never read back; AVX-512: plain), so the scans do not prefetch the output. The
   * scans call it a few rows at a time between GEMM tile calls; `fence` (set on the last call
   * of a job, which may have rows = 0) makes the stores of every call so far visible before
   * it returns. */
  void (*divide_rows)(float *out, ptrdiff_t out_rs, const float *num, size_t ld,
                      const float *den, size_t rows, size_t dv, int fence);
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

/* The rows forms of max_sub and exp2_sub over an ISA's one-row functions (which the compiler
 * inlines into the loop: one call per block of rows, not per row). */
static inline void fa_lr_rows_max_sub(float (*max_sub)(const float *, const float *, size_t),
                                      const float *x, size_t rows, size_t ld, const float *h,
                                      size_t n, float *top) {
  for (size_t r = 0; r < rows; r++) top[r] = max_sub(x + r * ld, h, n);
}

static inline void fa_lr_rows_exp2_sub(void (*exp2_sub)(float *, const float *, float, size_t),
                                       float *x, size_t rows, size_t ld, const float *h,
                                       const float *shift, size_t n) {
  for (size_t r = 0; r < rows; r++) exp2_sub(x + r * ld, h, shift[r], n);
}

#endif
