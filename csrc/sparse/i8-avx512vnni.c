/* Block-sparse attention, int8, AVX-512 VNNI (x86-64: Ice Lake and later, Sapphire Rapids, Zen 4/5): the sparse int8 job (sparse/job-i8.h) on the
 * micro-kernels of ukernels/i8-avx512vnni.h. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")

#include "sparse/job-i8.h"
#include "ukernels/i8-avx512vnni.h"

fa_status fa_sparse_i8__avx512vnni(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_avx512vnni, params, job, workspace);
}

FA_TARGET_END
