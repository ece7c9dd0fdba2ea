/* aarch64 Advanced SIMD int8 micro-kernels for the int8 flash engine (no dotprod:
 * Cortex-A72 class).
 * - q.k on row-major q and k: smull + smlal2 put two products in each int16 lane
 *   (|q|, |k| <= 127: at most 2 * 127^2 = 32258), sadalp adds the pairs into int32.
 * - P.v the same way on P - 128 (signed, -128..127) against v transposed per tile
 *   (two products per int16 lane: at most 2 * 128 * 127 = 32512), plus 128 times the
 *   tile's column sums of v, computed once per tile: sum P v = sum (P - 128) v + 128 sum v.
 * - The softmax table lookups: tbl over the 16-bit entries of the two 16-entry tables,
 *   in 16-bit lanes, their product by umull and a rounding narrow, the integer part of
 *   the exponent by one rounding shift (urshl). */
#ifndef FASTATTN_SIMD_I8_NEON_H
#define FASTATTN_SIMD_I8_NEON_H

#include <arm_neon.h>
#include "flash/i8.h"

static void fa_i8_pack_k_neon(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp,
                              int8_t *kp) {
  fa_i8_pack_rows(k, k_rs, n, d, dp, kp);
}

/* acc += the 16 products a * b, two per int16 lane, pairwise into int32 */
static inline int32x4_t fa_i8_dot16_neon(int32x4_t acc, int8x16_t a, int8x16_t b) {
  return vpadalq_s16(acc, vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
}

static inline int32x4_t fa_i8_hsum4_neon(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3) {
  return vpaddq_s32(vpaddq_s32(a0, a1), vpaddq_s32(a2, a3));
}

/* Row-major q and k (dp a multiple of 16): 2 rows x 4 keys per step. */
static void fa_i8_qk_neon(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp,
                          size_t npad, int32_t *s) {
  for (size_t i = 0; i < mpad; i += 2) {
    const int8_t *a0 = qp + i * dp, *a1 = a0 + dp;
    for (size_t c = 0; c < npad; c += 4) {
      const int8_t *b0 = kp + c * dp, *b1 = b0 + dp, *b2 = b1 + dp, *b3 = b2 + dp;
      int32x4_t s00 = vdupq_n_s32(0), s01 = s00, s02 = s00, s03 = s00;
      int32x4_t s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (size_t x = 0; x < dp; x += 16) {
        const int8x16_t va0 = vld1q_s8(a0 + x), va1 = vld1q_s8(a1 + x);
        const int8x16_t vb0 = vld1q_s8(b0 + x), vb1 = vld1q_s8(b1 + x);
        const int8x16_t vb2 = vld1q_s8(b2 + x), vb3 = vld1q_s8(b3 + x);
        s00 = fa_i8_dot16_neon(s00, va0, vb0), s01 = fa_i8_dot16_neon(s01, va0, vb1);
        s02 = fa_i8_dot16_neon(s02, va0, vb2), s03 = fa_i8_dot16_neon(s03, va0, vb3);
        s10 = fa_i8_dot16_neon(s10, va1, vb0), s11 = fa_i8_dot16_neon(s11, va1, vb1);
        s12 = fa_i8_dot16_neon(s12, va1, vb2), s13 = fa_i8_dot16_neon(s13, va1, vb3);
      }
      vst1q_s32(s + i * FA_I8_NK + c, fa_i8_hsum4_neon(s00, s01, s02, s03));
      vst1q_s32(s + (i + 1) * FA_I8_NK + c, fa_i8_hsum4_neon(s10, s11, s12, s13));
    }
  }
}

static float fa_i8_dequant_neon(const int32_t *s, float qs, const float *ks, float *t,
                                size_t npad) {
  float32x4_t m = vdupq_n_f32(-INFINITY);
  for (size_t c = 0; c < npad; c += 4) {
    const float32x4_t x = vmulq_n_f32(vcvtq_f32_s32(vld1q_s32(s + c)), qs);
    const float32x4_t y = vmulq_f32(x, vld1q_f32(ks + c));
    vst1q_f32(t + c, y);
    m = vmaxq_f32(m, y);
  }
  return vmaxvq_f32(m);
}

static float fa_i8_max_neon(const float *t, size_t npad) {
  float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
  for (size_t c = 0; c < npad; c += 8) {
    m0 = vmaxq_f32(m0, vld1q_f32(t + c));
    m1 = vmaxq_f32(m1, vld1q_f32(t + c + 4));
  }
  return vmaxvq_f32(vmaxq_f32(m0, m1));
}

/* table[idx & 15] for 8 lanes, table as 32 bytes of little-endian u16: the byte
 * indices 2i and 2i + 1 of each lane are (idx & 15) * 0x0202 + 0x0100. */
static inline uint16x8_t fa_i8_lookup16_neon(uint8x16x2_t table, uint16x8_t idx) {
  const uint16x8_t bytes = vmlaq_n_u16(vdupq_n_u16(0x0100), vandq_u16(idx, vdupq_n_u16(15)), 0x0202);
  return vreinterpretq_u16_u8(vqtbl2q_u8(table, vreinterpretq_u8_u16(bytes)));
}

/* P for the 8 scores at t, in 16-bit lanes: z, T = (A * B + 2^14) >> 15 by umull and a
 * rounding narrow, P = ((T >> (e + 7)) + 1) >> 1 = (T + 2^(e + 7)) >> (e + 8) by urshl. */
static inline uint16x8_t fa_i8_exp8_neon(const float *t, float32x4_t m, uint8x16x2_t ta,
                                         uint8x16x2_t tb) {
  const float32x4_t zmax = vdupq_n_f32(FA_I8_ZMAX);
  const float32x4_t y0 = vminq_f32(vmulq_n_f32(vsubq_f32(m, vld1q_f32(t)), 256.0f), zmax);
  const float32x4_t y1 = vminq_f32(vmulq_n_f32(vsubq_f32(m, vld1q_f32(t + 4)), 256.0f), zmax);
  const uint16x8_t z = vuzp1q_u16(vreinterpretq_u16_s32(vcvtnq_s32_f32(y0)),
                                  vreinterpretq_u16_s32(vcvtnq_s32_f32(y1)));
  const uint16x8_t a = fa_i8_lookup16_neon(ta, vshrq_n_u16(z, 4));
  const uint16x8_t b = fa_i8_lookup16_neon(tb, z);
  const uint16x8_t frac = vrshrn_high_n_u32(vrshrn_n_u32(vmull_u16(vget_low_u16(a), vget_low_u16(b)), 15),
                                            vmull_high_u16(a, b), 15);
  const int16x8_t shift = vsubq_s16(vdupq_n_s16(-8), vreinterpretq_s16_u16(vshrq_n_u16(z, 8)));
  return vrshlq_u16(frac, shift);
}

static uint32_t fa_i8_exp_lut_neon(const float *t, size_t npad, float m, void *pv) {
  uint8_t *p = (uint8_t *)pv;
  uint8x16x2_t ta, tb;
  ta.val[0] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_a));
  ta.val[1] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_a + 8));
  tb.val[0] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_b));
  tb.val[1] = vreinterpretq_u8_u16(vld1q_u16(fa_i8_exp_b + 8));
  const float32x4_t vm = vdupq_n_f32(m);
  uint16x8_t sum = vdupq_n_u16(0); /* at most FA_I8_NK / 8 * 255 per lane */
  for (size_t c = 0; c < npad; c += 16) {
    const uint16x8_t p0 = fa_i8_exp8_neon(t + c, vm, ta, tb);
    const uint16x8_t p1 = fa_i8_exp8_neon(t + c + 8, vm, ta, tb);
    sum = vaddq_u16(sum, vaddq_u16(p0, p1));
    vst1q_u8(p + c, vuzp1q_u8(vreinterpretq_u8_u16(p0), vreinterpretq_u8_u16(p1)));
  }
  return vaddlvq_u16(sum);
}

/* dst[c * ds + j] = src[j * rs + c] for a 16 x 16 block of bytes: after the trn stages
 * of 8, 16, 32 and 64 bits, register c holds column c in row order. */
static inline void fa_i8_transpose16_neon(const int8_t *src, ptrdiff_t rs, int8_t *dst,
                                          size_t ds) {
  uint8x16_t r[16];
  for (int i = 0; i < 16; i++) r[i] = vld1q_u8((const uint8_t *)src + i * rs);
  for (int i = 0; i < 16; i += 2) {
    const uint8x16_t a = vtrn1q_u8(r[i], r[i + 1]), b = vtrn2q_u8(r[i], r[i + 1]);
    r[i] = a, r[i + 1] = b;
  }
  for (int i = 0; i < 16; i++) {
    if (i & 2) continue;
    const uint16x8_t x = vreinterpretq_u16_u8(r[i]), y = vreinterpretq_u16_u8(r[i + 2]);
    r[i] = vreinterpretq_u8_u16(vtrn1q_u16(x, y)), r[i + 2] = vreinterpretq_u8_u16(vtrn2q_u16(x, y));
  }
  for (int i = 0; i < 16; i++) {
    if (i & 4) continue;
    const uint32x4_t x = vreinterpretq_u32_u8(r[i]), y = vreinterpretq_u32_u8(r[i + 4]);
    r[i] = vreinterpretq_u8_u32(vtrn1q_u32(x, y)), r[i + 4] = vreinterpretq_u8_u32(vtrn2q_u32(x, y));
  }
  for (int i = 0; i < 8; i++) {
    const uint64x2_t x = vreinterpretq_u64_u8(r[i]), y = vreinterpretq_u64_u8(r[i + 8]);
    r[i] = vreinterpretq_u8_u64(vtrn1q_u64(x, y)), r[i + 8] = vreinterpretq_u8_u64(vtrn2q_u64(x, y));
  }
  for (int c = 0; c < 16; c++) vst1q_u8((uint8_t *)dst + c * ds, r[c]);
}

/* Values transposed, vt[c * FA_I8_NK + j] = v[j][c] (zeros beyond n keys and dv
 * channels), then the column sums colsum[c] = sum_j v[j][c] as int32 after them. */
static void fa_i8_pack_v_neon(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv,
                              size_t dvp, int8_t *vp) {
  if (n < FA_I8_NK || dv < dvp) memset(vp, 0, FA_I8_NK * dvp);
  const size_t n16 = n / 16 * 16, dv16 = dv / 16 * 16;
  for (size_t j = 0; j < n16; j += 16)
    for (size_t c = 0; c < dv16; c += 16)
      fa_i8_transpose16_neon(v + (ptrdiff_t)j * v_rs + c, v_rs, vp + c * FA_I8_NK + j, FA_I8_NK);
  for (size_t j = 0; j < n; j++) {
    const int8_t *row = v + (ptrdiff_t)j * v_rs;
    for (size_t c = (j < n16 ? dv16 : 0); c < dv; c++) vp[c * FA_I8_NK + j] = row[c];
  }
  int32_t *colsum = (int32_t *)(void *)(vp + FA_I8_NK * dvp);
  for (size_t c = 0; c < dvp; c++) {
    int16x8_t acc = vdupq_n_s16(0); /* at most FA_I8_NK / 8 * 254 per lane */
    for (size_t j = 0; j < FA_I8_NK; j += 16) acc = vpadalq_s8(acc, vld1q_s8(vp + c * FA_I8_NK + j));
    colsum[c] = vaddlvq_s16(acc);
  }
}

/* 2 rows x 4 channels per step over npad keys (a multiple of 16), P - 128 by a flip of
 * the top bit, then + 128 * colsum. */
static void fa_i8_pv_neon(const void *pv, size_t mpad, size_t npad, const int8_t *vp,
                          size_t dvp, int32_t *acc) {
  const uint8_t *p = (const uint8_t *)pv;
  const int32_t *colsum = (const int32_t *)(const void *)(vp + FA_I8_NK * dvp);
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (size_t i = 0; i < mpad; i += 2) {
    const uint8_t *p0 = p + i * FA_I8_NK, *p1 = p0 + FA_I8_NK;
    for (size_t c = 0; c < dvp; c += 4) {
      const int8_t *b0 = vp + c * FA_I8_NK, *b1 = b0 + FA_I8_NK, *b2 = b1 + FA_I8_NK,
                   *b3 = b2 + FA_I8_NK;
      int32x4_t s00 = vdupq_n_s32(0), s01 = s00, s02 = s00, s03 = s00;
      int32x4_t s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (size_t j = 0; j < npad; j += 16) {
        const int8x16_t va0 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p0 + j), flip));
        const int8x16_t va1 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p1 + j), flip));
        const int8x16_t vb0 = vld1q_s8(b0 + j), vb1 = vld1q_s8(b1 + j);
        const int8x16_t vb2 = vld1q_s8(b2 + j), vb3 = vld1q_s8(b3 + j);
        s00 = fa_i8_dot16_neon(s00, va0, vb0), s01 = fa_i8_dot16_neon(s01, va0, vb1);
        s02 = fa_i8_dot16_neon(s02, va0, vb2), s03 = fa_i8_dot16_neon(s03, va0, vb3);
        s10 = fa_i8_dot16_neon(s10, va1, vb0), s11 = fa_i8_dot16_neon(s11, va1, vb1);
        s12 = fa_i8_dot16_neon(s12, va1, vb2), s13 = fa_i8_dot16_neon(s13, va1, vb3);
      }
      const int32x4_t bias = vshlq_n_s32(vld1q_s32(colsum + c), 7);
      vst1q_s32(acc + i * dvp + c, vaddq_s32(fa_i8_hsum4_neon(s00, s01, s02, s03), bias));
      vst1q_s32(acc + (i + 1) * dvp + c, vaddq_s32(fa_i8_hsum4_neon(s10, s11, s12, s13), bias));
    }
  }
}

static const fa_i8_ukernels fa_i8_ukernels_neon = {
    1,                   fa_i8_pack_k_neon,   fa_i8_qk_neon,     fa_i8_dequant_neon, fa_i8_max_neon,
    fa_i8_exp_lut_neon,  fa_i8_pack_v_neon, fa_i8_pv_neon};

#endif
