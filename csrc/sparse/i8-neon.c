/* Block-sparse attention, int8, aarch64 Advanced SIMD (no dotprod: Cortex-A72 class). */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* t and z must match the reference bit for bit */
#endif

#include "ukernels/i8-neon.h"
#include "sparse/job-i8.h"

fa_status fa_sparse_i8__neon(const fa_sparse_i8_params *p, size_t job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_neon, p, job, workspace);
}
