/* The dtype-independent half of a sparse job: the key ranges of one query block, shared
 * by the float32 and int8 jobs. */
#ifndef FASTATTN_SPARSE_LAYOUT_H
#define FASTATTN_SPARSE_LAYOUT_H

#include "fastattn/sparse.h"
#include "fastattn/variant.h"
#include "flash/f32.h"

/* The key ranges of query block `qb`: its listed blocks, adjacent ones merged so
 * that key tiles stay full. `out` holds at least nkblocks ranges. */
static inline size_t fa_sparse_ranges(const fa_sparse_layout *l, size_t layout, size_t qb,
                                      size_t lk, fa_range *out) {
  const int32_t *row = l->indptr + layout * (l->nqblocks + 1) + qb;
  size_t n = 0;
  for (int32_t e = row[0]; e < row[1]; e++) {
    const size_t begin = (size_t)l->indices[e] * l->block_k;
    const size_t end = begin + l->block_k < lk ? begin + l->block_k : lk;
    if (n > 0 && out[n - 1].end == begin) {
      out[n - 1].end = end;
    } else {
      out[n].begin = begin;
      out[n].end = end;
      n++;
    }
  }
  return n;
}

/* Bytes for the range list at the start of a job's workspace (16-byte aligned). */
static inline size_t fa_sparse_ranges_bytes(const fa_sparse_layout *l) {
  return fa_round_up(l->nkblocks * sizeof(fa_range), 64) + 16;
}

static inline fa_range *fa_sparse_ranges_buffer(void *workspace) {
  return (fa_range *)(((size_t)workspace + 15) & ~(size_t)15);
}

/* The key ranges of a job (one query block of one batch x head), written at the start of
 * its workspace; returns how many. The engine's workspace follows fa_sparse_ranges_bytes. */
static inline size_t fa_sparse_job_ranges(const fa_sparse_layout *l, size_t heads, size_t lk,
                                          const fa_job *job, void *workspace, fa_range **ranges) {
  const size_t layout = (size_t)l->layout_of[job->b * heads + job->h];
  *ranges = fa_sparse_ranges_buffer(workspace);
  return fa_sparse_ranges(l, layout, job->q0 / l->block_q, lk, *ranges);
}

#endif
