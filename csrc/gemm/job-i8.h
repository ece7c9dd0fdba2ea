/* One int8 GEMM job (FA_GEMM_I8_MB rows x FA_GEMM_I8_PB weight panels), shared by every
 * ISA: each ISA file supplies the tile that computes mr <= its MR rows x one panel. */
#ifndef FASTATTN_GEMM_JOB_I8_H
#define FASTATTN_GEMM_JOB_I8_H

#include <string.h>

#include "fastattn/gemm_i8.h"

#define FA_GEMM_I8_MR_MAX 8

/* A tile: mr rows x one panel. Its packed weights w (kp / 4 groups of NR channels x 4
 * inputs) with their w_scale and bias (NR each); for each of its MR rows r, the row's int8
 * inputs x[r] and their sum x_sum[r] (rows past mr repeat the first: computed from valid
 * rows, never stored), and x_scale[r] for r < mr. */
typedef struct fa_gemm_i8_tile {
  size_t mr, kp;
  const int8_t *w;
  const float *w_scale, *bias, *x_scale;
  const int8_t *x[FA_GEMM_I8_MR_MAX];
  int32_t x_sum[FA_GEMM_I8_MR_MAX];
} fa_gemm_i8_tile;

/* Writes the tile's mr rows (all NR columns) to dst, row stride ds. A function of its own
 * (noinline): inlined into the job loop, GCC spills the row pointers of its inner loop. */
typedef void (*fa_gemm_i8_tile_fn)(const fa_gemm_i8_tile *t, float *dst, ptrdiff_t ds);

static inline size_t fa_gemm_i8_npanels(const fa_gemm_i8_params *p) {
  return (p->n + FA_GEMM_I8_NR - 1) / FA_GEMM_I8_NR;
}

/* workspace: FA_GEMM_I8_MR_MAX x NR floats for the last, partial panel. The job fills each
 * tile's inputs once (its rows once per row group), so a tile is its kernel and its epilogue. */
static inline fa_status fa_gemm_i8_job(fa_gemm_i8_tile_fn tile, size_t mr_max,
                                       const void *params, const fa_job *job,
                                       void *workspace) {
  const fa_gemm_i8_params *p = (const fa_gemm_i8_params *)params;
  const size_t np = fa_gemm_i8_npanels(p), pn0 = job->h * FA_GEMM_I8_PB;
  const size_t pn1 = pn0 + FA_GEMM_I8_PB < np ? pn0 + FA_GEMM_I8_PB : np;
  float *tmp = (float *)workspace;
  fa_gemm_i8_tile t = {.kp = p->kp};
  for (size_t m = job->q0; m < job->q1; m += mr_max) {
    const size_t mr = job->q1 - m < mr_max ? job->q1 - m : mr_max;
    t.mr = mr, t.x_scale = p->x_scale + m;
    for (size_t r = 0; r < mr_max; r++) {
      const size_t row = m + (r < mr ? r : 0);
      t.x[r] = p->xq + row * p->kp;
      t.x_sum[r] = p->x_sum[row];
    }
    for (size_t pn = pn0; pn < pn1; pn++) {
      const size_t c0 = pn * FA_GEMM_I8_NR;
      float *out = p->out + (ptrdiff_t)m * p->out_stride + (ptrdiff_t)c0;
      t.w = p->w + pn * p->kp * FA_GEMM_I8_NR;
      t.w_scale = p->w_scale + c0, t.bias = p->bias + c0;
      if (c0 + FA_GEMM_I8_NR <= p->n) {
        tile(&t, out, p->out_stride);
        continue;
      }
      tile(&t, tmp, FA_GEMM_I8_NR);
      for (size_t r = 0; r < mr; r++)
        memcpy(out + (ptrdiff_t)r * p->out_stride, tmp + r * FA_GEMM_I8_NR,
               (p->n - c0) * sizeof(float));
    }
  }
  return FA_OK;
}

/* Four int8 inputs as one int32 (for broadcasting a group). */
static inline int32_t fa_gemm_i8_load4(const int8_t *x) {
  int32_t v;
  memcpy(&v, x, 4);
  return v;
}

#endif
