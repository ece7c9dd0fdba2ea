/* The sparse float32 job: one query block of one batch x head, its listed key blocks,
 * on the flash engine (flash/f32.h) in sub-blocks of FA_F32_MQ rows. Each
 * sparse/f32-<isa>.c instantiates it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_F32_H
#define FASTATTN_SPARSE_JOB_F32_H

#include "dense/job-f32.h"
#include "fastattn/sparse.h"
#include "sparse/layout.h"

static inline fa_status fa_sparse_f32_job(const fa_f32_ukernels *uk, const void *params,
                                          const fa_job *job, void *workspace) {
  const fa_sparse_f32_params *sp = (const fa_sparse_f32_params *)params;
  const fa_sparse_layout *l = &sp->layout;
  fa_f32_problem prob = fa_dense_f32_head(&sp->attn, job->b, job->h);
  prob.q_global = l->q_global, prob.k_global = l->k_global, prob.global_hi = l->global_hi;
  fa_range *ranges;
  const size_t nranges = fa_sparse_job_ranges(l, sp->attn.heads, sp->attn.lk, job, workspace, &ranges);
  void *flash_ws = (char *)workspace + fa_sparse_ranges_bytes(l);
  for (size_t q0 = job->q0; q0 < job->q1; q0 += FA_F32_MQ) {
    const size_t q1 = q0 + FA_F32_MQ < job->q1 ? q0 + FA_F32_MQ : job->q1;
    fa_f32_flash(uk, &prob, q0, q1, ranges, nranges, flash_ws);
  }
  return FA_OK;
}

#endif
