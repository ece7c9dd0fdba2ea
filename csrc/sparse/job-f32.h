/* The sparse float32 job, fa_sparse_f32_job(): FA_SPARSE_JOB (sparse/op.h) on the float32
 * flash engine (flash/f32.h) in sub-blocks of FA_F32_MQ rows. Each sparse/f32-<isa>.c
 * instantiates it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_F32_H
#define FASTATTN_SPARSE_JOB_F32_H

#include "dense/job-f32.h"
#include "fastattn/sparse.h"
#include "sparse/op.h"

FA_SPARSE_JOB(f32, FA_F32_MQ)

#endif
