/* Dense attention, float32, aarch64 Advanced SIMD: the dense float32 job (dense/job-f32.h) on the
 * micro-kernels of ukernels/f32-neon.h. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif


#include "dense/job-f32.h"
#include "ukernels/f32-neon.h"

fa_status fa_dense_f32__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_dense_f32_job(&fa_f32_ukernels_neon, params, job, workspace);
}
