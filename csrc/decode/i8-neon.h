/* The int8 decode micro-kernels of aarch64, for i8-neon.c and i8-neondot.c: one
 * engine (decode/engine-i8.h), the int8 dot product of 16 bytes passed in (smull/sadalp
 * or SDOT) for the scores and for the integer P.V. */
#ifndef FASTATTN_DECODE_I8_NEON_H
#define FASTATTN_DECODE_I8_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "decode/engine-i8.h"
#include "ukernels/f32-neon.h"

/* The integer P.V of 4 keys x 4 channels (16 bytes: 4 keys of each channel) with the 4
 * weights w4 (each <= 127): added into one int32 lane per channel (dotprod) or into two
 * lanes per channel pair that fa_decode_neon_lanes folds (plain NEON, smull + sadalp). */
typedef void (*fa_decode_pv16_fn)(int32x4_t *acc, int8x16_t v, int8x16_t w4);

/* s[c] = ((float)(q . k_c) * qc) * ks[c] for the tile of n keys from j0: per group of 16
 * keys and 4 features, the 4 query bytes against 4 x 4 keys (the pv step's 16-byte dot:
 * 4 keys x 4 features are laid out as 4 channels x 4 keys are). */
static inline __attribute__((always_inline)) void fa_decode_scores_i8_neon(
    fa_decode_pv16_fn dot16, int32x4_t (*fold)(const int32x4_t *acc), const void *qrow,
    const fa_decode_kv *kv, size_t j0, size_t n, const float *ks, float *s) {
  const float qc = *(const float *)qrow;
  const int8_t *q = (const int8_t *)qrow + 16; /* zero-padded to a multiple of 64 */
  const size_t d4 = (kv->d + 3) / 4;
  for (size_t c = 0; c < n; c += 16) {
    const int8_t *k = fa_decode_i8_key_group(kv, j0 + c);
    int32x4_t acc[8];
    for (int u = 0; u < 8; u++) acc[u] = vdupq_n_s32(0);
    for (size_t x4 = 0; x4 < d4; x4++) {
      uint32_t q4;
      memcpy(&q4, q + 4 * x4, sizeof(q4));
      const int8x16_t qq = vreinterpretq_s8_u32(vdupq_n_u32(q4));
      for (int u = 0; u < 4; u++) dot16(acc + 2 * u, vld1q_s8(k + 64 * x4 + 16 * u), qq);
    }
    for (int u = 0; u < 4; u++) {
      const float32x4_t t = vmulq_n_f32(vcvtq_f32_s32(fold(acc + 2 * u)), qc);
      vst1q_f32(s + c + 4 * u, vmulq_f32(t, vld1q_f32(ks + c + 4 * u)));
    }
  }
}

/* Channels [x, x + 4 nv) of the pv step, nv <= 4 vectors of 4 channels; always inlined
 * with constants nv and pv16 (acc has two int32x4 per vector, see pv16). */
static inline __attribute__((always_inline)) void fa_decode_pv_chunk_i8(
    fa_decode_pv16_fn pv16, int32x4_t (*fold)(const int32x4_t *acc), const uint8_t *w,
    const float *g, float alpha, const fa_decode_kv *kv, size_t j0, size_t n, size_t x,
    float *o, int nv) {
  const int8_t *v = (const int8_t *)kv->v + (ptrdiff_t)(j0 / 4) * kv->v_rs + 4 * x;
  float32x4_t out[4];
  for (int u = 0; u < nv; u++) {
    out[u] = vld1q_f32(o + x + 4 * u);
    if (alpha != 1.0f) out[u] = vmulq_n_f32(out[u], alpha);
  }
  for (size_t c0 = 0; c0 < n; c0 += FA_DECODE_BLOCK) {
    const float gb = g[c0 / FA_DECODE_BLOCK];
    if (gb == 0.0f) continue;
    const size_t c1 = c0 + FA_DECODE_BLOCK < n ? c0 + FA_DECODE_BLOCK : n;
    int32x4_t acc[8];
    for (int u = 0; u < 2 * nv; u++) acc[u] = vdupq_n_s32(0);
    for (size_t c = c0; c < c1; c += 4) {
      uint32_t w4;
      memcpy(&w4, w + c, sizeof(w4));
      const int8x16_t wq = vreinterpretq_s8_u32(vdupq_n_u32(w4));
      const int8_t *row = v + (ptrdiff_t)(c / 4) * kv->v_rs;
      for (int u = 0; u < nv; u++) pv16(acc + 2 * u, vld1q_s8(row + 16 * u), wq);
    }
    for (int u = 0; u < nv; u++)
      out[u] = vaddq_f32(out[u], vmulq_n_f32(vcvtq_f32_s32(fold(acc + 2 * u)), gb));
  }
  for (int u = 0; u < nv; u++) vst1q_f32(o + x + 4 * u, out[u]);
}

/* The pv step: 16 channels at a time, then 4, then the rest in plain C. */
static inline __attribute__((always_inline)) void fa_decode_pv_i8_neon(
    fa_decode_pv16_fn pv16, int32x4_t (*fold)(const int32x4_t *acc), const uint8_t *w,
    const float *g, float alpha, const fa_decode_kv *kv, size_t j0, size_t n, float *o) {
  size_t x = 0;
  for (; x + 16 <= kv->dv; x += 16) fa_decode_pv_chunk_i8(pv16, fold, w, g, alpha, kv, j0, n, x, o, 4);
  for (; x + 4 <= kv->dv; x += 4) fa_decode_pv_chunk_i8(pv16, fold, w, g, alpha, kv, j0, n, x, o, 1);
  fa_decode_i8_pv_cols(w, g, alpha, kv, j0, n, x, o);
}

#endif
