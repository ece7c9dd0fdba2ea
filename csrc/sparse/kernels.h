/* Every sparse kernel compiled into this build (see dispatch-f32.c for the table). */
#ifndef FASTATTN_SPARSE_KERNELS_H
#define FASTATTN_SPARSE_KERNELS_H

#include "fastattn/sparse.h"

fa_status fa_sparse_f32__scalar(const fa_sparse_f32_params *p, size_t job, void *workspace);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_sparse_f32__avx2(const fa_sparse_f32_params *p, size_t job, void *workspace);
#endif
#if defined(__aarch64__)
fa_status fa_sparse_f32__neon(const fa_sparse_f32_params *p, size_t job, void *workspace);
#endif

#endif
