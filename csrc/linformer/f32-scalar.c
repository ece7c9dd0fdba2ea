/* Linformer attention, float32, portable C. */
#include "linformer/job-f32.h"
#include "ukernels/f32-scalar.h"

fa_status fa_linformer_f32__scalar(const fa_linformer_f32_params *p, size_t job, void *workspace) {
  return fa_linformer_f32_job(&fa_f32_ukernels_scalar, p, job, workspace);
}
