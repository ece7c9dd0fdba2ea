/* The int8 decode micro-kernels of aarch64, for i8-neon.c and i8-neondot.c: one
 * engine, the int8 dot product of 16 bytes passed in (smull/sadalp or SDOT), the
 * output step shared (value rows widened to float32, weight p * v_scale). */
#ifndef FASTATTN_DECODE_I8_NEON_H
#define FASTATTN_DECODE_I8_NEON_H

#include <arm_neon.h>
#include <stdint.h>

#include "decode/engine.h"
#include "ukernels/f32-neon.h"

typedef int32x4_t (*fa_decode_dot16_fn)(int32x4_t acc, int8x16_t a, int8x16_t b);

/* s[c] = ((float)(q . k_c) * qc) * k_scale[c] for c < n, 4 keys at a time. */
static inline __attribute__((always_inline)) void fa_decode_scores_i8_neon(
    fa_decode_dot16_fn dot16, const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
    float *s) {
  const float qc = *(const float *)qrow;
  const int8_t *q = (const int8_t *)qrow + 16;
  const int8_t *k = (const int8_t *)kv->k + (ptrdiff_t)j0 * kv->k_rs;
  const size_t d = kv->d, d16 = d & ~(size_t)15;
  for (size_t c = 0; c < n; c += 4) {
    const int8_t *row[4];
    for (size_t u = 0; u < 4; u++) /* past the tile's end: repeat the last key */
      row[u] = k + (ptrdiff_t)(c + u < n ? c + u : n - 1) * kv->k_rs;
    int32x4_t a[4];
    for (int u = 0; u < 4; u++) a[u] = vdupq_n_s32(0);
    for (size_t x = 0; x < d16; x += 16) {
      const int8x16_t qx = vld1q_s8(q + x);
      for (int u = 0; u < 4; u++) a[u] = dot16(a[u], qx, vld1q_s8(row[u] + x));
    }
    for (size_t u = 0; u < 4 && c + u < n; u++) {
      int32_t acc = vaddvq_s32(a[u]);
      for (size_t x = d16; x < d; x++) acc += (int32_t)q[x] * row[u][x];
      s[c + u] = ((float)acc * qc) * kv->ks[j0 + c + u];
    }
  }
}

/* 8 int8 values widened to two float32 vectors. */
static inline void fa_decode_widen8(const int8_t *x, float32x4_t *lo, float32x4_t *hi) {
  const int16x8_t w = vmovl_s8(vld1_s8(x));
  *lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
  *hi = vcvtq_f32_s32(vmovl_high_s16(w));
}

/* o[0 .. 8 * nv) += sum_c w[c] v_c[0 .. 8 * nv); always inlined with a constant nv. */
static inline __attribute__((always_inline)) void fa_decode_pv_block_i8(
    const float *w, const int8_t *v, ptrdiff_t v_rs, size_t n, float *o, int nv) {
  float32x4_t acc[8];
  for (int u = 0; u < 2 * nv; u++) acc[u] = vld1q_f32(o + 4 * u);
  for (size_t c = 0; c < n; c++) {
    const int8_t *row = v + (ptrdiff_t)c * v_rs;
    for (int u = 0; u < nv; u++) {
      float32x4_t lo, hi;
      fa_decode_widen8(row + 8 * u, &lo, &hi);
      acc[2 * u] = vfmaq_n_f32(acc[2 * u], lo, w[c]);
      acc[2 * u + 1] = vfmaq_n_f32(acc[2 * u + 1], hi, w[c]);
    }
  }
  for (int u = 0; u < 2 * nv; u++) vst1q_f32(o + 4 * u, acc[u]);
}

static inline void fa_decode_pv_i8_neon(const float *p, const fa_decode_kv *kv, size_t j0,
                                        size_t n, float *o) {
  const int8_t *v = (const int8_t *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  float w[FA_DECODE_TILE];
  fa_decode_i8_weights(p, kv, j0, n, w);
  size_t x = 0;
  for (; x + 32 <= kv->dv; x += 32) fa_decode_pv_block_i8(w, v + x, kv->v_rs, n, o + x, 4);
  for (; x + 8 <= kv->dv; x += 8) fa_decode_pv_block_i8(w, v + x, kv->v_rs, n, o + x, 1);
  fa_decode_i8_pv_cols(w, kv, j0, n, x, o);
}

#endif
