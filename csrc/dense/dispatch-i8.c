/* Dense int8: its variants, checks and entry point; common/driver.c does the rest.
 * Built with no ISA flags. */
#include "common/driver.h"
#include "fastattn/dense_i8.h"
#include "flash/i8.h"

#define FA_OP dense
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_dense_i8_workspace_size(const fa_dense_i8_params *p) {
  return fa_i8_workspace_size(p->d, p->dv);
}

/* The attention checks, the blocks, and the scales (one per key block, one per channel). */
fa_status fa_dense_i8_check(const fa_dense_i8_params *p) {
  fa_status s = FA_CHECK_ATTN(p);
  if (s != FA_OK) return s;
  if (p->q_block == 0 || p->k_block == 0) return FA_ERR_SHAPE;
  const size_t ks[4] = {p->batch, p->kv_heads, 1, (p->lk + p->k_block - 1) / p->k_block};
  const size_t vs[4] = {p->batch, p->kv_heads, 1, p->dv};
  const ptrdiff_t kst[3] = {p->k_scale_stride[0], p->k_scale_stride[1], 0};
  const ptrdiff_t vst[3] = {p->v_scale_stride[0], p->v_scale_stride[1], 0};
  s = fa_check_view(p->k_scale, p->k_scale_len, ks, kst);
  return s != FA_OK ? s : fa_check_view(p->v_scale, p->v_scale_len, vs, vst);
}

fa_status fa_dense_i8(const fa_dense_i8_params *p, size_t index, size_t nthreads,
                      void *workspace, size_t workspace_size) {
  if (!p) return FA_ERR_NULL;
  const fa_run run = FA_ATTN_RUN(p, p, FA_I8_MQ, fa_dense_i8_workspace_size(p));
  return fa_drive_variants(fa_dense_i8_check(p), &run, index, nthreads, workspace, workspace_size);
}
