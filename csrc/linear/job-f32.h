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

#endif
