/* Block-sparse attention, float32, portable C. */
#include "ukernels/f32-scalar.h"
#include "sparse/job-f32.h"

fa_status fa_sparse_f32__scalar(const fa_sparse_f32_params *p, size_t job, void *workspace) {
  return fa_sparse_f32_job(&fa_f32_ukernels_scalar, p, job, workspace);
}
