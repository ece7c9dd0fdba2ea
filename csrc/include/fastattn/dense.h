/* Dense scaled dot-product attention, float32.
 *
 * out[b, h, i, :] = softmax_j(scale * q[b,h,i,:] . k[b,h',j,:] + mask[b,h,i,j]) v[b,h',j,:]
 * with h' = h / (heads / kv_heads) (grouped-query attention) and key j visible
 * to query i only when band_lo <= j - i <= band_hi (causal: band_hi = Lk - Lq
 * for bottom-right alignment, 0 for top-left; band_lo = FA_BAND_NONE).
 * A query row that sees no key gets zeros. */
#ifndef FASTATTN_DENSE_H
#define FASTATTN_DENSE_H

#include <stddef.h>
#include "fastattn/cpu.h"
#include "fastattn/status.h"

/* "No limit" for a band edge: far outside any index, safe to add to one. */
#define FA_BAND_NONE ((ptrdiff_t)1 << 60)

typedef struct fa_dense_f32_params {
  const float *q;      /* [batch][heads][lq][d], last dim contiguous */
  const float *k;      /* [batch][kv_heads][lk][d] */
  const float *v;      /* [batch][kv_heads][lk][dv] */
  float *out;          /* [batch][heads][lq][dv] */
  const float *mask;   /* additive, [batch][heads][lq][lk] with key stride 1; NULL for none */
  size_t batch, heads, kv_heads, lq, lk, d, dv;
  /* strides in elements for the batch, head and row dims (0 broadcasts) */
  ptrdiff_t q_stride[3], k_stride[3], v_stride[3], out_stride[3], mask_stride[3];
  float scale;
  ptrdiff_t band_lo, band_hi;
} fa_dense_f32_params;

/* One job: query rows of one query tile of one (batch, head). */
typedef fa_status (*fa_dense_f32_fn)(const fa_dense_f32_params *p, size_t job, void *workspace);

typedef struct fa_dense_f32_variant {
  const char *name; /* "f32-<isa>" */
  fa_isa isa;
  fa_dense_f32_fn fn;
} fa_dense_f32_variant;

/* Compiled variants, best first; the last is always "f32-scalar". */
extern const fa_dense_f32_variant fa_dense_f32_variants[];
extern const size_t fa_dense_f32_nvariants;

/* Index of the best variant this CPU runs with no ISA above `cap`. */
size_t fa_dense_f32_pick(fa_isa cap);

/* Bytes of workspace each thread needs (the caller provides nthreads times this). */
size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p);

/* Runs variant `index` on `nthreads` threads. */
fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size);

#endif
