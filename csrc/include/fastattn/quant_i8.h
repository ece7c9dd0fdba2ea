/* Symmetric int8 quantisation of keys and values for the int8 attention ops, with
 * the exact float32 arithmetic of reference/int8.py (so that the integers match):
 *   keys: mean over tokens as a sequential float64 sum / len, cast to float32 (when
 *   smoothing), x - mean in float32, per block of `block` tokens
 *   scale = max|x| / 127 (1 for an all-zero block), q = clamp(rint(x / scale), +-127);
 *   values: the same with one scale per channel over all tokens.
 * Inputs are `outer` contiguous matrices of len x d float32. */
#ifndef FASTATTN_QUANT_I8_H
#define FASTATTN_QUANT_I8_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/status.h"

/* data: outer x len x d; scale: outer x ceil(len / block); mean: outer x d (written
 * when smooth, else may be NULL). FA_ERR_NONFINITE if an input is not finite. */
fa_status fa_i8_quantize_keys(const float *x, size_t outer, size_t len, size_t d, size_t block,
                              int smooth, int8_t *data, float *scale, float *mean);

/* data: outer x len x d; scale: outer x d. */
fa_status fa_i8_quantize_values(const float *x, size_t outer, size_t len, size_t d,
                                int8_t *data, float *scale);

#endif
