/* Linformer attention, float32 (Wang et al., 2020).
 *
 * out = softmax(scale q (E k)ᵀ) (F v) with E = proj_k, F = proj_v, each [r][lk] and
 * shared by every batch and head: the projections run as blocked GEMMs, then the dense
 * flash engine attends the r projected rows. No band and no mask (neither can be applied
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
  ptrdiff_t proj_k_rs, proj_v_rs;
  size_t r;                 /* 1 <= r <= lk */
} fa_linformer_f32_params;

typedef fa_status (*fa_linformer_f32_fn)(const fa_linformer_f32_params *p, size_t job,
                                         void *workspace);

typedef struct fa_linformer_f32_variant {
  const char *name;
  fa_isa isa;
  fa_linformer_f32_fn fn;
} fa_linformer_f32_variant;

extern const fa_linformer_f32_variant fa_linformer_f32_variants[];
extern const size_t fa_linformer_f32_nvariants;
size_t fa_linformer_f32_pick(fa_isa cap);
size_t fa_linformer_f32_workspace_size(const fa_linformer_f32_params *p);
fa_status fa_linformer_f32(const fa_linformer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size);

#endif
