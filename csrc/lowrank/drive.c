/* The low-rank ops' shared checks and run (see lowrank/drive.h). */
#include "lowrank/drive.h"

fa_status fa_lr_check_attn(const fa_dense_f32_params *a, int band_hi) {
  const fa_status s = fa_dense_f32_check(a);
  if (s != FA_OK) return s;
  if (a->mask || a->band_lo != -FA_BAND_NONE || (!band_hi && a->band_hi != FA_BAND_NONE))
    return FA_ERR_INVALID;
  return FA_OK;
}

/* Query heads per job: all of a kv head's, unless that leaves threads idle; then the
 * largest divisor of the group that still gives every thread a job (1 when no divisor
 * does, or when there are no keys: the driver's empty rule zeroes rows head by head). */
static size_t fa_lr_heads_per_job(const fa_dense_f32_params *a, size_t nthreads) {
  if (a->lk == 0 || a->kv_heads == 0) return 1;
  const size_t group = a->heads / a->kv_heads;
  for (size_t g = group; g > 1; g--)
    if (group % g == 0 && a->batch * (a->heads / g) >= nthreads) return g;
  return 1;
}

fa_status fa_lr_drive(const void *op, const fa_dense_f32_params *a, size_t workspace_bytes,
                      const fa_variant *table, size_t nvariants, size_t index, size_t nthreads,
                      void *workspace, size_t workspace_size) {
  const fa_lr_job_params job = {op, fa_lr_heads_per_job(a, nthreads ? nthreads : 1)};
  const fa_run run = {&job, a->batch, a->heads / job.heads, a->lq, a->lk,
                      a->lq ? a->lq : 1, workspace_bytes, a->out, a->out_stride, a->dv};
  return fa_drive(&run, table, nvariants, index, nthreads, workspace, workspace_size);
}
