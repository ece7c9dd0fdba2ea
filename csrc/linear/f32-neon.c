/* Linear attention, float32, aarch64 Advanced SIMD: the job of
 * linear/job-f32.h on the micro-kernels of lowrank/f32-neon.h. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include "linear/job-f32.h"
#include "lowrank/f32-neon.h"

fa_status fa_linear_f32__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_linear_f32_job(&fa_lr_ukernels_neon, params, job, workspace);
}
