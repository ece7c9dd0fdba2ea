/* Performer attention, FAVOR+, float32 (Choromanski et al., 2021).
 *
 * An estimate of softmax(scale q kᵀ) v: linear attention (linear.h, same band and
 * chunking) with the positive random features
 *   phi(x) = exp(w_l . x' - |x'|²/2),  x' = sqrt(scale) x,  l < m
 * (the 1/sqrt(m) factor cancels and is left out). Stable: each query row is shifted by
 * its largest exponent, the keys by the running largest key exponent (the state is
 * rescaled when it grows), both of which cancel in the ratio. */
#ifndef FASTATTN_PERFORMER_H
#define FASTATTN_PERFORMER_H

#include "fastattn/dense.h"

typedef struct fa_performer_f32_params {
  fa_dense_f32_params attn; /* mask NULL, band_lo = -FA_BAND_NONE; scale as in softmax */
  const float *features;    /* [m][d], last dim contiguous */
  size_t features_len;      /* elements reachable from features */
  ptrdiff_t features_rs;    /* row stride in elements */
  size_t m;                 /* number of random features, 1 <= m < 2^16 */
} fa_performer_f32_params;

/* Compiled variants, best first; the last is always "f32-scalar". One job per batch x kv head
 * (or per part of its query heads when there are more threads than kv heads). */
extern const fa_variant fa_performer_f32_variants[];
extern const size_t fa_performer_f32_nvariants;
size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p);
/* Checks p (fa_performer_f32_check), then runs variant `index` on `nthreads` threads. */
fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size);

/* The checks of fa_performer_f32: the attention fields (as dense.h), then the op's own. */
fa_status fa_performer_f32_check(const fa_performer_f32_params *p);

#endif
