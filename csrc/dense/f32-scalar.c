/* Dense attention, float32, portable C. */
#include "dense/job-f32.h"
#include "ukernels/f32-scalar.h"

fa_status fa_dense_f32__scalar(const fa_dense_f32_params *p, size_t job, void *workspace) {
  return fa_dense_f32_job(&fa_f32_ukernels_scalar, p, job, workspace);
}
