/* aarch64 Advanced SIMD float32 micro-kernels for the flash engine. */
#ifndef FASTATTN_UKERNELS_F32_NEON_H
#define FASTATTN_UKERNELS_F32_NEON_H

#include <arm_neon.h>
#include <math.h>
#include "common/exp2.h"
#include "flash/f32.h"

/* exp2(x) as in the AVX2 kernel: 2^round(x) through the exponent field times a
 * degree-6 polynomial of the remainder; 0 below -126, NaN passed through. */
static inline float32x4_t fa_neon_exp2(float32x4_t x) {
  const float32x4_t lo = vdupq_n_f32(-126.0f), hi = vdupq_n_f32(127.0f);
  float32x4_t xc = vminq_f32(vmaxnmq_f32(x, lo), hi);
  float32x4_t n = vrndnq_f32(xc);
  float32x4_t f = vsubq_f32(xc, n);
  float32x4_t p = vdupq_n_f32(fa_exp2_poly6[0]);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[1]), p, f);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[2]), p, f);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[3]), p, f);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[4]), p, f);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[5]), p, f);
  p = vfmaq_f32(vdupq_n_f32(fa_exp2_poly6[6]), p, f);
  int32x4_t e = vshlq_n_s32(vcvtq_s32_f32(n), 23);
  float32x4_t r = vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), e));
  r = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(r), vcgeq_f32(x, lo)));
  const uint32x4_t is_num = vceqq_f32(x, x);
  return vbslq_f32(is_num, r, x);
}

/* 4 x 16 register tile: 16 accumulators, 4 loads of b per step of k. */
static void fa_f32_gemm_4x16_neon(size_t k, const float *a, size_t lda, const float *b,
                                  size_t ldb, float *c, size_t ldc, int accumulate) {
  float32x4_t acc[4][4];
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 4; j++)
      acc[i][j] = accumulate ? vld1q_f32(c + i * ldc + 4 * j) : vdupq_n_f32(0.0f);
  for (size_t p = 0; p < k; p++) {
    const float *brow = b + p * ldb;
    const float32x4_t b0 = vld1q_f32(brow), b1 = vld1q_f32(brow + 4);
    const float32x4_t b2 = vld1q_f32(brow + 8), b3 = vld1q_f32(brow + 12);
    for (size_t i = 0; i < 4; i++) {
      const float ai = a[i * lda + p];
      acc[i][0] = vfmaq_n_f32(acc[i][0], b0, ai);
      acc[i][1] = vfmaq_n_f32(acc[i][1], b1, ai);
      acc[i][2] = vfmaq_n_f32(acc[i][2], b2, ai);
      acc[i][3] = vfmaq_n_f32(acc[i][3], b3, ai);
    }
  }
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 4; j++) vst1q_f32(c + i * ldc + 4 * j, acc[i][j]);
}

static float fa_f32_max_neon(const float *x, size_t n) {
  /* FMAX propagates NaN, as the flash engine requires. */
  float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
  for (size_t i = 0; i < n; i += 8) {
    m0 = vmaxq_f32(m0, vld1q_f32(x + i));
    m1 = vmaxq_f32(m1, vld1q_f32(x + i + 4));
  }
  return vmaxvq_f32(vmaxq_f32(m0, m1));
}

static float fa_f32_exp2_sum_neon(float *x, size_t n, float shift) {
  const float32x4_t sh = vdupq_n_f32(shift);
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
  float *p = x;
  for (size_t i = 0; i < n; i += 8, p += 8) {
    const float32x4_t e0 = fa_neon_exp2(vsubq_f32(vld1q_f32(p), sh));
    const float32x4_t e1 = fa_neon_exp2(vsubq_f32(vld1q_f32(p + 4), sh));
    vst1q_f32(p, e0);
    vst1q_f32(p + 4, e1);
    /* an empty asm between the stores and p's increment: the compiler cannot fold the
     * increment into the store (stp q, q, [p], #32), which would put the next loads behind
     * the stored data, i.e. behind the whole exp (llvm-mca's A57 model: 102 instead of 45
     * cycles per 8 floats; clang did it in Linformer's softmax, gcc to other forms) */
    __asm__("" : "+r"(p));
    s0 = vaddq_f32(s0, e0);
    s1 = vaddq_f32(s1, e1);
  }
  return vaddvq_f32(vaddq_f32(s0, s1));
}

static void fa_f32_scale_neon(float *x, size_t n, float s) {
  float *p = x;
  for (size_t i = 0; i < n; i += 4, p += 4) {
    vst1q_f32(p, vmulq_n_f32(vld1q_f32(p), s));
    __asm__("" : "+r"(p)); /* as in exp2_sum: no increment folded into the store */
  }
}

/* Transposes 4 x 4 blocks of the key tile in registers; edges go through the portable loop. */
static void fa_f32_pack_kt_neon(const float *k, ptrdiff_t k_rs, size_t n, size_t d, float *kt) {
  const size_t n4 = n & ~(size_t)3, d4 = d & ~(size_t)3;
  for (size_t c = 0; c < n4; c += 4) {
    const float *r0 = k + (ptrdiff_t)c * k_rs, *r1 = r0 + k_rs, *r2 = r1 + k_rs, *r3 = r2 + k_rs;
    for (size_t x = 0; x < d4; x += 4) {
      const float32x4_t a = vld1q_f32(r0 + x), b = vld1q_f32(r1 + x);
      const float32x4_t e = vld1q_f32(r2 + x), f = vld1q_f32(r3 + x);
      const float32x4_t ab_lo = vtrn1q_f32(a, b), ab_hi = vtrn2q_f32(a, b);
      const float32x4_t ef_lo = vtrn1q_f32(e, f), ef_hi = vtrn2q_f32(e, f);
      float *dst = kt + x * FA_F32_NK + c;
      vst1q_f32(dst, vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(ab_lo),
                                                       vreinterpretq_f64_f32(ef_lo))));
      vst1q_f32(dst + FA_F32_NK, vreinterpretq_f32_f64(vtrn1q_f64(
                                     vreinterpretq_f64_f32(ab_hi), vreinterpretq_f64_f32(ef_hi))));
      vst1q_f32(dst + 2 * FA_F32_NK, vreinterpretq_f32_f64(vtrn2q_f64(
                                         vreinterpretq_f64_f32(ab_lo), vreinterpretq_f64_f32(ef_lo))));
      vst1q_f32(dst + 3 * FA_F32_NK, vreinterpretq_f32_f64(vtrn2q_f64(
                                         vreinterpretq_f64_f32(ab_hi), vreinterpretq_f64_f32(ef_hi))));
    }
  }
  fa_f32_pack_kt_edges(k, k_rs, n4, d4, n, d, kt);
}

static const fa_f32_ukernels fa_f32_ukernels_neon = {
    4, fa_f32_gemm_4x16_neon, fa_f32_max_neon, fa_f32_exp2_sum_neon, fa_f32_scale_neon,
    fa_f32_pack_kt_neon};

#endif
