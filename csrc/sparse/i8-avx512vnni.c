/* Block-sparse attention, int8, AVX-512 VNNI (x86-64: Ice Lake and later, Zen 4/5). */
#if !defined(__x86_64__) && !defined(_M_X64)
#error "i8-avx512vnni.c is for x86-64 only"
#endif

#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))), apply_to = function)
#else
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")
#pragma GCC optimize("fp-contract=off") /* t and z must match the reference bit for bit */
#endif

#include "ukernels/i8-avx512vnni.h"
#include "sparse/job-i8.h"

fa_status fa_sparse_i8__avx512vnni(const fa_sparse_i8_params *p, size_t job, void *workspace) {
  return fa_sparse_i8_job(&fa_i8_ukernels_avx512vnni, p, job, workspace);
}

#if defined(__clang__)
#pragma clang attribute pop
#endif
