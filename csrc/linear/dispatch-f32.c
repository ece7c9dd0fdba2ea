/* Linear attention, float32: its variants, checks and entry point; common/driver.c does the
 * rest (one job per batch x head: the scan runs the whole sequence). Built with no ISA flags. */
#include "common/driver.h"
#include "fastattn/linear.h"
#include "linear/job-f32.h"

#define FA_OP linear
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p) {
  return fa_linear_f32_job_workspace(p);
}

fa_status fa_linear_f32_check(const fa_linear_f32_params *p) {
  const fa_status s = fa_dense_f32_check(&p->attn);
  if (s != FA_OK) return s;
  if (p->attn.mask || p->attn.band_lo != -FA_BAND_NONE) return FA_ERR_INVALID;
  if (p->feature_map != FA_FEATURE_ELU1 && p->feature_map != FA_FEATURE_RELU) return FA_ERR_INVALID;
  return FA_OK;
}

fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  const fa_status s = p ? fa_linear_f32_check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  const fa_run run = FA_ATTN_RUN(p, &p->attn, p->attn.lq ? p->attn.lq : 1,
                                 fa_linear_f32_workspace_size(p));
  return fa_drive(&run, fa_linear_f32_variants, fa_linear_f32_nvariants, index, nthreads,
                  workspace, workspace_size);
}
