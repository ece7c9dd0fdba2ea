/* Block-sparse attention, int8, AVX2 (x86-64): the sparse int8 job (sparse/job-i8.h) on the
 * micro-kernels of ukernels/i8-avx2.h. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx2.c is for x86-64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma")

#include "sparse/job-i8.h"
#include "ukernels/i8-avx2.h"

fa_status fa_sparse_i8__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_avx2, params, job, workspace);
}

FA_TARGET_END
