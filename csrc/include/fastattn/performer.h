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
  ptrdiff_t features_rs;    /* row stride in elements */
  size_t m;                 /* number of random features, 1 <= m < 2^16 */
} fa_performer_f32_params;

typedef fa_status (*fa_performer_f32_fn)(const fa_performer_f32_params *p, size_t job,
                                         void *workspace);

typedef struct fa_performer_f32_variant {
  const char *name;
  fa_isa isa;
  fa_performer_f32_fn fn;
} fa_performer_f32_variant;

extern const fa_performer_f32_variant fa_performer_f32_variants[];
extern const size_t fa_performer_f32_nvariants;
size_t fa_performer_f32_pick(fa_isa cap);
size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p);
fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size);

#endif
