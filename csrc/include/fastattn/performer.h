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
#include "fastattn/linear.h" /* FA_LOWRANK_CHUNK, FA_LOWRANK_PAD_ROWS */

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

/* The GEMM-shaped parts of one head of (non-causal) Performer alone, through the GEMM calls
 * of the scan (lowrank/scan.h: the key features W'kᵀ of fa_lr_load_keys, the state update of
 * fa_lr_absorb, the query features q W'ᵀ of fa_lr_load_queries, the readout of
 * fa_lr_read_chunk) with nothing between them (no exp, no shifts), so that their own speed
 * can be measured: per chunk of FA_LOWRANK_CHUNK keys kf = w kct[c] and s += kf v[c]; s
 * packed in panels once, w transposed into panels once; per chunk of queries qf = q wᵀ and
 * num = qf s. Layouts (contiguous float32): w [m + FA_LOWRANK_PAD_ROWS][d]; kct [lk / C][d][C]
 * (the keys transposed by chunk); v [lk][dv]; q [lq + FA_LOWRANK_PAD_ROWS][d]; s
 * [m + FA_LOWRANK_PAD_ROWS][dv]; num [lq + FA_LOWRANK_PAD_ROWS][dv] (padding rows of w and q
 * are read: zero them; those of s and num receive values that mean nothing). lk and lq
 * multiples of C; d, dv and m multiples of 16 (fa_performer_f32_gemm_workspace_size). */
typedef struct fa_performer_f32_gemm_params {
  size_t d, dv, m, lk, lq;
  const float *w; size_t w_len;
  const float *kct; size_t kct_len;
  const float *v; size_t v_len;
  const float *q; size_t q_len;
  float *s; size_t s_len;
  float *num; size_t num_len;
} fa_performer_f32_gemm_params;

size_t fa_performer_f32_gemm_workspace_size(const fa_performer_f32_gemm_params *p);
/* Runs the GEMM parts with variant `index` of fa_performer_f32_variants, on the calling thread. */
fa_status fa_performer_f32_gemm(const fa_performer_f32_gemm_params *p, size_t index,
                                void *workspace, size_t workspace_size);

#endif
