/* Linformer attention, float32 (Wang et al., 2020).
 *
 * out = softmax(scale q (E k)ᵀ) (F v) with E = proj_k, F = proj_v, each [r][lk] and
 * shared by every batch and head: the projections run as blocked GEMMs (once per kv head),
 * then every query head attends the r projected rows with an exact softmax (all r scores
 * of a block of query rows at once). No band and no mask (neither can be applied
 * exactly after the projection). */
#ifndef FASTATTN_LINFORMER_H
#define FASTATTN_LINFORMER_H

#include "fastattn/dense.h"

/* Keys per block of the projection GEMMs. */
#define FA_LINFORMER_KC 256

typedef struct fa_linformer_f32_params {
  fa_dense_f32_params attn; /* mask NULL, band_lo = -FA_BAND_NONE, band_hi = FA_BAND_NONE */
  const float *proj_k;      /* [r][lk], last dim contiguous */
  const float *proj_v;      /* [r][lk]; may equal proj_k */
  size_t proj_k_len, proj_v_len; /* elements reachable from each */
  ptrdiff_t proj_k_rs, proj_v_rs;
  size_t r;                 /* 1 <= r <= lk */
} fa_linformer_f32_params;

/* Compiled variants, best first; the last is always "f32-scalar". One job per batch x kv head
 * (or per part of its query heads when there are more threads than kv heads). */
extern const fa_variant fa_linformer_f32_variants[];
extern const size_t fa_linformer_f32_nvariants;
size_t fa_linformer_f32_workspace_size(const fa_linformer_f32_params *p);
/* Checks p (fa_linformer_f32_check), then runs variant `index` on `nthreads` threads. */
fa_status fa_linformer_f32(const fa_linformer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size);

/* The checks of fa_linformer_f32: the attention fields (as dense.h), then the op's own. */
fa_status fa_linformer_f32_check(const fa_linformer_f32_params *p);

#endif
