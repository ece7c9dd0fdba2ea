/* int8-weight linear layer: out = dequant(xq · wqᵀ) + bias, the arithmetic of
 * reference/gemm_int8.py exactly.
 *
 * Weights: symmetric int8 per output channel n, scale w_scale[n] = max|w[n]| / 127,
 * packed once (by the Python layer) in panels of FA_GEMM_I8_NR channels and groups of 4
 * inputs: packed[((p * kp / 4) + g) * NR * 4 + c * 4 + u] = w[p * NR + c][4 g + u], zero
 * beyond n and k; kp = k rounded up to FA_GEMM_I8_KALIGN.
 * Activations: symmetric int8 per row m (dynamic), x_scale[m] = max|x[m]| / 127 (1 for an
 * all-zero row), xq = clamp(rint(x / x_scale), +-127) in float32, zero padded to kp;
 * x_sum[m] = Σ_k xq[m][k] (VNNI multiplies u8 = w + 128 by s8 xq and subtracts 128 x_sum).
 * acc[m][n] = Σ_k xq[m][k] w[n][k] exactly in int32 (k <= FA_GEMM_I8_KMAX keeps even the
 * biased sum 255 · 127 · k below 2³¹);
 * out[m][n] = (float)acc · (x_scale[m] · w_scale[n]) + bias[n], float32, no FMA. */
#ifndef FASTATTN_GEMM_I8_H
#define FASTATTN_GEMM_I8_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/cpu.h"
#include "fastattn/status.h"

#define FA_GEMM_I8_NR 16     /* output channels per packed panel */
#define FA_GEMM_I8_KALIGN 16 /* kp, the padded input width, is a multiple of this */
#define FA_GEMM_I8_KMAX 65536

typedef struct fa_gemm_i8_params {
  const float *x;        /* (m, k) float32, row stride x_stride elements; NULL: xq is given */
  int8_t *xq;            /* (m, kp) row-major; written from x when x is not NULL */
  float *x_scale;        /* (m,) */
  int32_t *x_sum;        /* (m,) */
  const int8_t *w;       /* packed weights: ceil(n / NR) panels of kp x NR */
  const float *w_scale;  /* (n,) */
  const float *bias;     /* (n,) or NULL */
  float *out;            /* (m, n), row stride out_stride elements */
  size_t m, n, k, kp;
  ptrdiff_t x_stride, out_stride;
} fa_gemm_i8_params;

/* One compiled variant: a job is a block of rows x a block of panels. */
typedef fa_status (*fa_gemm_i8_fn)(const fa_gemm_i8_params *p, size_t job);

typedef struct fa_gemm_i8_variant {
  const char *name;
  fa_isa isa;
  fa_gemm_i8_fn fn;
} fa_gemm_i8_variant;

extern const fa_gemm_i8_variant fa_gemm_i8_variants[];
extern const size_t fa_gemm_i8_nvariants;
size_t fa_gemm_i8_pick(fa_isa cap);

/* Quantises rows [m0, m1) of p->x into p->xq, p->x_scale, p->x_sum (portable C).
 * FA_ERR_INVALID if a value is not finite. */
fa_status fa_gemm_i8_quantize_rows(const fa_gemm_i8_params *p, size_t m0, size_t m1);

/* Quantises x (when given), then runs variant `index` on `nthreads` threads. */
fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads);

#endif
