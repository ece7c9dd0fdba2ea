/* Decode, float32, aarch64 Advanced SIMD.
 *
 * Scores: 4 keys at a time, two accumulators per key over the features, each key
 * reduced with one vaddvq. Output: up to 8 vectors of one output row in registers
 * while the tile's value rows stream past. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include <arm_neon.h>

#include "decode/engine.h"
#include "ukernels/f32-neon.h"

static void scores_f32_neon(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                            float *s) {
  const float *q = (const float *)qrow; /* zero-padded to a multiple of 16 */
  const float *k = (const float *)(const void *)kv->k + (ptrdiff_t)j0 * kv->k_rs;
  const size_t d = kv->d, d8 = d & ~(size_t)7, d4 = d & ~(size_t)3;
  for (size_t c = 0; c < n; c += 4) {
    const float *row[4];
    for (size_t u = 0; u < 4; u++) /* past the tile's end: repeat the last key */
      row[u] = k + (ptrdiff_t)(c + u < n ? c + u : n - 1) * kv->k_rs;
    float32x4_t a[4][2];
    for (int u = 0; u < 4; u++) a[u][0] = a[u][1] = vdupq_n_f32(0.0f);
    for (size_t x = 0; x < d8; x += 8) {
      const float32x4_t q0 = vld1q_f32(q + x), q1 = vld1q_f32(q + x + 4);
      for (int u = 0; u < 4; u++) {
        a[u][0] = vfmaq_f32(a[u][0], q0, vld1q_f32(row[u] + x));
        a[u][1] = vfmaq_f32(a[u][1], q1, vld1q_f32(row[u] + x + 4));
      }
    }
    if (d8 < d4) {
      const float32x4_t q0 = vld1q_f32(q + d8);
      for (int u = 0; u < 4; u++) a[u][0] = vfmaq_f32(a[u][0], q0, vld1q_f32(row[u] + d8));
    }
    for (int u = 0; u < 4; u++) {
      float acc = vaddvq_f32(vaddq_f32(a[u][0], a[u][1]));
      for (size_t x = d4; x < d; x++) acc += q[x] * row[u][x];
      s[c + u] = acc;
    }
  }
}

/* o[0 .. 4 * nv) += sum_c p[c] v_c[0 .. 4 * nv); always inlined with a constant nv. */
static inline __attribute__((always_inline)) void pv_block(const float *p, const float *v,
                                                           ptrdiff_t v_rs, size_t n, float *o,
                                                           int nv) {
  float32x4_t acc[8];
  for (int u = 0; u < nv; u++) acc[u] = vld1q_f32(o + 4 * u);
  for (size_t c = 0; c < n; c++) {
    const float *row = v + (ptrdiff_t)c * v_rs;
    for (int u = 0; u < nv; u++) acc[u] = vfmaq_n_f32(acc[u], vld1q_f32(row + 4 * u), p[c]);
  }
  for (int u = 0; u < nv; u++) vst1q_f32(o + 4 * u, acc[u]);
}

static void pv_f32_neon(const float *p, const fa_decode_kv *kv, size_t j0, size_t n, float *o) {
  const float *v = (const float *)(const void *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  const size_t dv = kv->dv;
  size_t x = 0;
  for (; x + 32 <= dv; x += 32) pv_block(p, v + x, kv->v_rs, n, o + x, 8);
  for (; x + 4 <= dv; x += 4) pv_block(p, v + x, kv->v_rs, n, o + x, 1);
  for (size_t c = 0; x < dv && c < n; c++) {
    const float *row = v + (ptrdiff_t)c * kv->v_rs;
    for (size_t y = x; y < dv; y++) o[y] += p[c] * row[y];
  }
}

static const fa_decode_ukernels ukernels = {scores_f32_neon, pv_f32_neon, &fa_f32_ukernels_neon};

fa_status fa_decode_f32__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_job(&ukernels, params, job, workspace);
}
