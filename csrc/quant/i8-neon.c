/* The int8 quantiser (fastattn/quant_i8.h), aarch64 Advanced SIMD: its job (quant/job-i8.h)
 * with one element per lane, 16 (8 for the float64 sums) at a time, the tails element by
 * element: the same float operations in the same order as quant/i8-scalar.c. */
#if !defined(__aarch64__)
#error "i8-neon.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP

#include <arm_neon.h>
#include "quant/job-i8.h"

static void sum_rows(double *sum, const float *x, size_t len, size_t d, size_t nc) {
  size_t c = 0;
  for (; c + 4 <= nc; c += 4) { /* each channel's sum still runs token after token */
    float64x2_t a0 = vld1q_f64(sum + c), a1 = vld1q_f64(sum + c + 2);
    for (size_t t = 0; t < len; t++) {
      const float32x4_t v = vld1q_f32(x + t * d + c);
      a0 = vaddq_f64(a0, vcvt_f64_f32(vget_low_f32(v)));
      a1 = vaddq_f64(a1, vcvt_high_f64_f32(v));
    }
    vst1q_f64(sum + c, a0);
    vst1q_f64(sum + c + 2, a1);
  }
  for (size_t t = 0; t < len; t++)
    for (size_t k = c; k < nc; k++) sum[k] += (double)x[t * d + k];
}

static inline uint32x4_t absbits(float32x4_t y) {
  return vandq_u32(vreinterpretq_u32_f32(y), vdupq_n_u32(0x7FFFFFFFu));
}

/* y = x - mean (x alone without a mean) for channels c..c+3 */
static inline float32x4_t load_y(const float *x, const float *mean, size_t c) {
  const float32x4_t y = vld1q_f32(x + c);
  return mean ? vsubq_f32(y, vld1q_f32(mean + c)) : y;
}

static uint32_t absmax_rows(uint32_t m, const float *x, const float *mean, size_t rows,
                            size_t d) {
  uint32x4_t a0 = vdupq_n_u32(m), a1 = a0;
  for (size_t t = 0; t < rows; t++) {
    const float *xt = x + t * d;
    size_t c = 0;
    for (; c + 8 <= d; c += 8) {
      a0 = vmaxq_u32(a0, absbits(load_y(xt, mean, c)));
      a1 = vmaxq_u32(a1, absbits(load_y(xt, mean, c + 4)));
    }
    for (; c + 4 <= d; c += 4) a0 = vmaxq_u32(a0, absbits(load_y(xt, mean, c)));
    for (; c < d; c++) m = fa_quant_i8_absbits_max(m, mean ? xt[c] - mean[c] : xt[c]);
  }
  const uint32_t v = vmaxvq_u32(vmaxq_u32(a0, a1));
  return v > m ? v : m;
}

/* 4 int32 codes from y / s: rint by the magic constant, clamp (no NaN: inputs were checked). */
static inline int32x4_t codes4(float32x4_t r, float32x4_t magic) {
  r = vsubq_f32(vaddq_f32(r, magic), magic);
  r = vmaxq_f32(vminq_f32(r, vdupq_n_f32(127.0f)), vdupq_n_f32(-127.0f));
  return vcvtq_s32_f32(r);
}

static inline int8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  const int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
  const int16x8_t hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
  return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

static void quant_rows(int8_t *q, const float *x, const float *mean, float s, size_t rows,
                       size_t d, float magic) {
  const float32x4_t vs = vdupq_n_f32(s), vm = vdupq_n_f32(magic);
  for (size_t t = 0; t < rows; t++) {
    const float *xt = x + t * d;
    int8_t *qt = q + t * d;
    size_t c = 0;
    for (; c + 16 <= d; c += 16) {
      int32x4_t k[4];
      for (int j = 0; j < 4; j++) k[j] = codes4(vdivq_f32(load_y(xt, mean, c + 4 * j), vs), vm);
      vst1q_s8(qt + c, narrow16(k[0], k[1], k[2], k[3]));
    }
    for (; c < d; c++) qt[c] = fa_quant_i8_code((mean ? xt[c] - mean[c] : xt[c]) / s, magic);
  }
}

static void absmax_channels(uint32_t *m, const float *x, size_t len, size_t d) {
  size_t c = 0;
  for (; c + 4 <= d; c += 4) {
    uint32x4_t a = vld1q_u32(m + c);
    for (size_t t = 0; t < len; t++) a = vmaxq_u32(a, absbits(vld1q_f32(x + t * d + c)));
    vst1q_u32(m + c, a);
  }
  for (size_t t = 0; t < len; t++)
    for (size_t k = c; k < d; k++) m[k] = fa_quant_i8_absbits_max(m[k], x[t * d + k]);
}

static void quant_channels(int8_t *q, const float *x, const float *s, size_t len, size_t d,
                           float magic) {
  const float32x4_t vm = vdupq_n_f32(magic);
  for (size_t t = 0; t < len; t++) {
    const float *xt = x + t * d;
    int8_t *qt = q + t * d;
    size_t c = 0;
    for (; c + 16 <= d; c += 16) {
      int32x4_t k[4];
      for (int j = 0; j < 4; j++)
        k[j] = codes4(vdivq_f32(vld1q_f32(xt + c + 4 * j), vld1q_f32(s + c + 4 * j)), vm);
      vst1q_s8(qt + c, narrow16(k[0], k[1], k[2], k[3]));
    }
    for (; c < d; c++) qt[c] = fa_quant_i8_code(xt[c] / s[c], magic);
  }
}

static const fa_quant_i8_ukernels uk = {sum_rows, absmax_rows, quant_rows, absmax_channels,
                                        quant_channels};

fa_status fa_quant_i8__neon(const void *params, const fa_job *job, void *workspace) {
  return fa_quant_i8_job(&uk, params, job, workspace);
}
