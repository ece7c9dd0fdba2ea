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
#include "fastattn/linear.h" /* FA_LOWRANK_CHUNK, FA_LOWRANK_PAD_ROWS */

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

/* The GEMM-shaped parts of one head of Linformer alone (one projection e for keys and values),
 * through the GEMM calls of linformer/job-f32.h with nothing between them (no softmax, no
 * scaling), so that their own speed can be measured: per block of FA_LINFORMER_KC keys, each
 * row tile of e copied contiguous as the kernel does, kp += e k and vp += e v; kpᵀ and vp
 * packed in panels; per block of query rows out = (q kpᵀ) vp. Layouts (contiguous float32):
 * e [r][lk]; kb, vb the keys and values of each block in panels, [lk / KC][d / 16][KC][16] and
 * [lk / KC][dv / 16][KC][16]; q [lq + FA_LOWRANK_PAD_ROWS][d] (padding rows read: zero them);
 * kp [r + FA_LOWRANK_PAD_ROWS][d], vp [r + FA_LOWRANK_PAD_ROWS][dv], out
 * [lq + FA_LOWRANK_PAD_ROWS][dv] (padding rows receive values that mean nothing). lk a
 * multiple of KC; r, d, dv and lq multiples of 16 (fa_linformer_f32_gemm_workspace_size). */
typedef struct fa_linformer_f32_gemm_params {
  size_t d, dv, r, lk, lq;
  const float *e; size_t e_len;
  const float *kb; size_t kb_len;
  const float *vb; size_t vb_len;
  const float *q; size_t q_len;
  float *kp; size_t kp_len;
  float *vp; size_t vp_len;
  float *out; size_t out_len;
} fa_linformer_f32_gemm_params;

size_t fa_linformer_f32_gemm_workspace_size(const fa_linformer_f32_gemm_params *p);
/* Runs the GEMM parts with variant `index` of fa_linformer_f32_variants, on the calling thread. */
fa_status fa_linformer_f32_gemm(const fa_linformer_f32_gemm_params *p, size_t index,
                                void *workspace, size_t workspace_size);

#endif
