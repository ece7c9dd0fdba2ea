/* Every Performer kernel compiled into this build (see dispatch-f32.c for the table). */
#ifndef FASTATTN_PERFORMER_KERNELS_H
#define FASTATTN_PERFORMER_KERNELS_H

#include "fastattn/performer.h"

fa_status fa_performer_f32__scalar(const fa_performer_f32_params *p, size_t job, void *workspace);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_performer_f32__avx2(const fa_performer_f32_params *p, size_t job, void *workspace);
#endif
#if defined(__aarch64__)
fa_status fa_performer_f32__neon(const fa_performer_f32_params *p, size_t job, void *workspace);
#endif

#endif
