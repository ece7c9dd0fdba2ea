/* The entry point of a low-rank op, written once. Include it in <op>/dispatch-f32.c after
 * common/variants.h (which names the op through FA_OP and FA_DTYPE) and after the op's
 * fa_<op>_f32_check() and fa_<op>_f32_workspace_size(); the entry point then reads
 * `return fa_lr_entry(p, index, nthreads, workspace, workspace_size);`. */
#include "lowrank/drive.h"

static inline fa_status fa_lr_entry(const FA_VTABLE(FA_OP, FA_DTYPE, params) *p, size_t index,
                                    size_t nthreads, void *workspace, size_t workspace_size) {
  if (!p) return FA_ERR_NULL;
  const fa_status s = FA_VTABLE(FA_OP, FA_DTYPE, check)(p);
  if (s != FA_OK) return s;
  return fa_lr_drive(p, &p->attn, FA_VTABLE(FA_OP, FA_DTYPE, workspace_size)(p),
                     FA_VTABLE(FA_OP, FA_DTYPE, variants), FA_VTABLE(FA_OP, FA_DTYPE, nvariants),
                     index, nthreads, workspace, workspace_size);
}
