/* Decode, int8 cache, aarch64 Advanced SIMD (no dotprod: Cortex-A72 class):
 * q.k by smull + smlal2 (16-bit products, pairs at most 2 * 127^2) and sadalp; P.V the
 * same way on 4 keys x 4 channels, two int32 lanes per channel folded by one addp. */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP

#include "decode/i8-neon.h"

/* acc[0]: channels 0, 1 as (keys 0+1, keys 2+3) pairs; acc[1]: channels 2, 3 */
static inline void pv16_neon(int32x4_t *acc, int8x16_t v, int8x16_t w4) {
  acc[0] = vpadalq_s16(acc[0], vmull_s8(vget_low_s8(v), vget_low_s8(w4)));
  acc[1] = vpadalq_s16(acc[1], vmull_high_s8(v, w4));
}

static inline int32x4_t fold_neon(const int32x4_t *acc) { return vpaddq_s32(acc[0], acc[1]); }

static void scores_i8_neon(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                           const float *ks, float *s) {
  fa_decode_scores_i8_neon(pv16_neon, fold_neon, qrow, kv, j0, n, ks, s);
}

static void pv_i8_neon(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv,
                       size_t j0, size_t n, float *o) {
  fa_decode_pv_i8_neon(pv16_neon, fold_neon, w, g, alpha, kv, j0, n, o);
}

static const fa_decode_i8_ukernels ukernels = {scores_i8_neon, pv_i8_neon, &fa_f32_ukernels_neon};

fa_status fa_decode_i8__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_i8_job(&ukernels, params, job, workspace);
}
