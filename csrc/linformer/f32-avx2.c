/* Linformer attention, float32, AVX2 + FMA (x86-64): the job of
 * linformer/job-f32.h on the micro-kernels of lowrank/f32-avx2.h. */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx2.c is for x86-64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("avx2,fma")

#include "linformer/job-f32.h"
#include "lowrank/f32-avx2.h"

fa_status fa_linformer_f32__avx2(const void *params, const fa_job *job, void *workspace) {
  return fa_linformer_f32_job(&fa_lr_ukernels_avx2, params, job, workspace);
}

void fa_linformer_f32_gemm__avx2(const fa_linformer_f32_gemm_params *p, void *workspace) {
  fa_linformer_gemm_parts(&fa_lr_ukernels_avx2, p, workspace);
}

FA_TARGET_END
