/* Block-sparse attention, int8, aarch64 Advanced SIMD (no dotprod: Cortex-A72 class): the sparse int8 job (sparse/job-i8.h) on the
 * micro-kernels of ukernels/i8-neon.h. */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP

#include "sparse/job-i8.h"
#include "ukernels/i8-neon.h"

fa_status fa_sparse_i8__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_neon, params, job, workspace);
}
