/* Every dense int8 kernel compiled into this build (see dispatch-i8.c for the table). */
#ifndef FASTATTN_DENSE_KERNELS_I8_H
#define FASTATTN_DENSE_KERNELS_I8_H

#include "fastattn/dense_i8.h"

/* Nonzero when the pointers, sizes, blocks and band of p are usable (shared by every int8 op). */
int fa_dense_i8_params_valid(const fa_dense_i8_params *p);

fa_status fa_dense_i8__scalar(const fa_dense_i8_params *p, size_t job, void *workspace);
uint64_t fa_i8_peak__scalar(uint64_t iters, int32_t *sink);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_dense_i8__avx2(const fa_dense_i8_params *p, size_t job, void *workspace);
uint64_t fa_i8_peak__avx2(uint64_t iters, int32_t *sink);
fa_status fa_dense_i8__avx512vnni(const fa_dense_i8_params *p, size_t job, void *workspace);
uint64_t fa_i8_peak__avx512vnni(uint64_t iters, int32_t *sink);
#endif
#if defined(__aarch64__)
fa_status fa_dense_i8__neon(const fa_dense_i8_params *p, size_t job, void *workspace);
fa_status fa_dense_i8__neondot(const fa_dense_i8_params *p, size_t job, void *workspace);
uint64_t fa_i8_peak__neon(uint64_t iters, int32_t *sink);
uint64_t fa_i8_peak__neondot(uint64_t iters, int32_t *sink);
#endif

#endif
