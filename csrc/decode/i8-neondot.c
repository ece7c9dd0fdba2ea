/* Decode, int8 cache, aarch64 Advanced SIMD + dotprod (SDOT: Cortex-A76 class). */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#include "common/target.h"
FA_TARGET_BEGIN("arch=armv8.2-a+dotprod")

#include "decode/i8-neon.h"

static inline int32x4_t dot16_neondot(int32x4_t acc, int8x16_t a, int8x16_t b) {
  return vdotq_s32(acc, a, b);
}

static void scores_i8_neondot(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                              float *s) {
  fa_decode_scores_i8_neon(dot16_neondot, qrow, kv, j0, n, s);
}

static void pv_i8_neondot(const float *p, const fa_decode_kv *kv, size_t j0, size_t n,
                          float *o) {
  fa_decode_pv_i8_neon(p, kv, j0, n, o);
}

static const fa_decode_ukernels ukernels = {scores_i8_neondot, pv_i8_neondot,
                                            &fa_f32_ukernels_neon};

fa_status fa_decode_i8__neondot(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
