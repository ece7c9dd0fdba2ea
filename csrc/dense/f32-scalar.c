/* Dense attention, float32, portable C: the dense float32 job (dense/job-f32.h) on the
 * micro-kernels of ukernels/f32-scalar.h. */
#include "dense/job-f32.h"
#include "ukernels/f32-scalar.h"

fa_status fa_dense_f32__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_dense_f32_job(&fa_f32_ukernels_scalar, params, job, workspace);
}
