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

/* The GEMM-shaped parts of one head of (non-causal) linear attention alone, on features
 * already computed, through the same GEMM calls the scan makes, so that their own speed can
 * be measured: S = sum over chunks c of kft[c] v[c] (the state update phi(K)ᵀ V, a chunk of
 * FA_LOWRANK_CHUNK keys at a time), S packed in panels once, then num = qf S (the readout
 * phi(Q) S, a chunk of queries at a time). Layouts (contiguous, float32): kft is phi(K)ᵀ in
 * chunks, [lk / C][d][C] and FA_LOWRANK_PAD_ROWS rows of C more; v is [lk][dv]; qf is [lq + FA_LOWRANK_PAD_ROWS][d]; s is
 * [d + FA_LOWRANK_PAD_ROWS][dv]; num is [lq + FA_LOWRANK_PAD_ROWS][dv] (the padding rows of kft
 * and qf are read, zero them; those of s and num receive values that mean nothing). lk and lq
 * multiples of C, d and dv multiples of 16; the workspace holds d x dv floats plus 64 bytes
 * (fa_linear_f32_gemm_workspace_size). */
#define FA_LOWRANK_PAD_ROWS 8
typedef struct fa_linear_f32_gemm_params {
  size_t d, dv, lk, lq;
  const float *kft; size_t kft_len;
  const float *v; size_t v_len;
  const float *qf; size_t qf_len;
  float *s; size_t s_len;
  float *num; size_t num_len;
} fa_linear_f32_gemm_params;

size_t fa_linear_f32_gemm_workspace_size(const fa_linear_f32_gemm_params *p);
/* Runs the GEMM parts with variant `index` of fa_linear_f32_variants, on the calling thread. */
fa_status fa_linear_f32_gemm(const fa_linear_f32_gemm_params *p, size_t index, void *workspace,
                             size_t workspace_size);


#endif
