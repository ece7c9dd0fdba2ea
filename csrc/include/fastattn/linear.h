/* Kernelised linear attention, float32 (Katharopoulos et al., 2020).
 *
 * out[b, h, i, :] = phi(q_i) . S_i / phi(q_i) . z_i  with  S_i = sum_j phi(k_j) v_jᵀ,
 * z_i = sum_j phi(k_j), the sums over the keys j with j - i <= band_hi (causal:
 * band_hi = Lk - Lq, bottom-right; FA_BAND_NONE: every key), grouped-query heads as in
 * dense.h. A row whose denominator is 0 (no visible key) gets zeros. Causal sums are
 * chunked prefix sums over FA_LOWRANK_CHUNK rows: no Lq x Lk array, workspace O(D Dv). */
#ifndef FASTATTN_LINEAR_H
#define FASTATTN_LINEAR_H

#include "fastattn/dense.h"

/* Rows per chunk of the causal scans (linear and Performer). */
#define FA_LOWRANK_CHUNK 64

typedef enum fa_feature_map {
  FA_FEATURE_ELU1 = 0, /* elu(x) + 1 */
  FA_FEATURE_RELU = 1  /* max(x, 0) */
} fa_feature_map;

typedef struct fa_linear_f32_params {
  fa_dense_f32_params attn; /* mask NULL, band_lo = -FA_BAND_NONE; scale unused */
  fa_feature_map feature_map;
} fa_linear_f32_params;

/* Compiled variants, best first; the last is always "f32-scalar". One job per batch x kv head
 * (or per part of its query heads when there are more threads than kv heads). */
extern const fa_variant fa_linear_f32_variants[];
extern const size_t fa_linear_f32_nvariants;
size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p);
/* Checks p (fa_linear_f32_check), then runs variant `index` on `nthreads` threads. */
fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size);

/* The checks of fa_linear_f32: the attention fields (as dense.h), then the op's own. */
fa_status fa_linear_f32_check(const fa_linear_f32_params *p);


#endif
