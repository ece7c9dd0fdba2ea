/* Linear attention, float32, portable C. */
#include "linear/job-f32.h"
#include "lowrank/f32-scalar.h"

fa_status fa_linear_f32__scalar(const fa_linear_f32_params *p, size_t job, void *workspace) {
  return fa_linear_f32_job(&fa_lr_ukernels_scalar, p, job, workspace);
}

unsigned long long fa_f32_peak__scalar(unsigned long long iters, float *sink) {
  float acc[8] = {0};
  const float a = 1.0f + 1e-7f, b = 1e-7f;
  for (unsigned long long i = 0; i < iters; i++)
    for (int j = 0; j < 8; j++) acc[j] = acc[j] * a + b;
  *sink = acc[0] + acc[7];
  return iters * 8 * 2;
}
