/* Block-sparse attention, int8, portable C. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* t and z must match the reference bit for bit */
#endif

#include "ukernels/i8-scalar.h"
#include "sparse/job-i8.h"

fa_status fa_sparse_i8__scalar(const fa_sparse_i8_params *p, size_t job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_scalar, p, job, workspace);
}
