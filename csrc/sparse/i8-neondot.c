/* Block-sparse attention, int8, aarch64 Advanced SIMD + dotprod (SDOT: Cortex-A76/A78 class). */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("arch=armv8.2-a+dotprod"))), apply_to = function)
#else
#pragma GCC target("arch=armv8.2-a+dotprod")
#pragma GCC optimize("fp-contract=off") /* t and z must match the reference bit for bit */
#endif

#include "ukernels/i8-neondot.h"
#include "sparse/job-i8.h"

fa_status fa_sparse_i8__neondot(const fa_sparse_i8_params *p, size_t job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_neondot, p, job, workspace);
}

#if defined(__clang__)
#pragma clang attribute pop
#endif
