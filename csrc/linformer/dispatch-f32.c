/* Linformer attention, float32: its variants, checks and entry point; lowrank/drive.c runs
 * it (one job per batch x kv head's query heads: the projections once, then every query
 * row of each head). Built with no ISA flags. */
#include "fastattn/cpu.h"
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

/* The GEMM parts of each variant (fa_linformer_f32_gemm), in the order of the variants. */
#define FA_LINFORMER_GEMM_PROTO(isa) \
  void fa_linformer_f32_gemm__##isa(const fa_linformer_f32_gemm_params *p, void *workspace);
#define FA_LINFORMER_GEMM_ENTRY(isa) fa_linformer_f32_gemm__##isa,
FA_ISAS(FA_LINFORMER_GEMM_PROTO)
static void (*const fa_linformer_gemm_table[])(const fa_linformer_f32_gemm_params *, void *) = {
    FA_ISAS(FA_LINFORMER_GEMM_ENTRY)};

size_t fa_linformer_f32_gemm_workspace_size(const fa_linformer_f32_gemm_params *p) {
  const size_t floats[4] = {FA_F32_MR_MAX * FA_LINFORMER_KC, p->d * p->r, p->r * p->dv,
                            fa_lr_rows(fa_linformer_rows(FA_F32_MR_MAX)) * p->r};
  return fa_lr_bytes(floats, 4);
}

fa_status fa_linformer_f32_gemm(const fa_linformer_f32_gemm_params *p, size_t index,
                                void *workspace, size_t workspace_size) {
  if (!p || !workspace) return FA_ERR_NULL;
  const size_t pad = FA_LOWRANK_PAD_ROWS;
  if (p->lk % FA_LINFORMER_KC || p->r % 16 || p->d % 16 || p->dv % 16 || p->lq % 16 ||
      !p->lk || !p->r || !p->d || !p->dv || p->r > p->lk)
    return FA_ERR_SHAPE;
  if (!p->e || !p->kb || !p->vb || !p->q || !p->kp || !p->vp || !p->out) return FA_ERR_NULL;
  if (p->e_len < p->r * p->lk || p->kb_len < p->lk * p->d || p->vb_len < p->lk * p->dv ||
      p->q_len < (p->lq + pad) * p->d || p->kp_len < (p->r + pad) * p->d ||
      p->vp_len < (p->r + pad) * p->dv || p->out_len < (p->lq + pad) * p->dv)
    return FA_ERR_BOUNDS;
  if (index >= fa_linformer_f32_nvariants) return FA_ERR_VARIANT;
  if (!fa_cpu_has(fa_linformer_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (workspace_size < fa_linformer_f32_gemm_workspace_size(p)) return FA_ERR_WORKSPACE;
  fa_linformer_gemm_table[index](p, workspace);
  return FA_OK;
}
