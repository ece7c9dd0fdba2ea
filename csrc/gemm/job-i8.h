/* One int8 GEMM job (FA_GEMM_I8_MB rows x FA_GEMM_I8_PB weight panels), shared by every
 * ISA: each ISA file supplies the tile that computes mr <= its MR rows x one panel. */
#ifndef FASTATTN_GEMM_JOB_I8_H
#define FASTATTN_GEMM_JOB_I8_H

#include <string.h>

#include "fastattn/gemm_i8.h"

#define FA_GEMM_I8_MR_MAX 8

/* Writes rows m0 .. m0 + mr of panel `panel` (all NR columns) to dst, row stride ds.
 * Rows past mr may be computed (from valid rows) but are never stored. */
typedef void (*fa_gemm_i8_tile_fn)(const fa_gemm_i8_params *p, size_t m0, size_t mr,
                                   size_t panel, float *dst, ptrdiff_t ds);

static inline size_t fa_gemm_i8_npanels(const fa_gemm_i8_params *p) {
  return (p->n + FA_GEMM_I8_NR - 1) / FA_GEMM_I8_NR;
}

/* workspace: FA_GEMM_I8_MR_MAX x NR floats for the last, partial panel. */
static inline fa_status fa_gemm_i8_job(fa_gemm_i8_tile_fn tile, size_t mr_max,
                                       const void *params, const fa_job *job,
                                       void *workspace) {
  const fa_gemm_i8_params *p = (const fa_gemm_i8_params *)params;
  const size_t np = fa_gemm_i8_npanels(p), pn0 = job->h * FA_GEMM_I8_PB;
  const size_t pn1 = pn0 + FA_GEMM_I8_PB < np ? pn0 + FA_GEMM_I8_PB : np;
  float *tmp = (float *)workspace;
  for (size_t m = job->q0; m < job->q1; m += mr_max) {
    const size_t mr = job->q1 - m < mr_max ? job->q1 - m : mr_max;
    for (size_t pn = pn0; pn < pn1; pn++) {
      const size_t c0 = pn * FA_GEMM_I8_NR;
      float *out = p->out + (ptrdiff_t)m * p->out_stride + (ptrdiff_t)c0;
      if (c0 + FA_GEMM_I8_NR <= p->n) {
        tile(p, m, mr, pn, out, p->out_stride);
        continue;
      }
      tile(p, m, mr, pn, tmp, FA_GEMM_I8_NR);
      for (size_t r = 0; r < mr; r++)
        memcpy(out + (ptrdiff_t)r * p->out_stride, tmp + r * FA_GEMM_I8_NR,
               (p->n - c0) * sizeof(float));
    }
  }
  return FA_OK;
}

/* Row r of the tile starting at m0, clamped to a valid row (rows past mr are not stored). */
static inline const int8_t *fa_gemm_i8_row(const fa_gemm_i8_params *p, size_t m0, size_t mr,
                                           size_t r) {
  return p->xq + (m0 + (r < mr ? r : 0)) * p->kp;
}

/* Four int8 inputs as one int32 (for broadcasting a group). */
static inline int32_t fa_gemm_i8_load4(const int8_t *x) {
  int32_t v;
  memcpy(&v, x, 4);
  return v;
}

static inline const int8_t *fa_gemm_i8_panel(const fa_gemm_i8_params *p, size_t panel) {
  return p->w + panel * p->kp * FA_GEMM_I8_NR;
}

#endif
