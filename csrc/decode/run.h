/* What the two decode entry points (dispatch-f32.c, dispatch-i8.c) share: the task made
 * from their params, the workspace plan (per-thread slices, prepared queries, per-split
 * partials), the checks and query preparation every call makes, the exact merge of the
 * splits and the call of the split-K driver. Built with no ISA flags. */
#ifndef FASTATTN_DECODE_RUN_H
#define FASTATTN_DECODE_RUN_H

#include "decode/engine.h"

/* The task fields of a params struct `p` that names them as fastattn/dense.h does (both
 * decode params structs do); the int8 entry point adds its scales. */
#define FA_DECODE_TASK(p, elem_bytes)                                                         \
  (fa_decode_task) {                                                                          \
    .batch = (p)->batch, .heads = (p)->heads, .kv_heads = (p)->kv_heads, .lq = (p)->lq,       \
    .lk = (p)->lk, .d = (p)->d, .dv = (p)->dv, .q = (p)->q, .k = (const char *)(p)->k,        \
    .v = (const char *)(p)->v, .elem = (elem_bytes), .out = (p)->out, .mask = (p)->mask,      \
    .q_stride = (p)->q_stride, .k_stride = (p)->k_stride, .v_stride = (p)->v_stride,          \
    .out_stride = (p)->out_stride, .mask_stride = (p)->mask_stride, .scale = (p)->scale,      \
    .band_lo = (p)->band_lo, .band_hi = (p)->band_hi                                          \
  }

/* Writes the prepared form of query row src[0, d) (scale applied) into the zeroed
 * row_bytes at dst. */
typedef void (*fa_decode_prep_fn)(const float *src, size_t d, float scale, char *dst);

/* Total workspace bytes of task t on nthreads threads, prepared rows of qrow_bytes. */
size_t fa_decode_workspace(const fa_decode_task *t, size_t qrow_bytes, size_t nthreads);

/* Checks threads and workspace, prepares every query row, completes t and runs variant
 * `index` of table, then merges the splits. */
fa_status fa_decode_run(fa_decode_task *t, size_t qrow_bytes, fa_decode_prep_fn prep,
                        const fa_variant *table, size_t nvariants, size_t index,
                        size_t nthreads, void *workspace, size_t workspace_size);

#endif
