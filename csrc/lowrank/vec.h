/* The element-wise steps of the low-rank scan that any ISA's compiler vectorises by itself.
 * Include after the ISA's target is enabled (lowrank/scan.h does). */
#ifndef FASTATTN_LOWRANK_VEC_H
#define FASTATTN_LOWRANK_VEC_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

static inline void fa_lr_relu(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
}

static inline void fa_lr_scale(float *x, size_t n, float s) {
  for (size_t i = 0; i < n; i++) x[i] *= s;
}

/* Sums keep 16 partial sums (as vectors would): added pairwise (as vector halves), then
 * the tail. */
static inline float fa_lr_reduce16(float *acc, float tail) { /* halves spelled out: they vectorise */
  for (size_t l = 0; l < 8; l++) acc[l] += acc[l + 8];
  for (size_t l = 0; l < 4; l++) acc[l] += acc[l + 4];
  for (size_t l = 0; l < 2; l++) acc[l] += acc[l + 2];
  return acc[0] + acc[1] + tail;
}

static inline float fa_lr_dot(const float *a, const float *b, size_t n) {
  float acc[16] = {0.0f}, s = 0.0f;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t l = 0; l < 16; l++) acc[l] += a[i + l] * b[i + l];
  for (; i < n; i++) s += a[i] * b[i];
  return fa_lr_reduce16(acc, s);
}

static inline float fa_lr_sum(const float *x, size_t n) {
  float acc[16] = {0.0f}, s = 0.0f;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t l = 0; l < 16; l++) acc[l] += x[i + l];
  for (; i < n; i++) s += x[i];
  return fa_lr_reduce16(acc, s);
}

/* What the SIMD divide_rows scale a row by: 1 / den, to multiply by (*mul = 1; divides are
 * slow), unless 1 / den is not a normal float (den tiny or huge): then den, to divide by. */
static inline float fa_lr_row_divisor(float den, int *mul) {
  const float inv = 1.0f / den;
  *mul = inv - inv == 0.0f && fabsf(inv) >= FLT_MIN;
  return *mul ? inv : den;
}

/* Portable divide_rows (lowrank/ukernels.h): plain stores, nothing to fence. */
static inline void fa_lr_divide_rows(float *out, ptrdiff_t out_rs, const float *num, size_t ld,
                                     const float *den, size_t rows, size_t dv, int fence) {
  (void)fence;
  for (size_t r = 0; r < rows; r++) {
    float *orow = out + (ptrdiff_t)r * out_rs;
    if (den[r] == 0.0f) { /* no visible key, or relu features that are all 0 */
      memset(orow, 0, dv * sizeof(float));
      continue;
    }
    for (size_t x = 0; x < dv; x++) orow[x] = num[r * ld + x] / den[r];
  }
}

#endif
