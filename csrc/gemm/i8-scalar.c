/* int8 GEMM, portable C: the plain loops over the packed layout. */

#include "common/target.h"
FA_EXACT_FP

#include "gemm/job-i8.h"

static void tile_scalar(const fa_gemm_i8_tile *t, float *dst, ptrdiff_t ds) {
  const float *ws = t->w_scale, *b = t->bias;
  for (size_t r = 0; r < t->mr; r++) {
    int32_t acc[FA_GEMM_I8_NR] = {0};
    for (size_t g = 0; g < t->kp / 4; g++)
      for (size_t c = 0; c < FA_GEMM_I8_NR; c++)
        for (size_t u = 0; u < 4; u++)
          acc[c] += (int32_t)t->x[r][4 * g + u] * (int32_t)t->w[(g * FA_GEMM_I8_NR + c) * 4 + u];
    const float xs = t->x_scale[r];
    for (size_t c = 0; c < FA_GEMM_I8_NR; c++) {
      const float s = xs * ws[c];
      const float y = (float)acc[c] * s; /* its own statement: clang contracts only within one */
      dst[(ptrdiff_t)r * ds + (ptrdiff_t)c] = y + b[c];
    }
  }
}

fa_status fa_gemm_i8__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_gemm_i8_job(tile_scalar, 4, params, job, workspace);
}
