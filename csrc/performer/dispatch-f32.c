/* Performer (FAVOR+) attention, float32: its variants, checks and entry point;
 * lowrank/drive.c runs it (one job per batch x kv head's query heads). Built with no ISA
 * flags. */
#include <math.h>

#include "fastattn/performer.h"
#include "lowrank/drive.h"
#include "lowrank/scan.h"

#define FA_OP performer
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx512) X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p) {
  return fa_lr_scan_workspace_size(FA_LR_FAVOR, p->attn.d, p->attn.dv, p->m);
}

fa_status fa_performer_f32_check(const fa_performer_f32_params *p) {
  const fa_status s = fa_lr_check_attn(&p->attn, 1);
  if (s != FA_OK) return s;
  if (!(p->attn.scale > 0.0f) || !isfinite(p->attn.scale)) return FA_ERR_INVALID;
  if (p->m == 0 || p->m >= (1u << 16)) return FA_ERR_SHAPE;
  const size_t shape[4] = {1, 1, p->m, p->attn.d};
  const ptrdiff_t stride[3] = {0, 0, p->features_rs};
  return fa_check_view(p->features, p->features_len, shape, stride);
}

#include "lowrank/entry.h"

fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size) {
  return fa_lr_entry(p, index, nthreads, workspace, workspace_size);
}
