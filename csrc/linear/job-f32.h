/* One linear-attention job (one batch x head) on the low-rank scan; each ISA file calls
 * it with its own micro-kernels. */
#ifndef FASTATTN_LINEAR_JOB_H
#define FASTATTN_LINEAR_JOB_H

#include "dense/job-f32.h"
#include "fastattn/variant.h"
#include "fastattn/linear.h"
#include "lowrank/scan.h"

static inline size_t fa_linear_f32_job_workspace(const fa_linear_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_ELU1, p->attn.d, p->attn.dv, 0);
}

/* The whole sequence of one (batch, head): the driver runs one job per head (rows = lq). */
static inline fa_status fa_linear_f32_job(const fa_lr_ukernels *uk, const void *params,
                                       const fa_job *job, void *workspace) {
  const fa_linear_f32_params *p = (const fa_linear_f32_params *)params;
  const fa_lr_scan scan = {
      .attn = fa_dense_f32_head(&p->attn, job->b, job->h),
      .lq = p->attn.lq,
      .kind = p->feature_map == FA_FEATURE_RELU ? FA_LR_RELU : FA_LR_ELU1};
  fa_lr_scan_run(uk, &scan, workspace);
  return FA_OK;
}

#endif
