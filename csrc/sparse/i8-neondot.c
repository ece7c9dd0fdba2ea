/* Block-sparse attention, int8, aarch64 Advanced SIMD + dotprod (SDOT: Cortex-A76/A78 class): the sparse int8 job (sparse/job-i8.h) on the
 * micro-kernels of ukernels/i8-neondot.h. */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("arch=armv8.2-a+dotprod")

#include "sparse/job-i8.h"
#include "ukernels/i8-neondot.h"

fa_status fa_sparse_i8__neondot(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_neondot, params, job, workspace);
}

FA_TARGET_END
