/* The int8 quantiser (fastattn/quant_i8.h), portable C: its job (quant/job-i8.h) on
 * element-by-element loops. */
#include "common/target.h"
FA_EXACT_FP /* must match the reference bit for bit */

#include "quant/job-i8.h"

static void sum_rows(double *sum, const float *x, size_t len, size_t d, size_t nc) {
  for (size_t t = 0; t < len; t++)
    for (size_t c = 0; c < nc; c++) sum[c] += (double)x[t * d + c];
}

static uint32_t absmax_rows(uint32_t m, const float *x, const float *mean, size_t rows,
                            size_t d) {
  for (size_t t = 0; t < rows; t++)
    for (size_t c = 0; c < d; c++)
      m = fa_quant_i8_absbits_max(m, mean ? x[t * d + c] - mean[c] : x[t * d + c]);
  return m;
}

static void quant_rows(int8_t *q, const float *x, const float *mean, float s, size_t rows,
                       size_t d, float magic) {
  for (size_t t = 0; t < rows; t++)
    for (size_t c = 0; c < d; c++) {
      const float y = mean ? x[t * d + c] - mean[c] : x[t * d + c];
      q[t * d + c] = fa_quant_i8_code(y / s, magic);
    }
}

static void absmax_channels(uint32_t *m, const float *x, size_t len, size_t d) {
  for (size_t t = 0; t < len; t++)
    for (size_t c = 0; c < d; c++) m[c] = fa_quant_i8_absbits_max(m[c], x[t * d + c]);
}

static void quant_channels(int8_t *q, const float *x, const float *s, size_t len, size_t d,
                           float magic) {
  for (size_t t = 0; t < len; t++)
    for (size_t c = 0; c < d; c++) q[t * d + c] = fa_quant_i8_code(x[t * d + c] / s[c], magic);
}

static const fa_quant_i8_ukernels uk = {sum_rows, absmax_rows, quant_rows, absmax_channels,
                                        quant_channels};

fa_status fa_quant_i8__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_quant_i8_job(&uk, params, job, workspace);
}
