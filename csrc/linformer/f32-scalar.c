/* Linformer attention, float32, portable C: the job of
 * linformer/job-f32.h on the micro-kernels of lowrank/f32-scalar.h. */
#include "linformer/job-f32.h"
#include "lowrank/f32-scalar.h"

fa_status fa_linformer_f32__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_linformer_f32_job(&fa_lr_ukernels_scalar, params, job, workspace);
}

void fa_linformer_f32_gemm__scalar(const fa_linformer_f32_gemm_params *p, void *workspace) {
  fa_linformer_gemm_parts(&fa_lr_ukernels_scalar, p, workspace);
}
