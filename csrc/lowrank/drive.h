/* What the entry points of the low-rank ops (linear, Performer, Linformer) share: their
 * attention checks and their run on common/driver.c, one job per (batch, group of query
 * heads of one kv head). Internal; built with no ISA flags. */
#ifndef FASTATTN_LOWRANK_DRIVE_H
#define FASTATTN_LOWRANK_DRIVE_H

#include "common/driver.h"
#include "fastattn/dense.h"

/* What each job gets: the op's params and how many consecutive query heads (all of one kv
 * head) it runs. Its key-side work (key features, the kᵀv state, the projections) is done
 * once for them; job->h counts groups, so query head t of the job is job->h * heads + t. */
typedef struct fa_lr_job_params {
  const void *op;
  size_t heads;
} fa_lr_job_params;

/* fa_dense_f32_check, then what no low-rank op can apply: a mask or a lower band edge
 * (and an upper one unless `band_hi` allows it). */
fa_status fa_lr_check_attn(const fa_dense_f32_params *a, int band_hi);

/* Runs `op` (whose attention fields are `a`, already checked) on the driver with
 * `workspace_bytes` per thread. */
fa_status fa_lr_drive(const void *op, const fa_dense_f32_params *a, size_t workspace_bytes,
                      const fa_variant *table, size_t nvariants, size_t index, size_t nthreads,
                      void *workspace, size_t workspace_size);

#endif
