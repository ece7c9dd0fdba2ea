/* The one driver every op runs through, and the checks memory safety needs. Internal
 * (not installed); built with no ISA flags.
 *
 * An op's entry point checks its own arguments with the fa_check_* helpers, fills an
 * fa_run and calls fa_drive, which
 *   - rejects a bad variant index, thread count, an ISA this CPU lacks, a short workspace;
 *   - applies the empty-sequence rules: no query rows, nothing to do; no keys, every
 *     output row is zeros (a row that sees no key is zeros);
 *   - makes batch x heads x ceil(lq / rows) jobs, the last query blocks first (under a
 *     causal mask they are the longest, so the threads finish close together), gives each
 *     thread its workspace slice, runs them on the pool and returns the first failing
 *     job's status (any job's failure fails the call). */
#ifndef FASTATTN_COMMON_DRIVER_H
#define FASTATTN_COMMON_DRIVER_H

#include <stddef.h>
#include "fastattn/variant.h"

typedef struct fa_run {
  const void *params;           /* handed to every job */
  size_t batch, heads, lq, lk;  /* the job grid, and lk for the empty rule */
  size_t rows;                  /* query rows per job */
  size_t workspace;             /* bytes each thread needs */
  float *out;                   /* [batch][heads][lq][dv], zeroed when lk == 0 */
  const ptrdiff_t *out_stride;  /* element strides of out's first three axes */
  size_t dv;
} fa_run;

fa_status fa_drive(const fa_run *run, const fa_variant *table, size_t nvariants, size_t index,
                   size_t nthreads, void *workspace, size_t workspace_size);

/* FA_OK when `len` elements from `ptr` hold every element of a [n[0]][n[1]][n[2]][n[3]]
 * view with element strides s[0..2] and 1 on the last axis; an empty view needs nothing.
 * FA_ERR_NULL for a NULL pointer to a non-empty view, FA_ERR_BOUNDS otherwise. */
fa_status fa_check_view(const void *ptr, size_t len, const size_t n[4], const ptrdiff_t s[3]);

typedef struct fa_view {
  const void *ptr;
  size_t len;
  const ptrdiff_t *stride;
} fa_view;

/* What every attention op shares. sizes: batch, heads, kv_heads, lq, lk, d, dv: d and dv
 * nonzero and below 2^16 (which keeps |q.k| <= d * 127^2 inside int32), heads a multiple
 * of kv_heads, every size below 2^40 (so no index product overflows); band_lo <= band_hi;
 * views: q, k, v, out and mask (optional: a NULL mask is no mask) hold their shapes; a
 * view with a NULL stride is skipped (an op whose layout is not [n][n][n][n] checks it). */
fa_status fa_check_attn(const size_t sizes[7], ptrdiff_t band_lo, ptrdiff_t band_hi,
                        const fa_view views[5]);

/* fa_check_attn of an attention params struct `p` that names its fields as fastattn/dense.h
 * does (the float32 and int8 params both do), and the fa_run of attention `a` whose jobs
 * get `params`. */
#define FA_CHECK_ATTN(p)                                                                    \
  fa_check_attn((const size_t[7]){(p)->batch, (p)->heads, (p)->kv_heads, (p)->lq, (p)->lk,  \
                                  (p)->d, (p)->dv},                                         \
                (p)->band_lo, (p)->band_hi,                                                 \
                (const fa_view[5]){{(p)->q, (p)->q_len, (p)->q_stride},                     \
                                   {(p)->k, (p)->k_len, (p)->k_stride},                     \
                                   {(p)->v, (p)->v_len, (p)->v_stride},                     \
                                   {(p)->out, (p)->out_len, (p)->out_stride},               \
                                   {(p)->mask, (p)->mask_len, (p)->mask_stride}})
#define FA_ATTN_RUN(params, a, rows_per_job, workspace_bytes)                                \
  (fa_run) {                                                                                \
    (params), (a)->batch, (a)->heads, (a)->lq, (a)->lk, (rows_per_job), (workspace_bytes),    \
        (a)->out, (a)->out_stride, (a)->dv                                                  \
  }

#endif
