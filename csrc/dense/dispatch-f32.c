/* Dense float32: its variants, checks and entry point; common/driver.c does the rest.
 * Built with no ISA flags. */
#include "common/driver.h"
#include "fastattn/dense.h"
#include "flash/f32.h"

#define FA_OP dense
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p) {
  return fa_f32_workspace_size(p->d, p->dv);
}

fa_status fa_dense_f32_check(const fa_dense_f32_params *p) { return FA_CHECK_ATTN(p); }

fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  if (!p) return FA_ERR_NULL;
  const fa_run run = FA_ATTN_RUN(p, p, FA_F32_MQ, fa_dense_f32_workspace_size(p));
  return fa_drive_variants(fa_dense_f32_check(p), &run, index, nthreads, workspace, workspace_size);
}
