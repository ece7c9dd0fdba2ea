/* int8 GEMM, portable C: the plain loops over the packed layout. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* the epilogue must match the reference bit for bit */
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* clang contracts a * b + c within an expression by default */
#endif

#include "gemm/job-i8.h"
#include "gemm/kernels-i8.h"

static void tile_scalar(const fa_gemm_i8_params *p, size_t m0, size_t mr, size_t panel,
                        float *dst, ptrdiff_t ds) {
  const int8_t *w = fa_gemm_i8_panel(p, panel);
  const float *ws = p->w_scale + panel * FA_GEMM_I8_NR, *b = p->bias + panel * FA_GEMM_I8_NR;
  for (size_t r = 0; r < mr; r++) {
    const int8_t *x = fa_gemm_i8_row(p, m0, mr, r);
    int32_t acc[FA_GEMM_I8_NR] = {0};
    for (size_t g = 0; g < p->kp / 4; g++)
      for (size_t c = 0; c < FA_GEMM_I8_NR; c++)
        for (size_t u = 0; u < 4; u++)
          acc[c] += (int32_t)x[4 * g + u] * (int32_t)w[(g * FA_GEMM_I8_NR + c) * 4 + u];
    const float xs = p->x_scale[m0 + r];
    for (size_t c = 0; c < FA_GEMM_I8_NR; c++) {
      const float s = xs * ws[c];
      dst[(ptrdiff_t)r * ds + (ptrdiff_t)c] = (float)acc[c] * s + b[c];
    }
  }
}

fa_status fa_gemm_i8__scalar(const fa_gemm_i8_params *p, size_t job) {
  return fa_gemm_i8_job(tile_scalar, 4, p, job);
}
