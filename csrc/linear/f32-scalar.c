/* Linear attention, float32, portable C: the job of
 * linear/job-f32.h on the micro-kernels of lowrank/f32-scalar.h. */
#include "linear/job-f32.h"
#include "lowrank/f32-scalar.h"

fa_status fa_linear_f32__scalar(const void *params, const fa_job *job, void *workspace) {
  return fa_linear_f32_job(&fa_lr_ukernels_scalar, params, job, workspace);
}
