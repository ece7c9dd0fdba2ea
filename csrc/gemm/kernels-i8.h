/* Every int8 GEMM variant compiled into this build (see dispatch-i8.c for the table). */
#ifndef FASTATTN_GEMM_KERNELS_I8_H
#define FASTATTN_GEMM_KERNELS_I8_H

#include "fastattn/gemm_i8.h"

fa_status fa_gemm_i8__scalar(const fa_gemm_i8_params *p, size_t job);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_gemm_i8__avx2(const fa_gemm_i8_params *p, size_t job);
fa_status fa_gemm_i8__avx512vnni(const fa_gemm_i8_params *p, size_t job);
#endif
#if defined(__aarch64__)
fa_status fa_gemm_i8__neon(const fa_gemm_i8_params *p, size_t job);
fa_status fa_gemm_i8__neondot(const fa_gemm_i8_params *p, size_t job);
#endif

#endif
