/* One Performer (FAVOR+) job (one batch x head) on the low-rank scan. */
#ifndef FASTATTN_PERFORMER_JOB_H
#define FASTATTN_PERFORMER_JOB_H

#include "dense/job-f32.h"
#include "fastattn/variant.h"
#include "fastattn/performer.h"
#include "lowrank/scan.h"

static inline size_t fa_performer_f32_job_workspace(const fa_performer_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_FAVOR, p->attn.d, p->attn.dv, p->m);
}

/* The whole sequence of one (batch, head): the driver runs one job per head (rows = lq). */
static inline fa_status fa_performer_f32_job(const fa_lr_ukernels *uk, const void *params,
                                       const fa_job *job, void *workspace) {
  const fa_performer_f32_params *p = (const fa_performer_f32_params *)params;
  const fa_lr_scan scan = {
      .attn = fa_dense_f32_head(&p->attn, job->b, job->h),
      .lq = p->attn.lq,
      .kind = FA_LR_FAVOR,
      .w = p->features,
      .w_rs = p->features_rs,
      .m = p->m};
  fa_lr_scan_run(uk, &scan, workspace);
  return FA_OK;
}

#endif
