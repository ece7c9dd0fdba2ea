/* Dense attention, float32, AVX2 + FMA (x86-64). */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "f32-avx2.c is for x86-64 only"
#endif

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

#include "dense/job-f32.h"
#include "ukernels/f32-avx2.h"

fa_status fa_dense_f32__avx2(const fa_dense_f32_params *p, size_t job, void *workspace) {
  return fa_dense_f32_job(&fa_f32_ukernels_avx2, p, job, workspace);
}

#if defined(__clang__)
#pragma clang attribute pop
#endif
