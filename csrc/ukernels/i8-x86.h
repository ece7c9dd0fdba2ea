/* int8 helpers shared by the x86-64 micro-kernels (ukernels/i8-avx2.h and
 * ukernels/i8-avx512vnni.h): AVX2 instructions only, so include it only from a file
 * compiled with at least the avx2,fma target. */
#ifndef FASTATTN_UKERNELS_I8_X86_H
#define FASTATTN_UKERNELS_I8_X86_H

#include <immintrin.h>
#include <string.h>
#include "flash/i8.h"

static inline int32_t fa_i8_load4(const void *p) {
  int32_t x;
  memcpy(&x, p, 4);
  return x;
}

/* Keys grouped by 4 features: kp[(g * FA_I8_NK + c) * 4 + u] = k[c][4g + u]; blocks of
 * 8 keys x 8 groups by an 8 x 8 transpose of 32-bit words, the rest word by word. */
static void fa_i8_pack_k_x86(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                              int8_t *kp) {
  if (d % 4 != 0) {
    fa_i8_pack_k_groups(k, k_rs, n, d, dp, kp);
    return;
  }
  int32_t *kp32 = (int32_t *)(void *)kp;
  const size_t groups = d / 4, n8 = n / 8 * 8, g8 = groups / 8 * 8;
  for (size_t c = 0; c < n8; c += 8) {
    for (size_t g = 0; g < g8; g += 8) {
      __m256i r[8], t[8];
      for (int u = 0; u < 8; u++)
        r[u] = _mm256_loadu_si256((const __m256i *)(k + (ptrdiff_t)(c + u) * k_rs + 4 * g));
      for (int u = 0; u < 8; u += 2) {
        t[u] = _mm256_unpacklo_epi32(r[u], r[u + 1]);
        t[u + 1] = _mm256_unpackhi_epi32(r[u], r[u + 1]);
      }
      for (int u = 0; u < 8; u += 4) {
        r[u] = _mm256_unpacklo_epi64(t[u], t[u + 2]);
        r[u + 1] = _mm256_unpackhi_epi64(t[u], t[u + 2]);
        r[u + 2] = _mm256_unpacklo_epi64(t[u + 1], t[u + 3]);
        r[u + 3] = _mm256_unpackhi_epi64(t[u + 1], t[u + 3]);
      }
      for (int u = 0; u < 4; u++) {
        _mm256_storeu_si256((__m256i *)(kp32 + (g + u) * FA_I8_NK + c),
                            _mm256_permute2x128_si256(r[u], r[u + 4], 0x20));
        _mm256_storeu_si256((__m256i *)(kp32 + (g + u + 4) * FA_I8_NK + c),
                            _mm256_permute2x128_si256(r[u], r[u + 4], 0x31));
      }
    }
    for (size_t u = 0; u < 8; u++)
      for (size_t g = g8; g < groups; g++)
        memcpy(kp32 + g * FA_I8_NK + c + u, k + (ptrdiff_t)(c + u) * k_rs + 4 * g, 4);
  }
  for (size_t c = n8; c < n; c++)
    for (size_t g = 0; g < groups; g++) memcpy(kp32 + g * FA_I8_NK + c, k + (ptrdiff_t)c * k_rs + 4 * g, 4);
  const size_t npad = fa_round_up(n, FA_I8_NR); /* the kernels read keys [0, npad) only */
  for (size_t g = 0; g < dp / 4; g++)
    for (size_t c = (g < groups ? n : 0); c < npad; c++) kp32[g * FA_I8_NK + c] = 0;
}

/* The grouped key layout of fa_i8_pack_k_x86 with every byte offset by 128 (xor 0x80),
 * the unsigned operand of vpmaddubsw / vpdpbusd: padding keys and features hold 128,
 * i.e. k = 0. */
static void fa_i8_pack_k_biased_x86(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d,
                                    size_t dp, int8_t *kp) {
  fa_i8_pack_k_x86(k, k_rs, n, d, dp, kp);
  const __m256i bias = _mm256_set1_epi8((char)0x80);
  const size_t npad = fa_round_up(n, FA_I8_NR); /* 4 * npad bytes per group: whole vectors */
  for (size_t g = 0; g < dp / 4; g++) {
    for (size_t x = 0; x < 4 * npad; x += 32) {
      __m256i *w = (__m256i *)(void *)(kp + g * FA_I8_NK * 4 + x);
      _mm256_storeu_si256(w, _mm256_xor_si256(_mm256_loadu_si256(w), bias));
    }
  }
}

/* -128 * sum of the dp bytes of a q row (dp a multiple of 16), by vpsadbw on q + 128: the
 * start value of q.(k + 128) that leaves q.k. */
static inline int32_t fa_i8_qk_bias_x86(const int8_t *q, size_t dp) {
  const __m128i flip = _mm_set1_epi8((char)0x80), zero = _mm_setzero_si128();
  __m128i s = zero;
  for (size_t x = 0; x < dp; x += 16)
    s = _mm_add_epi64(s, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(q + x)), flip), zero));
  const int64_t sum_offset = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1); /* sum(q) + 128 dp */
  return (int32_t)(-128 * (sum_offset - 128 * (int64_t)dp));
}

/* Values grouped by 4 keys, vp[((j / 4) * dvp + c) * 4 + j % 4] = v[j][c] (the operand of
 * vpmaddubsw / vpdpbusd against 4 bytes of P), zero-filled to round_up(n, 16) keys and dvp
 * channels: 4 rows x 32 channels by byte and word interleaves. */
static void fa_i8_pack_v_x86(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                                    size_t dvp, int8_t *vp) {
  const size_t n4 = n / 4 * 4, dv32 = dv / 32 * 32;
  for (size_t j = 0; j < n4; j += 4) {
    const int8_t *r0 = v + (ptrdiff_t)j * v_rs, *r1 = r0 + v_rs, *r2 = r1 + v_rs, *r3 = r2 + v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4;
    for (size_t c = 0; c < dv32; c += 32) {
      const __m256i x0 = _mm256_loadu_si256((const __m256i *)(r0 + c));
      const __m256i x1 = _mm256_loadu_si256((const __m256i *)(r1 + c));
      const __m256i x2 = _mm256_loadu_si256((const __m256i *)(r2 + c));
      const __m256i x3 = _mm256_loadu_si256((const __m256i *)(r3 + c));
      const __m256i a = _mm256_unpacklo_epi8(x0, x1), b = _mm256_unpacklo_epi8(x2, x3);
      const __m256i e = _mm256_unpackhi_epi8(x0, x1), f = _mm256_unpackhi_epi8(x2, x3);
      /* per 128-bit lane h: w0 = channels 16h + 0..3, w1 = 4..7, w2 = 8..11, w3 = 12..15 */
      const __m256i w0 = _mm256_unpacklo_epi16(a, b), w1 = _mm256_unpackhi_epi16(a, b);
      const __m256i w2 = _mm256_unpacklo_epi16(e, f), w3 = _mm256_unpackhi_epi16(e, f);
      __m256i *out = (__m256i *)(void *)(dst + c * 4);
      _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(w0, w1, 0x20));
      _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(w2, w3, 0x20));
      _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(w0, w1, 0x31));
      _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(w2, w3, 0x31));
    }
    for (size_t c = dv32; c < dv; c++) {
      dst[c * 4] = r0[c], dst[c * 4 + 1] = r1[c], dst[c * 4 + 2] = r2[c], dst[c * 4 + 3] = r3[c];
    }
    memset(dst + dv * 4, 0, (dvp - dv) * 4);
  }
  memset(vp + n4 * dvp, 0, (fa_round_up(n, FA_I8_NR) - n4) * dvp);
  for (size_t j = n4; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    int8_t *dst = vp + (j / 4) * dvp * 4 + (j % 4);
    for (size_t c = 0; c < dv; c++) dst[c * 4] = row[c];
  }
}

#endif
