/* Linformer attention, float32: its variants, checks and entry point; lowrank/drive.c runs
 * it (one job per batch x kv head's query heads: the projections once, then every query
 * row of each head). Built with no ISA flags. */
#include "fastattn/linformer.h"
#include "linformer/job-f32.h"
#include "lowrank/drive.h"

#define FA_OP linformer
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx512) X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_linformer_f32_workspace_size(const fa_linformer_f32_params *p) {
  return fa_linformer_f32_job_workspace(p);
}

fa_status fa_linformer_f32_check(const fa_linformer_f32_params *p) {
  const fa_status s = fa_lr_check_attn(&p->attn, 0);
  if (s != FA_OK) return s;
  if (p->r == 0 || p->r > p->attn.lk) return FA_ERR_SHAPE;
  const size_t shape[4] = {1, 1, p->r, p->attn.lk};
  const ptrdiff_t k_stride[3] = {0, 0, p->proj_k_rs}, v_stride[3] = {0, 0, p->proj_v_rs};
  const fa_status sk = fa_check_view(p->proj_k, p->proj_k_len, shape, k_stride);
  return sk != FA_OK ? sk : fa_check_view(p->proj_v, p->proj_v_len, shape, v_stride);
}

#include "lowrank/entry.h"

fa_status fa_linformer_f32(const fa_linformer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size) {
  return fa_lr_entry(p, index, nthreads, workspace, workspace_size);
}
