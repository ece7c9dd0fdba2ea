/* Dense scaled dot-product attention on int8 inputs with a lookup-table softmax.
 *
 * Same semantics as fastattn/dense.h (GQA, band, additive mask, zero rows). Queries
 * arrive as float32 and are quantised inside (symmetric int8 per block of q_block
 * tokens); keys and values arrive quantised: symmetric int8 in [-127, 127] with
 * float32 scales, k_scale per block of k_block key tokens, v_scale per value
 * channel. The arithmetic is defined by reference/int8.py (see flash/i8.h). */
#ifndef FASTATTN_DENSE_I8_H
#define FASTATTN_DENSE_I8_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/dense.h"
#include "fastattn/status.h"
#include "fastattn/variant.h"

/* Arrays with their lengths in elements, as in fastattn/dense.h. */
typedef struct fa_dense_i8_params {
  const float *q;        /* [batch][heads][lq][d], last dim contiguous, finite */
  const int8_t *k;       /* [batch][kv_heads][lk][d] */
  const int8_t *v;       /* [batch][kv_heads][lk][dv] */
  const float *k_scale;  /* [batch][kv_heads][ceil(lk / k_block)] */
  const float *v_scale;  /* [batch][kv_heads][dv] */
  float *out;            /* [batch][heads][lq][dv] */
  const float *mask;     /* additive, [batch][heads][lq][lk] with key stride 1; NULL for none */
  size_t q_len, k_len, v_len, k_scale_len, v_scale_len, out_len, mask_len;
  size_t batch, heads, kv_heads, lq, lk, d, dv, q_block, k_block;
  /* strides in elements for the batch, head and row dims (0 broadcasts; never negative) */
  ptrdiff_t q_stride[3], k_stride[3], v_stride[3], out_stride[3], mask_stride[3];
  /* strides in elements for the batch and head dims of the scales */
  ptrdiff_t k_scale_stride[2], v_scale_stride[2];
  float scale;
  ptrdiff_t band_lo, band_hi;
  /* 0, or a bound the caller did not check q against: a job whose query blocks do not all
   * have max |q| < q_limit (NaN and inf fail too) stops before writing and the call
   * returns FA_ERR_RANGE, so the caller can check q and rescale it only when it must. */
  float q_limit;
} fa_dense_i8_params;

/* Compiled variants, best first; the last is always "i8-scalar". */
extern const fa_variant fa_dense_i8_variants[];
extern const size_t fa_dense_i8_nvariants;

size_t fa_dense_i8_workspace_size(const fa_dense_i8_params *p);
fa_status fa_dense_i8(const fa_dense_i8_params *p, size_t index, size_t nthreads,
                      void *workspace, size_t workspace_size);

/* The checks of fa_dense_i8 (shared with the other int8 attention ops). */
fa_status fa_dense_i8_check(const fa_dense_i8_params *p);

#endif
