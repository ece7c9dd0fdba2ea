/* int8-weight linear layer: out = dequant(xq · wqᵀ) + bias, the arithmetic of
 * reference/gemm_int8.py exactly.
 *
 * Weights: symmetric int8 per output channel n, scale w_scale[n] = max|w[n]| / 127,
 * packed once (by the Python layer) in panels of FA_GEMM_I8_NR channels and groups of 4
 * inputs: w[((p * kp / 4) + g) * NR * 4 + c * 4 + u] = wq[p * NR + c][4 g + u], zero
 * beyond n and k; kp = k rounded up to FA_GEMM_I8_KALIGN; w_scale and bias hold
 * npanels * NR entries (padding: any finite values).
 * Activations: symmetric int8 per row m (dynamic), x_scale[m] = max|x[m]| / 127 (1 for an
 * all-zero row), xq = clamp(rint(x / x_scale), +-127) in float32, zero padded to kp;
 * x_sum[m] = Σ_k xq[m][k] (VNNI multiplies u8 = w + 128 by s8 xq and subtracts 128 x_sum).
 * acc[m][n] = Σ_k xq[m][k] wq[n][k] exactly in int32 (k <= FA_GEMM_I8_KMAX keeps even the
 * biased sum 255 · 127 · k below 2³¹);
 * out[m][n] = (float)acc · (x_scale[m] · w_scale[n]) + bias[n], float32, no FMA.
 *
 * Jobs (common/driver.c): rows [q0, q1) of FA_GEMM_I8_MB x panel block h of
 * FA_GEMM_I8_PB panels, after a first pass that quantises x (when given). */
#ifndef FASTATTN_GEMM_I8_H
#define FASTATTN_GEMM_I8_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/status.h"
#include "fastattn/variant.h"

#define FA_GEMM_I8_NR 16     /* output channels per packed panel */
#define FA_GEMM_I8_KALIGN 16 /* kp, the padded input width, is a multiple of this */
#define FA_GEMM_I8_KMAX 65536
#define FA_GEMM_I8_MB 32     /* rows per job (a multiple of every tile's MR) */
#define FA_GEMM_I8_PB 4      /* panels per job */

typedef struct fa_gemm_i8_params {
  const float *x;        /* (m, k) float32, row stride x_stride elements; NULL: xq is given */
  int8_t *xq;            /* (m, kp) row-major; written from x when x is not NULL */
  float *x_scale;        /* (m,) */
  int32_t *x_sum;        /* (m,) */
  const int8_t *w;       /* packed weights: ceil(n / NR) panels of kp x NR */
  const float *w_scale;  /* (ceil(n / NR) * NR,) */
  const float *bias;     /* (ceil(n / NR) * NR,) */
  float *out;            /* (m, n), row stride out_stride elements */
  size_t x_len, xq_len, x_scale_len, x_sum_len, w_len, w_scale_len, bias_len, out_len;
  size_t m, n, k, kp;
  ptrdiff_t x_stride, out_stride;
} fa_gemm_i8_params;

extern const fa_variant fa_gemm_i8_variants[];
extern const size_t fa_gemm_i8_nvariants;

/* Bytes of workspace each thread needs. */
size_t fa_gemm_i8_workspace_size(void);

/* Quantises x (when given), then runs variant `index` on `nthreads` threads. */
fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads,
                     void *workspace, size_t workspace_size);

#endif
