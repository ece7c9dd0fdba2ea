/* Symmetric int8 quantisation of keys and values for the int8 attention ops, with
 * the exact float32 arithmetic of reference/int8.py (so that the integers match):
 *   keys: mean over tokens as a sequential float64 sum / len, cast to float32 (when
 *   smoothing), x - mean in float32, per block of `block` tokens
 *   scale = max|x| / 127 (1 for an all-zero block), q = clamp(rint(x / scale), +-127);
 *   values: the same with one scale per channel over all tokens.
 * Inputs are `outer` contiguous matrices of len x d float32. An op with variants like the
 * others (quant/dispatch-i8.c lists them; every variant gives the same bytes): `index`
 * picks one of fa_quant_i8_variants[], one job per matrix on `nthreads` threads (with
 * fewer matrices than threads, large matrices are also split into token ranges; the bytes
 * never depend on the thread count). */
#ifndef FASTATTN_QUANT_I8_H
#define FASTATTN_QUANT_I8_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/status.h"
#include "fastattn/variant.h"

/* What a job does with matrix job->b: the whole of it; only the part that needs all its
 * tokens (the keys' mean, the values' channel scales); or only tokens [job->q0, job->q1)
 * (whole key blocks) once that part is done. The entry points split a matrix into token
 * ranges only when there are fewer matrices than threads. */
typedef enum fa_quant_i8_stage {
  FA_QUANT_I8_ALL = 0,
  FA_QUANT_I8_PREPARE = 1,
  FA_QUANT_I8_ROWS = 2
} fa_quant_i8_stage;

/* What a job reads (filled by the entry points; jobs trust it). */
typedef struct fa_quant_i8_params {
  const float *x;
  size_t len, d, block; /* block: tokens per key scale; 0 for values (one scale per channel) */
  int smooth;
  int8_t *data;
  float *scale, *mean;
  fa_quant_i8_stage stage;
} fa_quant_i8_params;

extern const fa_variant fa_quant_i8_variants[];
extern const size_t fa_quant_i8_nvariants;

/* data: outer x len x d; scale: outer x ceil(len / block); mean: outer x d (written
 * when smooth, else may be NULL). Every array comes with its length in elements (*_len),
 * checked first (FA_ERR_BOUNDS). FA_ERR_NONFINITE if an input is not finite. */
fa_status fa_i8_quantize_keys(const float *x, size_t x_len, size_t outer, size_t len, size_t d,
                              size_t block, int smooth, int8_t *data, size_t data_len,
                              float *scale, size_t scale_len, float *mean, size_t mean_len,
                              size_t index, size_t nthreads);

/* data: outer x len x d; scale: outer x d. */
fa_status fa_i8_quantize_values(const float *x, size_t x_len, size_t outer, size_t len, size_t d,
                                int8_t *data, size_t data_len, float *scale, size_t scale_len,
                                size_t index, size_t nthreads);

#endif
