/* The driver's split-K form, for ops whose jobs split the keys rather than the queries
 * (decoding: a few query rows against a long key/value cache). Internal; built with no
 * ISA flags.
 *
 * fa_drive_split makes batch x groups x ceil(lk / split) jobs; job {b, h, q0, q1} of a
 * split-K op means group h of batch row b and the KEY range [q0, q1) of one split (the
 * splits are fixed by lk and split, never by the thread count, so results do not depend
 * on it). Each job gets its thread's workspace slice and leaves whatever partial result
 * the op keeps in its params; when there is more than one split, merge(params, b, h) runs
 * once per (b, h) to combine them, on the thread whose split of (b, h) finished last (one
 * pass over the pool, not two: a counter per (b, h) after the thread slices of the
 * workspace, see fa_split_workspace). Same checks and status rules as fa_drive (bad
 * variant, threads, unsupported ISA, short workspace; first failing job). */
#ifndef FASTATTN_COMMON_SPLIT_H
#define FASTATTN_COMMON_SPLIT_H

#include <stddef.h>
#include "fastattn/variant.h"

typedef struct fa_split_run {
  const void *params;    /* handed to every job and to merge */
  size_t batch, groups;  /* the job grid */
  size_t lk, split;      /* keys, keys per split (> 0); lk = 0 still makes one empty split */
  size_t workspace;      /* bytes each thread needs */
  void (*merge)(const void *params, size_t b, size_t h); /* run when the splits are > 1 */
} fa_split_run;

static inline size_t fa_split_count(size_t lk, size_t split) {
  return lk == 0 ? 1 : (lk + split - 1) / split;
}

/* Workspace bytes fa_drive_split needs on nthreads threads: nthreads slices of
 * run->workspace bytes, then the counters (a multiple of 64). */
size_t fa_split_workspace(const fa_split_run *run, size_t nthreads);

fa_status fa_drive_split(const fa_split_run *run, const fa_variant *table, size_t nvariants,
                         size_t index, size_t nthreads, void *workspace, size_t workspace_size);

#endif
