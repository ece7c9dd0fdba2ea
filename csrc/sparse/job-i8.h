/* The sparse int8 job: one query block of one batch x head, its listed key blocks,
 * on the int8 flash engine (flash/i8.h) in sub-blocks of FA_I8_MQ rows. Each
 * sparse/i8-<isa>.c instantiates it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_I8_H
#define FASTATTN_SPARSE_JOB_I8_H

#include "dense/job-i8.h"
#include "fastattn/sparse.h"
#include "sparse/layout.h"

static inline fa_status fa_sparse_i8_job(const fa_i8_ukernels *uk, const void *params,
                                          const fa_job *job, void *workspace) {
  const fa_sparse_i8_params *sp = (const fa_sparse_i8_params *)params;
  const fa_sparse_layout *l = &sp->layout;
  fa_i8_problem prob = fa_dense_i8_head(&sp->attn, job->b, job->h);
  prob.q_global = l->q_global, prob.k_global = l->k_global, prob.global_hi = l->global_hi;
  fa_range *ranges;
  const size_t nranges = fa_sparse_job_ranges(l, sp->attn.heads, sp->attn.lk, job, workspace, &ranges);
  void *flash_ws = (char *)workspace + fa_sparse_ranges_bytes(l);
  for (size_t q0 = job->q0; q0 < job->q1; q0 += FA_I8_MQ) {
    const size_t q1 = q0 + FA_I8_MQ < job->q1 ? q0 + FA_I8_MQ : job->q1;
    fa_i8_flash(uk, &prob, q0, q1, ranges, nranges, flash_ws);
  }
  return FA_OK;
}

#endif
