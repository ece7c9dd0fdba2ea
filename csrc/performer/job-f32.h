/* One Performer (FAVOR+) job (the query heads of one batch x kv head) on the low-rank
 * scan; each ISA file calls it with its own micro-kernels. */
#ifndef FASTATTN_PERFORMER_JOB_H
#define FASTATTN_PERFORMER_JOB_H

#include "fastattn/performer.h"
#include "lowrank/scan.h"

static inline fa_status fa_performer_f32_job(const fa_lr_ukernels *uk, const void *params,
                                             const fa_job *job, void *workspace) {
  const fa_lr_job_params *jp = (const fa_lr_job_params *)params;
  const fa_performer_f32_params *p = (const fa_performer_f32_params *)jp->op;
  fa_lr_scan scan = fa_lr_scan_of(jp, &p->attn, job, FA_LR_FAVOR);
  scan.w = p->features;
  scan.w_rs = p->features_rs;
  scan.m = p->m;
  fa_lr_scan_run(uk, &scan, workspace);
  return FA_OK;
}

/* fa_performer_f32_gemm (fastattn/performer.h) on this ISA's tile: the scan's four GEMM calls
 * per chunk with the scan's prefetching of the next chunk's inputs, nothing else. */
static inline void fa_performer_gemm_parts(const fa_lr_ukernels *lr,
                                           const fa_performer_f32_gemm_params *p,
                                           void *workspace) {
  const fa_f32_ukernels *uk = lr->mm;
  const size_t c = FA_LOWRANK_CHUNK, d = p->d, dv = p->dv, m = p->m;
  fa_lr_arena arena = fa_lr_arena_start(workspace);
  float *kft = fa_lr_take(&arena, fa_lr_rows(m) * c), *qf = fa_lr_take(&arena, fa_lr_rows(c) * m);
  float *sp = fa_lr_take(&arena, m * dv), *wt = fa_lr_take(&arena, d * m);
  for (size_t l = 0; l < m; l++) /* W'ᵀ in panels, as fa_lr_pack_features lays it out */
    for (size_t x = 0; x < d; x++) wt[(l & ~(size_t)15) * d + x * FA_F32_NR + (l & 15)] = p->w[l * d + x];
  memset(p->s, 0, fa_lr_rows(m) * dv * sizeof(float));
  fa_lr_pf pf;
  fa_lr_pf_init(&pf, NULL); /* no output rows */
  for (size_t j0 = 0; j0 < p->lk; j0 += c) {
    const size_t ahead = j0 + FA_LR_AHEAD * c;
    fa_lr_pf_reset(&pf);
    if (ahead < p->lk) fa_lr_pf_add(&pf, p->kct + ahead * d, (ptrdiff_t)c, 0, d, d, c, 0);
    fa_lr_pf_add(&pf, p->v, (ptrdiff_t)dv, ahead, ahead + c, p->lk, dv, 0);
    fa_lr_pf_pace(&pf, fa_lr_gemm_calls(uk, m, c, d) + fa_lr_gemm_calls(uk, m, dv, c));
    fa_lr_gemm(uk, m, c, d, p->w, d, p->kct + j0 * d, c, kft, c, 0, &pf);
    fa_lr_gemm(uk, m, dv, c, kft, c, p->v + j0 * dv, dv, p->s, dv, 1, &pf);
  }
  fa_lr_pack_panels(p->s, dv, m, dv, sp);
  for (size_t i0 = 0; i0 < p->lq; i0 += c) {
    const size_t ahead = i0 + FA_LR_AHEAD * c;
    fa_lr_pf_reset(&pf);
    fa_lr_pf_add(&pf, p->q, (ptrdiff_t)d, ahead, ahead + c, p->lq, d, 0);
    fa_lr_pf_add(&pf, p->num, (ptrdiff_t)dv, ahead, ahead + c, p->lq, dv, 1);
    fa_lr_pf_pace(&pf, fa_lr_gemm_calls(uk, c, m, d) + fa_lr_gemm_calls(uk, c, dv, m));
    fa_lr_gemm_packed(uk, c, m, d, p->q + i0 * d, d, wt, qf, m, 0, &pf);
    fa_lr_gemm_packed(uk, c, dv, m, qf, m, sp, p->num + i0 * dv, dv, 0, &pf);
  }
}

#endif
