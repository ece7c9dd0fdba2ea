/* One float32 sparse job (a query block of one batch x head) on the flash
 * engine; each ISA file calls it with its own micro-kernels. */
#ifndef FASTATTN_SPARSE_JOB_H
#define FASTATTN_SPARSE_JOB_H

#include "fastattn/sparse.h"
#include "dense/job-f32.h"
#include "flash/f32.h"
#include "sparse/layout.h"

static inline fa_status fa_sparse_f32_job(const fa_f32_ukernels *uk, const fa_sparse_f32_params *sp,
                                          size_t job, void *workspace) {
  const fa_dense_f32_params *p = &sp->attn;
  const fa_sparse_layout *l = &sp->layout;
  const fa_sparse_job jb = fa_sparse_decode(l, p->heads, job);
  fa_f32_problem prob = fa_dense_f32_head(p, jb.b, jb.h);
  prob.q_global = l->q_global;
  prob.k_global = l->k_global;
  prob.global_hi = l->global_hi;

  fa_range *ranges = fa_sparse_ranges_buffer(workspace);
  void *flash_ws = (char *)workspace + fa_sparse_ranges_bytes(l);
  const size_t nranges = fa_sparse_ranges(l, jb.layout, jb.qb, p->lk, ranges);
  const size_t r0 = jb.qb * l->block_q;
  const size_t r1 = r0 + l->block_q < p->lq ? r0 + l->block_q : p->lq;
  for (size_t q0 = r0; q0 < r1; q0 += FA_F32_MQ) {
    const size_t q1 = q0 + FA_F32_MQ < r1 ? q0 + FA_F32_MQ : r1;
    fa_f32_flash(uk, &prob, q0, q1, ranges, nranges, flash_ws);
  }
  return FA_OK;
}

#endif
