/* int8 quantisation of keys and values (see fastattn/quant_i8.h), portable C. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* must match the reference bit for bit */
#endif

#include <math.h>
#include <string.h>

#include "fastattn/quant_i8.h"

static inline int8_t fa_i8_round_clamp(float y, float magic) {
  y = (y + magic) - magic; /* rint, round half to even, for |y| < 2^22 */
  y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
  return (int8_t)y;
}

static inline uint32_t fa_i8_absbits_max(uint32_t m, float y) {
  uint32_t bits;
  memcpy(&bits, &y, 4);
  bits &= 0x7FFFFFFFu;
  return bits > m ? bits : m;
}

static inline float fa_i8_scale_of(float amax) { return amax == 0.0f ? 1.0f : amax / 127.0f; }

fa_status fa_i8_quantize_keys(const float *x, size_t outer, size_t len, size_t d, size_t block,
                              int smooth, int8_t *data, float *scale, float *mean) {
  if (!x || !data || !scale || (smooth && !mean)) return FA_ERR_NULL;
  if (block == 0 || len == 0 || d == 0) return FA_ERR_SHAPE;
  const volatile float magic_v = 12582912.0f;
  const float magic = magic_v;
  const size_t nblocks = (len + block - 1) / block;
  for (size_t o = 0; o < outer; o++) {
    const float *xo = x + o * len * d;
    int8_t *qo = data + o * len * d;
    float *mo = smooth ? mean + o * d : NULL;
    if (smooth) { /* token after token (the reference's order), 256 channels at a time */
      for (size_t c0 = 0; c0 < d; c0 += 256) {
        const size_t nc = d - c0 < 256 ? d - c0 : 256;
        double sum[256] = {0.0};
        for (size_t t = 0; t < len; t++)
          for (size_t c = 0; c < nc; c++) sum[c] += (double)xo[t * d + c0 + c];
        for (size_t c = 0; c < nc; c++) mo[c0 + c] = (float)(sum[c] / (double)len);
      }
    }
    for (size_t b = 0; b < nblocks; b++) {
      const size_t t0 = b * block, t1 = t0 + block < len ? t0 + block : len;
      uint32_t mbits = 0; /* max of |y| as the bit patterns, which order like the values */
      for (size_t t = t0; t < t1; t++)
        for (size_t c = 0; c < d; c++) {
          const float y = smooth ? xo[t * d + c] - mo[c] : xo[t * d + c];
          mbits = fa_i8_absbits_max(mbits, y);
        }
      if (mbits >= 0x7F800000u) return FA_ERR_NONFINITE; /* NaN or inf */
      float amax;
      memcpy(&amax, &mbits, 4);
      const float s = fa_i8_scale_of(amax);
      scale[o * nblocks + b] = s;
      for (size_t t = t0; t < t1; t++)
        for (size_t c = 0; c < d; c++) {
          const float y = smooth ? xo[t * d + c] - mo[c] : xo[t * d + c];
          qo[t * d + c] = fa_i8_round_clamp(y / s, magic);
        }
    }
  }
  return FA_OK;
}

fa_status fa_i8_quantize_values(const float *x, size_t outer, size_t len, size_t d,
                                int8_t *data, float *scale) {
  if (!x || !data || !scale) return FA_ERR_NULL;
  if (len == 0 || d == 0) return FA_ERR_SHAPE;
  const volatile float magic_v = 12582912.0f;
  const float magic = magic_v;
  for (size_t o = 0; o < outer; o++) {
    const float *xo = x + o * len * d;
    int8_t *qo = data + o * len * d;
    float *so = scale + o * d;
    uint32_t *mbits = (uint32_t *)(void *)so; /* bit patterns of the channel maxima first */
    for (size_t c = 0; c < d; c++) mbits[c] = 0;
    for (size_t t = 0; t < len; t++)
      for (size_t c = 0; c < d; c++) mbits[c] = fa_i8_absbits_max(mbits[c], xo[t * d + c]);
    for (size_t c = 0; c < d; c++) {
      if (mbits[c] >= 0x7F800000u) return FA_ERR_NONFINITE; /* NaN or inf */
      float amax;
      memcpy(&amax, mbits + c, 4);
      so[c] = fa_i8_scale_of(amax);
    }
    for (size_t t = 0; t < len; t++)
      for (size_t c = 0; c < d; c++) qo[t * d + c] = fa_i8_round_clamp(xo[t * d + c] / so[c], magic);
  }
  return FA_OK;
}
