/* Every sparse int8 kernel compiled into this build (see dispatch-i8.c for the table). */
#ifndef FASTATTN_SPARSE_KERNELS_I8_H
#define FASTATTN_SPARSE_KERNELS_I8_H

#include "fastattn/sparse.h"

fa_status fa_sparse_i8__scalar(const fa_sparse_i8_params *p, size_t job, void *workspace);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_sparse_i8__avx2(const fa_sparse_i8_params *p, size_t job, void *workspace);
fa_status fa_sparse_i8__avx512vnni(const fa_sparse_i8_params *p, size_t job, void *workspace);
#endif
#if defined(__aarch64__)
fa_status fa_sparse_i8__neon(const fa_sparse_i8_params *p, size_t job, void *workspace);
fa_status fa_sparse_i8__neondot(const fa_sparse_i8_params *p, size_t job, void *workspace);
#endif

#endif
