/* Block-sparse int8: its variants, checks and entry point; common/driver.c does the
 * rest (one job per query block of the layout). Built with no ISA flags. */
#include "common/driver.h"
#include "fastattn/sparse.h"
#include "flash/i8.h"
#include "sparse/layout.h"

#define FA_OP sparse
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

size_t fa_sparse_i8_workspace_size(const fa_sparse_i8_params *p) {
  return fa_round_up(fa_sparse_ranges_bytes(&p->layout), 64) +
         fa_round_up(fa_i8_workspace_size(p->attn.d, p->attn.dv), 64);
}

fa_status fa_sparse_i8(const fa_sparse_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  fa_status s = p ? fa_dense_i8_check(&p->attn) : FA_ERR_NULL;
  if (s == FA_OK)
    s = fa_sparse_layout_check(&p->layout, p->attn.lq, p->attn.lk, p->attn.batch * p->attn.heads);
  if (s != FA_OK) return s;
  const fa_run run = FA_ATTN_RUN(p, &p->attn, p->layout.block_q, fa_sparse_i8_workspace_size(p));
  return fa_drive(&run, fa_sparse_i8_variants, fa_sparse_i8_nvariants, index, nthreads,
                  workspace, workspace_size);
}
