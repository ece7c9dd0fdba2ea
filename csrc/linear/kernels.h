/* Every linear-attention kernel compiled into this build (see dispatch-f32.c for the table). */
#ifndef FASTATTN_LINEAR_KERNELS_H
#define FASTATTN_LINEAR_KERNELS_H

#include "fastattn/linear.h"

fa_status fa_linear_f32__scalar(const fa_linear_f32_params *p, size_t job, void *workspace);
unsigned long long fa_f32_peak__scalar(unsigned long long iters, float *sink);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_linear_f32__avx2(const fa_linear_f32_params *p, size_t job, void *workspace);
unsigned long long fa_f32_peak__avx2(unsigned long long iters, float *sink);
#endif
#if defined(__aarch64__)
fa_status fa_linear_f32__neon(const fa_linear_f32_params *p, size_t job, void *workspace);
unsigned long long fa_f32_peak__neon(unsigned long long iters, float *sink);
#endif

#endif
