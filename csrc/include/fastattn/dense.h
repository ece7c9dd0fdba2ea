/* Dense scaled dot-product attention, float32.
 *
 * out[b, h, i, :] = softmax_j(scale * q[b,h,i,:] . k[b,h',j,:] + mask[b,h,i,j]) v[b,h',j,:]
 * with h' = h / (heads / kv_heads) (grouped-query attention) and key j visible
 * to query i only when band_lo <= j - i <= band_hi (causal: band_hi = Lk - Lq
 * for bottom-right alignment, 0 for top-left; band_lo = FA_BAND_NONE).
 * A query row that sees no key gets zeros (so does every row when lk is 0). */
#ifndef FASTATTN_DENSE_H
#define FASTATTN_DENSE_H

#include <stddef.h>
#include "fastattn/status.h"
#include "fastattn/variant.h"

/* "No limit" for a band edge: far outside any index, safe to add to one. */
#define FA_BAND_NONE ((ptrdiff_t)1 << 60)

/* Every array comes with its length in elements from its pointer (*_len), which the
 * entry point checks against the sizes and strides before reading or writing. */
typedef struct fa_dense_f32_params {
  const float *q;      /* [batch][heads][lq][d], last dim contiguous */
  const float *k;      /* [batch][kv_heads][lk][d] */
  const float *v;      /* [batch][kv_heads][lk][dv] */
  float *out;          /* [batch][heads][lq][dv] */
  const float *mask;   /* additive, [batch][heads][lq][lk] with key stride 1; NULL for none */
  size_t q_len, k_len, v_len, out_len, mask_len;
  size_t batch, heads, kv_heads, lq, lk, d, dv;
  /* strides in elements for the batch, head and row dims (0 broadcasts; never negative) */
  ptrdiff_t q_stride[3], k_stride[3], v_stride[3], out_stride[3], mask_stride[3];
  float scale;
  ptrdiff_t band_lo, band_hi;
} fa_dense_f32_params;

/* Compiled variants, best first; the last is always "f32-scalar". */
extern const fa_variant fa_dense_f32_variants[];
extern const size_t fa_dense_f32_nvariants;

/* Bytes of workspace each thread needs (the caller provides nthreads times this). */
size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p);

/* Checks p, then runs variant `index` on `nthreads` threads. */
fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size);

/* The checks of fa_dense_f32 (shared with the other float32 attention ops). */
fa_status fa_dense_f32_check(const fa_dense_f32_params *p);

#endif
