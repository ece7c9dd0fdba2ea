/* Decode, float32, portable C: the plain definition of each micro-kernel. */
#include "decode/engine.h"
#include "ukernels/f32-scalar.h"

static void scores_f32_scalar(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                              float *s) {
  const float *q = (const float *)qrow;
  const float *k = (const float *)(const void *)kv->k + (ptrdiff_t)j0 * kv->k_rs;
  for (size_t c = 0; c < n; c++) {
    const float *row = k + (ptrdiff_t)c * kv->k_rs;
    float acc = 0.0f;
    for (size_t x = 0; x < kv->d; x++) acc += q[x] * row[x];
    s[c] = acc;
  }
}

static void pv_f32_scalar(const float *p, const fa_decode_kv *kv, size_t j0, size_t n, float *o) {
  const float *v = (const float *)(const void *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  for (size_t c = 0; c < n; c++) {
    const float *row = v + (ptrdiff_t)c * kv->v_rs;
    for (size_t x = 0; x < kv->dv; x++) o[x] += p[c] * row[x];
  }
}

static const fa_decode_ukernels ukernels = {scores_f32_scalar, pv_f32_scalar,
                                            &fa_f32_ukernels_scalar};

fa_status fa_decode_f32__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_job(&ukernels, params, job, workspace);
}
