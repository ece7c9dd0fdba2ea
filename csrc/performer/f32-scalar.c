/* Performer (FAVOR+) attention, float32, portable C. */
#include "lowrank/f32-scalar.h"
#include "performer/job-f32.h"

fa_status fa_performer_f32__scalar(const fa_performer_f32_params *p, size_t job, void *workspace) {
  return fa_performer_f32_job(&fa_lr_ukernels_scalar, p, job, workspace);
}
