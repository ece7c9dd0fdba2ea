/* Performer (FAVOR+) attention, float32, aarch64 Advanced SIMD. */
#if !defined(__aarch64__)
#error "f32-neon.c is for aarch64 only"
#endif

#include "lowrank/f32-neon.h"
#include "performer/job-f32.h"

fa_status fa_performer_f32__neon(const fa_performer_f32_params *p, size_t job, void *workspace) {
  return fa_performer_f32_job(&fa_lr_ukernels_neon, p, job, workspace);
}
