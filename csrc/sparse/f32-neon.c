/* Block-sparse attention, float32, aarch64 Advanced SIMD: the sparse float32 job (sparse/job-f32.h) on the
 * micro-kernels of ukernels/f32-neon.h. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif


#include "sparse/job-f32.h"
#include "ukernels/f32-neon.h"

fa_status fa_sparse_f32__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_sparse_f32_job(&fa_f32_ukernels_neon, params, job, workspace);
}
