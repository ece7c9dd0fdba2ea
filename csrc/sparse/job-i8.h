/* The sparse int8 job, fa_sparse_i8_job(): FA_SPARSE_JOB (sparse/op.h) on the int8 flash
 * engine (flash/i8.h) in sub-blocks of FA_I8_MQ rows. Each sparse/i8-<isa>.c instantiates
 * it with its micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_I8_H
#define FASTATTN_SPARSE_JOB_I8_H

#include "dense/job-i8.h"
#include "fastattn/sparse.h"
#include "sparse/op.h"

FA_SPARSE_JOB(i8, FA_I8_MQ)

#endif
