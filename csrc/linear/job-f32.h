/* One linear-attention job (the query heads of one batch x kv head) on the low-rank scan;
 * each ISA file calls it with its own micro-kernels. */
#ifndef FASTATTN_LINEAR_JOB_H
#define FASTATTN_LINEAR_JOB_H

#include "fastattn/linear.h"
#include "lowrank/scan.h"

static inline fa_status fa_linear_f32_job(const fa_lr_ukernels *uk, const void *params,
                                          const fa_job *job, void *workspace) {
  const fa_lr_job_params *jp = (const fa_lr_job_params *)params;
  const fa_linear_f32_params *p = (const fa_linear_f32_params *)jp->op;
  const int kind = p->feature_map == FA_FEATURE_RELU ? FA_LR_RELU : FA_LR_ELU1;
  const fa_lr_scan scan = fa_lr_scan_of(jp, &p->attn, job, kind);
  fa_lr_scan_run(uk, &scan, workspace);
  return FA_OK;
}

/* fa_linear_f32_gemm (fastattn/linear.h) on this ISA's tile: fa_lr_absorb's state update and
 * fa_lr_read_chunk's readout with the scan's prefetching, nothing else. */
static inline void fa_lr_gemm_parts(const fa_lr_ukernels *uk, const fa_linear_f32_gemm_params *p,
                                    void *workspace) {
  const size_t c = FA_LOWRANK_CHUNK, d = p->d, dv = p->dv;
  float *sp = fa_lr_arena_start(workspace).next;
  memset(p->s, 0, d * dv * sizeof(float));
  fa_lr_pf pf;
  fa_lr_pf_init(&pf, NULL); /* no output rows */
  for (size_t j0 = 0; j0 < p->lk; j0 += c) {
    fa_lr_pf_reset(&pf);
    fa_lr_pf_add(&pf, p->kft + j0 * d, (ptrdiff_t)c, FA_LR_AHEAD * d, (FA_LR_AHEAD + 1) * d,
                 (p->lk - j0) / c * d, c, 0);
    fa_lr_pf_add(&pf, p->v + j0 * dv, (ptrdiff_t)dv, FA_LR_AHEAD * c, (FA_LR_AHEAD + 1) * c,
                 p->lk - j0, dv, 0);
    fa_lr_pf_pace(&pf, fa_lr_gemm_calls(uk->mm, d, dv, c));
    fa_lr_gemm(uk->mm, d, dv, c, p->kft + j0 * d, c, p->v + j0 * dv, dv, p->s, dv, 1, &pf);
  }
  fa_lr_pack_panels(p->s, dv, d, dv, sp);
  for (size_t i0 = 0; i0 < p->lq; i0 += c) {
    fa_lr_pf_reset(&pf);
    fa_lr_pf_add(&pf, p->qf, (ptrdiff_t)d, i0 + FA_LR_AHEAD * c, i0 + (FA_LR_AHEAD + 1) * c,
                 p->lq, d, 0);
    fa_lr_pf_add(&pf, p->num, (ptrdiff_t)dv, i0 + FA_LR_AHEAD * c, i0 + (FA_LR_AHEAD + 1) * c,
                 p->lq, dv, 1);
    fa_lr_pf_pace(&pf, fa_lr_gemm_calls(uk->mm, c, dv, d));
    fa_lr_gemm_packed(uk->mm, c, dv, d, p->qf + i0 * d, d, sp, p->num + i0 * dv, dv, 0, &pf);
  }
}

#endif
