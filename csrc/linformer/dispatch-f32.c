/* Linformer attention, float32: its variants, checks and entry point; common/driver.c does
 * the rest (one job per batch x head: its projections, then all its query rows). Built with
 * no ISA flags. */
#include "common/driver.h"
#include "fastattn/linformer.h"
#include "linformer/job-f32.h"

#define FA_OP linformer
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_linformer_f32_workspace_size(const fa_linformer_f32_params *p) {
  return fa_linformer_f32_job_workspace(p);
}

fa_status fa_linformer_f32_check(const fa_linformer_f32_params *p) {
  const fa_status s = fa_dense_f32_check(&p->attn);
  if (s != FA_OK) return s;
  if (p->attn.mask || p->attn.band_lo != -FA_BAND_NONE || p->attn.band_hi != FA_BAND_NONE)
    return FA_ERR_INVALID;
  if (p->r == 0 || p->r > p->attn.lk) return FA_ERR_SHAPE;
  const size_t shape[4] = {1, 1, p->r, p->attn.lk};
  const ptrdiff_t k_stride[3] = {0, 0, p->proj_k_rs}, v_stride[3] = {0, 0, p->proj_v_rs};
  const fa_status sk = fa_check_view(p->proj_k, p->proj_k_len, shape, k_stride);
  return sk != FA_OK ? sk : fa_check_view(p->proj_v, p->proj_v_len, shape, v_stride);
}

fa_status fa_linformer_f32(const fa_linformer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size) {
  const fa_status s = p ? fa_linformer_f32_check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  const fa_run run = FA_ATTN_RUN(p, &p->attn, p->attn.lq ? p->attn.lq : 1,
                                 fa_linformer_f32_workspace_size(p));
  return fa_drive(&run, fa_linformer_f32_variants, fa_linformer_f32_nvariants, index, nthreads,
                  workspace, workspace_size);
}
