/* Performer (FAVOR+) attention, float32, AVX-512 (x86-64): the job of
 * performer/job-f32.h on the micro-kernels of lowrank/f32-avx512.h. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx512.c is for x86-64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl")

#include "performer/job-f32.h"
#include "lowrank/f32-avx512.h"

fa_status fa_performer_f32__avx512(const void *params, const fa_job *job, void *workspace) {
  return fa_performer_f32_job(&fa_lr_ukernels_avx512, params, job, workspace);
}

void fa_performer_f32_gemm__avx512(const fa_performer_f32_gemm_params *p, void *workspace) {
  fa_performer_gemm_parts(&fa_lr_ukernels_avx512, p, workspace);
}

FA_TARGET_END
