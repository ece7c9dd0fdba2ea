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

#endif
