/* Block-sparse attention, float32, aarch64 Advanced SIMD. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include "ukernels/f32-neon.h"
#include "sparse/job-f32.h"

fa_status fa_sparse_f32__neon(const fa_sparse_f32_params *p, size_t job, void *workspace) {
  return fa_sparse_f32_job(&fa_f32_ukernels_neon, p, job, workspace);
}
