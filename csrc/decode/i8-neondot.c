/* Decode, int8 cache, aarch64 Advanced SIMD + dotprod (SDOT: Cortex-A76 class): q.k and
 * P.V (4 keys x 4 channels per SDOT) by signed dot products. */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("arch=armv8.2-a+dotprod")

#include "decode/i8-neon.h"

/* acc[0] lane i: channel i (acc[1] unused) */
static inline void pv16_neondot(int32x4_t *acc, int8x16_t v, int8x16_t w4) {
  acc[0] = vdotq_s32(acc[0], v, w4);
}

static inline int32x4_t fold_neondot(const int32x4_t *acc) { return acc[0]; }

static void scores_i8_neondot(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                              const float *ks, float *s) {
  fa_decode_scores_i8_neon(pv16_neondot, fold_neondot, qrow, kv, j0, n, ks, s);
}

static void pv_i8_neondot(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv,
                          size_t j0, size_t n, float *o) {
  fa_decode_pv_i8_neon(pv16_neondot, fold_neondot, w, g, alpha, kv, j0, n, o);
}

static const fa_decode_i8_ukernels ukernels = {scores_i8_neondot, pv_i8_neondot,
                                               &fa_f32_ukernels_neon};

fa_status fa_decode_i8__neondot(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_i8_job(&ukernels, params, job, workspace);
}

FA_TARGET_END
