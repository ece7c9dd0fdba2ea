/* The int8 quantiser's job (fastattn/quant_i8.h): matrix job->b, every token, on the
 * micro-kernels of one ISA. Every micro-kernel computes the reference's per-element float
 * formula in the same order (a vector lane is one element), so all variants agree bit for
 * bit: the mean is a float64 sum token after token per channel; max |y| is taken on the
 * bit patterns (they order like the values; NaN and inf sort above 0x7F800000); a code is
 * clamp((y / s + magic) - magic, +-127) with magic = 1.5 * 2^23 (rint, half to even). */
#ifndef FASTATTN_QUANT_JOB_I8_H
#define FASTATTN_QUANT_JOB_I8_H

#include <string.h>

#include "fastattn/quant_i8.h"

typedef struct fa_quant_i8_ukernels {
  /* sum[c] += x[t * d + c] as float64, for t < len, c < nc */
  void (*sum_rows)(double *sum, const float *x, size_t len, size_t d, size_t nc);
  /* max of m and the |y| bits, y = x[t * d + c] - mean[c] (x alone when mean is NULL) */
  uint32_t (*absmax_rows)(uint32_t m, const float *x, const float *mean, size_t rows, size_t d);
  /* q = code(y / s), y as above */
  void (*quant_rows)(int8_t *q, const float *x, const float *mean, float s, size_t rows,
                     size_t d, float magic);
  /* m[c] = max(m[c], |x[t * d + c]| bits) */
  void (*absmax_channels)(uint32_t *m, const float *x, size_t len, size_t d);
  /* q = code(x[t * d + c] / s[c]) */
  void (*quant_channels)(int8_t *q, const float *x, const float *s, size_t len, size_t d,
                         float magic);
} fa_quant_i8_ukernels;

static inline float fa_quant_i8_scale_of(uint32_t mbits) {
  float amax;
  memcpy(&amax, &mbits, 4);
  return amax == 0.0f ? 1.0f : amax / 127.0f;
}

static inline fa_status fa_quant_i8_job(const fa_quant_i8_ukernels *uk, const void *params,
                                        const fa_job *job, void *workspace) {
  (void)workspace;
  const fa_quant_i8_params *p = (const fa_quant_i8_params *)params;
  const size_t len = p->len, d = p->d, o = job->b, t0 = job->q0, t1 = job->q1;
  const int prepare = p->stage != FA_QUANT_I8_ROWS, rows = p->stage != FA_QUANT_I8_PREPARE;
  const volatile float magic_v = 12582912.0f; /* opaque: (y + magic) - magic stays rint */
  const float magic = magic_v;
  const float *xo = p->x + o * len * d;
  int8_t *qo = p->data + o * len * d;
  if (p->block == 0) { /* values: one scale per channel, over all tokens */
    float *so = p->scale + o * d;
    if (prepare) {
      uint32_t *mbits = (uint32_t *)(void *)so; /* bit patterns of the channel maxima first */
      for (size_t c = 0; c < d; c++) mbits[c] = 0;
      uk->absmax_channels(mbits, xo, len, d);
      for (size_t c = 0; c < d; c++) {
        if (mbits[c] >= 0x7F800000u) return FA_ERR_NONFINITE; /* NaN or inf */
        so[c] = fa_quant_i8_scale_of(mbits[c]);
      }
    }
    if (rows) uk->quant_channels(qo + t0 * d, xo + t0 * d, so, t1 - t0, d, magic);
    return FA_OK;
  }
  const size_t block = p->block, nblocks = (len + block - 1) / block;
  float *mo = p->smooth ? p->mean + o * d : NULL;
  if (mo && prepare) { /* token after token (the reference's order), 256 channels at a time */
    for (size_t c0 = 0; c0 < d; c0 += 256) {
      const size_t nc = d - c0 < 256 ? d - c0 : 256;
      double sum[256] = {0.0};
      uk->sum_rows(sum, xo + c0, len, d, nc);
      for (size_t c = 0; c < nc; c++) mo[c0 + c] = (float)(sum[c] / (double)len);
    }
  }
  if (!rows) return FA_OK;
  for (size_t b = t0 / block; b * block < t1; b++) { /* t0 starts a block */
    const size_t b0 = b * block, n = (b0 + block < len ? b0 + block : len) - b0;
    const uint32_t mbits = uk->absmax_rows(0, xo + b0 * d, mo, n, d);
    if (mbits >= 0x7F800000u) return FA_ERR_NONFINITE; /* NaN or inf */
    const float s = fa_quant_i8_scale_of(mbits);
    p->scale[o * nblocks + b] = s;
    uk->quant_rows(qo + b0 * d, xo + b0 * d, mo, s, n, d, magic);
  }
  return FA_OK;
}

/* The portable per-element steps, which the SIMD kernels also use for their tails. */
static inline int8_t fa_quant_i8_code(float y, float magic) {
  y = (y + magic) - magic; /* rint, round half to even, for |y| < 2^22 */
  y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
  return (int8_t)y;
}

static inline uint32_t fa_quant_i8_absbits_max(uint32_t m, float y) {
  uint32_t bits;
  memcpy(&bits, &y, 4);
  bits &= 0x7FFFFFFFu;
  return bits > m ? bits : m;
}

#endif
