/* What the AVX2 decode micro-kernels of both dtypes (f32-avx2.c, i8-avx2.c) share: the
 * tail mask of a row and the output step's register block. Include after FA_TARGET_BEGIN. */
#ifndef FASTATTN_DECODE_AVX2_H
#define FASTATTN_DECODE_AVX2_H

#include <immintrin.h>

#include "decode/engine.h"

/* Lanes [0, n) of a tail vector, n < 8. */
static inline __m256i fa_decode_tail_mask(size_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lanes);
}

/* 8 values of a stored row from element x on, as float32. */
typedef __m256 (*fa_decode_load8_fn)(const void *row, size_t x);

/* o[0 .. 8 * nv) += sum_{c < n} w[c] value_c[0 .. 8 * nv) with value c at v + c * v_rs
 * bytes; always inlined with a constant nv and load, so acc[] lives in registers. */
static inline __attribute__((always_inline)) void fa_decode_pv_block_avx2(
    fa_decode_load8_fn load, const float *w, const char *v, ptrdiff_t v_rs, size_t n, float *o,
    int nv) {
  __m256 acc[8];
  for (int u = 0; u < nv; u++) acc[u] = _mm256_loadu_ps(o + 8 * u);
  for (size_t c = 0; c < n; c++) {
    const __m256 wc = _mm256_broadcast_ss(w + c);
    const char *row = v + (ptrdiff_t)c * v_rs;
    for (int u = 0; u < nv; u++) acc[u] = _mm256_fmadd_ps(wc, load(row, 8 * (size_t)u), acc[u]);
  }
  for (int u = 0; u < nv; u++) _mm256_storeu_ps(o + 8 * u, acc[u]);
}

#endif
