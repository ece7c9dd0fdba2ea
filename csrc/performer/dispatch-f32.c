/* Performer (FAVOR+) attention, float32: its variants, checks and entry point;
 * lowrank/drive.c runs it (one job per batch x kv head's query heads). Built with no ISA
 * flags. */
#include <math.h>

#include "fastattn/cpu.h"
#include "fastattn/performer.h"
#include "lowrank/drive.h"
#include "lowrank/scan.h"

#define FA_OP performer
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx512) X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_FAVOR, p->attn.d, p->attn.dv, p->m);
}

fa_status fa_performer_f32_check(const fa_performer_f32_params *p) {
  const fa_status s = fa_lr_check_attn(&p->attn, 1);
  if (s != FA_OK) return s;
  if (!(p->attn.scale > 0.0f) || !isfinite(p->attn.scale)) return FA_ERR_INVALID;
  if (p->m == 0 || p->m >= (1u << 16)) return FA_ERR_SHAPE;
  const size_t shape[4] = {1, 1, p->m, p->attn.d};
  const ptrdiff_t stride[3] = {0, 0, p->features_rs};
  return fa_check_view(p->features, p->features_len, shape, stride);
}

#include "lowrank/entry.h"

fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size) {
  return fa_lr_entry(p, index, nthreads, workspace, workspace_size);
}

/* The GEMM parts of each variant (fa_performer_f32_gemm), in the order of the variants. */
#define FA_PERFORMER_GEMM_PROTO(isa) \
  void fa_performer_f32_gemm__##isa(const fa_performer_f32_gemm_params *p, void *workspace);
#define FA_PERFORMER_GEMM_ENTRY(isa) fa_performer_f32_gemm__##isa,
FA_ISAS(FA_PERFORMER_GEMM_PROTO)
static void (*const fa_performer_gemm_table[])(const fa_performer_f32_gemm_params *, void *) = {
    FA_ISAS(FA_PERFORMER_GEMM_ENTRY)};

size_t fa_performer_f32_gemm_workspace_size(const fa_performer_f32_gemm_params *p) {
  const size_t floats[4] = {fa_lr_rows(p->m) * FA_LOWRANK_CHUNK,
                            fa_lr_rows(FA_LOWRANK_CHUNK) * p->m, p->m * p->dv, p->d * p->m};
  return fa_lr_bytes(floats, 4);
}

fa_status fa_performer_f32_gemm(const fa_performer_f32_gemm_params *p, size_t index,
                                void *workspace, size_t workspace_size) {
  if (!p || !workspace) return FA_ERR_NULL;
  const size_t c = FA_LOWRANK_CHUNK, pad = FA_LOWRANK_PAD_ROWS;
  if (p->lk % c || p->lq % c || p->d % 16 || p->dv % 16 || p->m % 16 || !p->d || !p->dv ||
      !p->m)
    return FA_ERR_SHAPE;
  if (!p->w || !p->kct || !p->v || !p->q || !p->s || !p->num) return FA_ERR_NULL;
  if (p->w_len < (p->m + pad) * p->d || p->kct_len < p->lk * p->d ||
      p->v_len < p->lk * p->dv || p->q_len < (p->lq + pad) * p->d ||
      p->s_len < (p->m + pad) * p->dv || p->num_len < (p->lq + pad) * p->dv)
    return FA_ERR_BOUNDS;
  if (index >= fa_performer_f32_nvariants) return FA_ERR_VARIANT;
  if (!fa_cpu_has(fa_performer_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (workspace_size < fa_performer_f32_gemm_workspace_size(p)) return FA_ERR_WORKSPACE;
  fa_performer_gemm_table[index](p, workspace);
  return FA_OK;
}
