/* Linear attention, float32: its variants, checks and entry point; lowrank/drive.c runs
 * it (one job per batch x kv head's query heads: the scan runs the whole sequence). Built
 * with no ISA flags. */
#include "fastattn/linear.h"
#include "lowrank/drive.h"
#include "lowrank/scan.h"

#define FA_OP linear
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_ELU1, p->attn.d, p->attn.dv, 0);
}

fa_status fa_linear_f32_check(const fa_linear_f32_params *p) {
  const fa_status s = fa_lr_check_attn(&p->attn, 1);
  if (s != FA_OK) return s;
  return p->feature_map == FA_FEATURE_ELU1 || p->feature_map == FA_FEATURE_RELU
             ? FA_OK
             : FA_ERR_INVALID;
}

#include "lowrank/entry.h"

fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  return fa_lr_entry(p, index, nthreads, workspace, workspace_size);
}
