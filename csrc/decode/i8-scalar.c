/* Decode, int8 cache, portable C: the plain definition of each micro-kernel.
 * A prepared query row is a float qc (= q_scale * scale * log2 e) in a 16-byte
 * header, then its int8 values. */
#include <stdint.h>

#include "common/target.h"
FA_EXACT_FP

#include "decode/engine-i8.h"
#include "ukernels/f32-scalar.h"

static void scores_i8_scalar(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                             const float *ks, float *s) {
  const float qc = *(const float *)qrow;
  const int8_t *q = (const int8_t *)qrow + 16;
  for (size_t c = 0; c < n; c++) {
    int32_t acc = 0;
    for (size_t x = 0; x < kv->d; x++) acc += (int32_t)q[x] * fa_decode_i8_key(kv, j0, c, x);
    s[c] = ((float)acc * qc) * ks[c];
  }
}

static void pv_i8_scalar(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv,
                         size_t j0, size_t n, float *o) {
  fa_decode_i8_pv_cols(w, g, alpha, kv, j0, n, 0, o);
}

static const fa_decode_i8_ukernels ukernels = {scores_i8_scalar, pv_i8_scalar,
                                               &fa_f32_ukernels_scalar};

fa_status fa_decode_i8__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_decode_i8_job(&ukernels, params, job, workspace);
}
