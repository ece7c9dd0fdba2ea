/* Block-sparse attention, int8, portable C: the sparse int8 job (sparse/job-i8.h) on the
 * micro-kernels of ukernels/i8-scalar.h. */
#include "common/target.h"
FA_EXACT_FP

#include "sparse/job-i8.h"
#include "ukernels/i8-scalar.h"

fa_status fa_sparse_i8__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_scalar, params, job, workspace);
}
