/* Portable int8 micro-kernels for the int8 flash engine: the plain definition of
 * each step, row-major packings. */
#ifndef FASTATTN_UKERNELS_I8_SCALAR_H
#define FASTATTN_UKERNELS_I8_SCALAR_H

#include "flash/i8.h"

static void fa_i8_pack_k_scalar(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                                int8_t *kp) {
  fa_i8_pack_rows(k, k_rs, n, d, dp, kp);
}

static void fa_i8_qk_scalar(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                            size_t npad, int32_t *s) {
  for (size_t i = 0; i < mpad; i++)
    for (size_t c = 0; c < npad; c++) {
      const int8_t *a = qp + i * dp, *b = kp + c * dp;
      int32_t acc = 0;
      for (size_t x = 0; x < dp; x++) acc += (int32_t)a[x] * b[x];
      s[i * FA_I8_NK + c] = acc;
    }
}

static float fa_i8_dequant_scalar(const int32_t *s, float qs, const float *ks, float *t,
                                  size_t npad) {
  float m = -INFINITY;
  for (size_t c = 0; c < npad; c++) {
    const float x = (float)s[c] * qs;
    t[c] = x * ks[c];
    m = t[c] > m ? t[c] : m;
  }
  return m;
}

static float fa_i8_max_scalar(const float *t, size_t npad) {
  float m = -INFINITY;
  for (size_t c = 0; c < npad; c++) m = t[c] > m ? t[c] : m;
  return m;
}

static uint32_t fa_i8_exp_lut_scalar(const float *t, size_t npad, float r, uint8_t *p) {
  uint32_t sum = 0;
  for (size_t c = 0; c < npad; c++) {
    const uint32_t e = fa_i8_exp_lut1(fa_i8_z1(r, t[c]));
    p[c] = (uint8_t)e;
    sum += e;
  }
  return sum;
}

static void fa_i8_pack_v_scalar(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                                size_t dvp, int8_t *vp) {
  fa_i8_pack_rows(v, v_rs, n, dv, dvp, vp);
}

static void fa_i8_pv_scalar(const uint8_t *p, size_t mpad, size_t npad, const int8_t *vp,
                            size_t dvp, int32_t *acc) {
  for (size_t i = 0; i < mpad; i++) {
    int32_t *arow = acc + i * dvp;
    for (size_t c = 0; c < dvp; c++) arow[c] = 0;
    for (size_t j = 0; j < npad; j++) {
      const int32_t w = p[i * FA_I8_NK + j];
      const int8_t *vrow = vp + j * dvp;
      for (size_t c = 0; c < dvp; c++) arow[c] += w * vrow[c];
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_scalar = {
    fa_i8_pack_k_scalar,  fa_i8_qk_scalar,     fa_i8_dequant_scalar, fa_i8_max_scalar,
    fa_i8_exp_lut_scalar, fa_i8_pack_v_scalar, fa_i8_pv_scalar};

#endif
