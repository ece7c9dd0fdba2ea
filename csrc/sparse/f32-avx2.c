/* Block-sparse attention, float32, AVX2 + FMA (x86-64). */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx2.c is for x86-64 only"
#endif

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

#include "ukernels/f32-avx2.h"
#include "sparse/job-f32.h"

fa_status fa_sparse_f32__avx2(const fa_sparse_f32_params *p, size_t job, void *workspace) {
  return fa_sparse_f32_job(&fa_f32_ukernels_avx2, p, job, workspace);
}

#if defined(__clang__)
#pragma clang attribute pop
#endif
