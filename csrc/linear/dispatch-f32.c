/* Linear attention, float32: its variants, checks and entry point; lowrank/drive.c runs
 * it (one job per batch x kv head's query heads: the scan runs the whole sequence). Built
 * with no ISA flags. */
#include "fastattn/cpu.h"
#include "fastattn/linear.h"
#include "lowrank/drive.h"
#include "lowrank/scan.h"

#define FA_OP linear
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx512) X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_ELU1, p->attn.d, p->attn.dv, 0);
}

fa_status fa_linear_f32_check(const fa_linear_f32_params *p) {
  const fa_status s = fa_lr_check_attn(&p->attn, 1);
  if (s != FA_OK) return s;
  return p->feature_map == FA_FEATURE_ELU1 || p->feature_map == FA_FEATURE_RELU
             ? FA_OK
             : FA_ERR_INVALID;
}

#include "lowrank/entry.h"

_Static_assert(FA_LOWRANK_PAD_ROWS == FA_F32_MR_MAX, "the GEMM tile's padding rows");

/* The GEMM parts of each variant (fa_linear_f32_gemm), in the order of the variants. */
#define FA_LINEAR_GEMM_PROTO(isa) \
  void fa_linear_f32_gemm__##isa(const fa_linear_f32_gemm_params *p, void *workspace);
#define FA_LINEAR_GEMM_ENTRY(isa) fa_linear_f32_gemm__##isa,
FA_ISAS(FA_LINEAR_GEMM_PROTO)
static void (*const fa_linear_gemm_parts[])(const fa_linear_f32_gemm_params *, void *) = {
    FA_ISAS(FA_LINEAR_GEMM_ENTRY)};

size_t fa_linear_f32_gemm_workspace_size(const fa_linear_f32_gemm_params *p) {
  return p->d * p->dv * sizeof(float) + 64;
}

fa_status fa_linear_f32_gemm(const fa_linear_f32_gemm_params *p, size_t index, void *workspace,
                             size_t workspace_size) {
  if (!p || !workspace) return FA_ERR_NULL;
  const size_t c = FA_LOWRANK_CHUNK, pad = FA_LOWRANK_PAD_ROWS;
  if (p->lk % c || p->lq % c || p->d % 16 || p->dv % 16 || !p->d || !p->dv) return FA_ERR_SHAPE;
  if (!p->kft || !p->v || !p->qf || !p->s || !p->num) return FA_ERR_NULL;
  if (p->kft_len < (p->lk / c * p->d + pad) * c || p->v_len < p->lk * p->dv ||
      p->qf_len < (p->lq + pad) * p->d || p->s_len < (p->d + pad) * p->dv ||
      p->num_len < (p->lq + pad) * p->dv)
    return FA_ERR_BOUNDS;
  if (index >= fa_linear_f32_nvariants) return FA_ERR_VARIANT;
  if (!fa_cpu_has(fa_linear_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (workspace_size < fa_linear_f32_gemm_workspace_size(p)) return FA_ERR_WORKSPACE;
  fa_linear_gemm_parts[index](p, workspace);
  return FA_OK;
}

fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  return fa_lr_entry(p, index, nthreads, workspace, workspace_size);
}
