/* Every decode kernel compiled into this build (see dispatch.c for the tables). */
#ifndef FASTATTN_DECODE_KERNELS_H
#define FASTATTN_DECODE_KERNELS_H

#include "fastattn/decode.h"

fa_status fa_decode_f32__scalar(const struct fa_decode_task *t, size_t job, void *workspace);
fa_status fa_decode_i8__scalar(const struct fa_decode_task *t, size_t job, void *workspace);
#if defined(__x86_64__) || defined(_M_X64)
fa_status fa_decode_f32__avx2(const struct fa_decode_task *t, size_t job, void *workspace);
fa_status fa_decode_i8__avx2(const struct fa_decode_task *t, size_t job, void *workspace);
#endif
#if defined(__aarch64__)
fa_status fa_decode_f32__neon(const struct fa_decode_task *t, size_t job, void *workspace);
fa_status fa_decode_i8__neon(const struct fa_decode_task *t, size_t job, void *workspace);
fa_status fa_decode_i8__neondot(const struct fa_decode_task *t, size_t job, void *workspace);
#endif

#endif
