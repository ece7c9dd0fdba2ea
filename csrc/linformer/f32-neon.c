/* Linformer attention, float32, aarch64 Advanced SIMD: the job of
 * linformer/job-f32.h on the micro-kernels of lowrank/f32-neon.h. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include "linformer/job-f32.h"
#include "lowrank/f32-neon.h"

fa_status fa_linformer_f32__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_linformer_f32_job(&fa_lr_ukernels_neon, params, job, workspace);
}

void fa_linformer_f32_gemm__neon(const fa_linformer_f32_gemm_params *p, void *workspace) {
  fa_linformer_gemm_parts(&fa_lr_ukernels_neon, p, workspace);
}
