/* Every dense kernel compiled into this build (see dispatch-f32.c for the table). */
#ifndef FASTATTN_DENSE_KERNELS_H
#define FASTATTN_DENSE_KERNELS_H

#include "fastattn/dense.h"

/* Nonzero when the pointers, sizes and band of p are usable (shared by every f32 op). */
int fa_dense_f32_params_valid(const fa_dense_f32_params *p);

fa_status fa_dense_f32__scalar(const fa_dense_f32_params *p, size_t job, void *workspace);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_dense_f32__avx2(const fa_dense_f32_params *p, size_t job, void *workspace);
#endif
#if defined(__aarch64__)
fa_status fa_dense_f32__neon(const fa_dense_f32_params *p, size_t job, void *workspace);
#endif

#endif
