/* The sparse int8 job, fa_sparse_i8_job(): FA_SPARSE_JOB (sparse/op.h) on the int8 flash
 * engine (flash/i8.h) in sub-blocks of FA_I8_MQ rows. Each sparse/i8-<isa>.c instantiates
 * it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_I8_H
#define FASTATTN_SPARSE_JOB_I8_H

#include "dense/job-i8.h"
#include "fastattn/sparse.h"
#include "sparse/op.h"

static inline fa_status fa_sparse_i8_run(const fa_i8_ukernels *uk, const fa_i8_problem *p,
                                         size_t q0, size_t q1, const fa_range *ranges,
                                         size_t nranges, void *workspace) {
  return fa_i8_flash(uk, p, q0, q1, ranges, nranges, workspace);
}

FA_SPARSE_JOB(i8, FA_I8_MQ)

#endif
