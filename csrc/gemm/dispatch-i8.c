/* int8 GEMM: its variants, checks, the activation quantisation and the entry point;
 * common/driver.c runs both passes. Built with no ISA flags. */
#include "common/target.h"
FA_EXACT_FP

#include <string.h>

#include "common/driver.h"
#include "gemm/job-i8.h"

#define FA_OP gemm
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_gemm_i8_workspace_size(void) { return FA_GEMM_I8_MR_MAX * FA_GEMM_I8_NR * sizeof(float); }

/* Rows [q0, q1) of x into xq, x_scale, x_sum: portable C, the reference's float32 steps. */
static fa_status quantize_rows(const void *params, const fa_job *job, void *workspace) {
  (void)workspace;
  const fa_gemm_i8_params *p = (const fa_gemm_i8_params *)params;
  const volatile float magic_v = 12582912.0f; /* 1.5 · 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v;
  for (size_t m = job->q0; m < job->q1; m++) {
    const float *x = p->x + (ptrdiff_t)m * p->x_stride;
    int8_t *q = p->xq + m * p->kp;
    uint32_t mbits = 0; /* max |x| as bit patterns, which order like the values */
    for (size_t c = 0; c < p->k; c++) {
      uint32_t bits;
      memcpy(&bits, x + c, 4);
      bits &= 0x7FFFFFFFu;
      mbits = bits > mbits ? bits : mbits;
    }
    if (mbits >= 0x7F800000u) return FA_ERR_NONFINITE;
    float amax;
    memcpy(&amax, &mbits, 4);
    const float s = amax == 0.0f ? 1.0f : amax / 127.0f;
    int32_t sum = 0;
    for (size_t c = 0; c < p->k; c++) {
      float y = (x[c] / s + magic) - magic;
      y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
      q[c] = (int8_t)y;
      sum += q[c];
    }
    memset(q + p->k, 0, p->kp - p->k);
    p->x_scale[m] = s;
    p->x_sum[m] = sum;
  }
  return FA_OK;
}

/* The quantisation pass as a one-entry table, so that it runs through the driver too. */
static const fa_variant quantize_table[] = {{"i8-scalar", FA_ISA_scalar, quantize_rows}};

static fa_status check(const fa_gemm_i8_params *p) {
  if (p->m == 0 || p->n == 0 || p->k == 0) return FA_ERR_SHAPE;
  if (p->k > FA_GEMM_I8_KMAX || p->m >= ((size_t)1 << 40) || p->n >= ((size_t)1 << 40))
    return FA_ERR_OVERFLOW;
  if (p->kp % FA_GEMM_I8_KALIGN != 0 || p->kp < p->k || p->kp - p->k >= FA_GEMM_I8_KALIGN)
    return FA_ERR_SHAPE;
  const size_t padded = (p->n + FA_GEMM_I8_NR - 1) / FA_GEMM_I8_NR * FA_GEMM_I8_NR;
  const ptrdiff_t none[3] = {0, 0, 0}, out_s[3] = {0, 0, p->out_stride};
  const ptrdiff_t x_s[3] = {0, 0, p->x_stride}, xq_s[3] = {0, 0, (ptrdiff_t)p->kp};
  const fa_view views[] = {{p->xq, p->xq_len, xq_s}, {p->out, p->out_len, out_s},
                           {p->x_scale, p->x_scale_len, none}, {p->x_sum, p->x_sum_len, none},
                           {p->w, p->w_len, none}, {p->w_scale, p->w_scale_len, none},
                           {p->bias, p->bias_len, none}, {p->x, p->x_len, x_s}};
  const size_t shapes[][4] = {{1, 1, p->m, p->kp}, {1, 1, p->m, p->n}, {1, 1, 1, p->m},
                              {1, 1, 1, p->m}, {1, 1, 1, padded * p->kp}, {1, 1, 1, padded},
                              {1, 1, 1, padded}, {1, 1, p->m, p->k}};
  for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
    if (i == 7 && !p->x) break; /* pre-quantised activations */
    const fa_status s = fa_check_view(views[i].ptr, views[i].len, shapes[i], views[i].stride);
    if (s != FA_OK) return s;
  }
  return FA_OK;
}

fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads,
                     void *workspace, size_t workspace_size) {
  fa_status s = p ? check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  const size_t blocks = (fa_gemm_i8_npanels(p) + FA_GEMM_I8_PB - 1) / FA_GEMM_I8_PB;
  const ptrdiff_t out_stride[3] = {0, 0, p->out_stride};
  if (p->x) { /* batch 1, heads 1, "queries" = rows: the driver's grid, lk = k (no empty rule) */
    const fa_run quant = {p, 1, 1, p->m, p->k, FA_GEMM_I8_MB, 0, p->out, out_stride, p->n};
    s = fa_drive(&quant, quantize_table, 1, 0, nthreads, workspace, workspace_size);
    if (s != FA_OK) return s;
  }
  const fa_run run = {p, 1, blocks, p->m, p->k, FA_GEMM_I8_MB, fa_gemm_i8_workspace_size(),
                      p->out, out_stride, p->n};
  return fa_drive(&run, fa_gemm_i8_variants, fa_gemm_i8_nvariants, index, nthreads, workspace,
                  workspace_size);
}
