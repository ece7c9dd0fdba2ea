/* The sparse float32 job, fa_sparse_f32_job(): FA_SPARSE_JOB (sparse/op.h) on the float32
 * flash engine (flash/f32.h) in sub-blocks of FA_F32_MQ rows. Each sparse/f32-<isa>.c
 * instantiates it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_F32_H
#define FASTATTN_SPARSE_JOB_F32_H

#include "dense/job-f32.h"
#include "fastattn/sparse.h"
#include "sparse/op.h"

static inline fa_status fa_sparse_f32_run(const fa_f32_ukernels *uk, const fa_f32_problem *p,
                                          size_t q0, size_t q1, const fa_range *ranges,
                                          size_t nranges, void *workspace) {
  fa_f32_flash(uk, p, q0, q1, ranges, nranges, workspace);
  return FA_OK;
}

FA_SPARSE_JOB(f32, FA_F32_MQ)

#endif
