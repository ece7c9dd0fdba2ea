/* Linear attention, float32, portable C: the job of linear/job-f32.h (and its GEMM parts
 * alone, fa_linear_f32_gemm) on the micro-kernels of lowrank/f32-scalar.h. */
#include "linear/job-f32.h"
#include "lowrank/f32-scalar.h"

fa_status fa_linear_f32__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_linear_f32_job(&fa_lr_ukernels_scalar, params, job, workspace);
}

void fa_linear_f32_gemm__scalar(const fa_linear_f32_gemm_params *p, void *workspace) {
  fa_lr_gemm_parts(&fa_lr_ukernels_scalar, p, workspace);
}
