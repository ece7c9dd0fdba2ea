/* What the two decode entry points (dispatch-f32.c, dispatch-i8.c) share: the workspace
 * plan (per-thread slices, prepared queries, per-split partials), the exact merge of the
 * splits and the call of the split-K driver. Built with no ISA flags. */
#ifndef FASTATTN_DECODE_RUN_H
#define FASTATTN_DECODE_RUN_H

#include "decode/engine.h"

typedef struct fa_decode_plan {
  size_t per_thread, qprep_off, partials_off, total, nsplits, rows, part_stride, qrow_bytes;
} fa_decode_plan;

fa_decode_plan fa_decode_make_plan(size_t batch, size_t heads, size_t kv_heads, size_t lq,
                                   size_t lk, size_t dv, size_t qrow_bytes, size_t nthreads);

/* The 64-byte aligned base of a workspace (plans keep 64 bytes of room for it). */
static inline char *fa_decode_base(void *workspace) {
  return (char *)(((size_t)workspace + 63) & ~(size_t)63);
}

/* Completes t from the plan (its regions inside base) and runs variant `index`. */
fa_status fa_decode_run(fa_decode_task *t, const fa_decode_plan *plan, const fa_variant *table,
                        size_t nvariants, size_t index, size_t nthreads, char *base);

#endif
