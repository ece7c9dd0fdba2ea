/* One int8 GEMM job (a block of rows x a block of weight panels), shared by every ISA:
 * each ISA file supplies the tile that computes mr <= its MR rows x one panel. */
#ifndef FASTATTN_GEMM_JOB_I8_H
#define FASTATTN_GEMM_JOB_I8_H

#include <string.h>

#include "fastattn/gemm_i8.h"

#define FA_GEMM_I8_MB 32 /* rows per job (a multiple of every tile's MR) */
#define FA_GEMM_I8_PB 4  /* panels per job */
#define FA_GEMM_I8_MR_MAX 8

/* Writes rows m0 .. m0 + mr of panel `panel` (all NR columns) to dst, row stride ds.
 * Rows past mr may be computed (from valid rows) but are never stored. */
typedef void (*fa_gemm_i8_tile_fn)(const fa_gemm_i8_params *p, size_t m0, size_t mr,
                                   size_t panel, float *dst, ptrdiff_t ds);

static inline size_t fa_gemm_i8_npanels(const fa_gemm_i8_params *p) {
  return (p->n + FA_GEMM_I8_NR - 1) / FA_GEMM_I8_NR;
}

static inline size_t fa_gemm_i8_njobs(const fa_gemm_i8_params *p) {
  return (p->m + FA_GEMM_I8_MB - 1) / FA_GEMM_I8_MB *
         ((fa_gemm_i8_npanels(p) + FA_GEMM_I8_PB - 1) / FA_GEMM_I8_PB);
}

static inline fa_status fa_gemm_i8_job(fa_gemm_i8_tile_fn tile, size_t mr_max,
                                       const fa_gemm_i8_params *p, size_t job) {
  const size_t np = fa_gemm_i8_npanels(p), pj = (np + FA_GEMM_I8_PB - 1) / FA_GEMM_I8_PB;
  const size_t m0 = job / pj * FA_GEMM_I8_MB, pn0 = job % pj * FA_GEMM_I8_PB;
  const size_t m1 = m0 + FA_GEMM_I8_MB < p->m ? m0 + FA_GEMM_I8_MB : p->m;
  const size_t pn1 = pn0 + FA_GEMM_I8_PB < np ? pn0 + FA_GEMM_I8_PB : np;
  float tmp[FA_GEMM_I8_MR_MAX * FA_GEMM_I8_NR];
  for (size_t m = m0; m < m1; m += mr_max) {
    const size_t mr = m1 - m < mr_max ? m1 - m : mr_max;
    for (size_t pn = pn0; pn < pn1; pn++) {
      const size_t c0 = pn * FA_GEMM_I8_NR;
      float *out = p->out + (ptrdiff_t)m * p->out_stride + (ptrdiff_t)c0;
      if (c0 + FA_GEMM_I8_NR <= p->n) {
        tile(p, m, mr, pn, out, p->out_stride);
        continue;
      }
      tile(p, m, mr, pn, tmp, FA_GEMM_I8_NR); /* the last, partial panel */
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

static inline const int8_t *fa_gemm_i8_panel(const fa_gemm_i8_params *p, size_t panel) {
  return p->w + panel * p->kp * FA_GEMM_I8_NR;
}

#endif
