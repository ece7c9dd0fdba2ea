/* The block-sparse op written once for both dtypes: the float32 and int8 versions differ
 * only in the engine they run (flash/f32.h or flash/i8.h, through dense/job-<dtype>.h), so
 * their job and their entry point are these two macros, instantiated per dtype:
 *   FA_SPARSE_JOB(f32, FA_F32_MQ)  in sparse/job-f32.h  defines fa_sparse_f32_job();
 *   FA_SPARSE_ENTRY(f32)           in sparse/dispatch-f32.c (after common/variants.h)
 *                                  defines fa_sparse_f32_workspace_size() and fa_sparse_f32().
 * The names they use follow from the dtype: fa_<dt>_ukernels, fa_<dt>_problem, fa_<dt>_flash,
 * fa_<dt>_workspace_size, fa_dense_<dt>_head, fa_dense_<dt>_check, fa_sparse_<dt>_params. */
#ifndef FASTATTN_SPARSE_OP_H
#define FASTATTN_SPARSE_OP_H

#include "sparse/layout.h"

/* The job: one query block of one batch x head, its listed key blocks, on the engine in
 * sub-blocks of at most mq rows (the engine's limit); the key ranges lead the workspace.
 * fa_sparse_<dt>_run (sparse/job-<dt>.h) runs the engine on a sub-block and returns its
 * status (int8: FA_ERR_RANGE when q is beyond the caller's q_limit). */
#define FA_SPARSE_JOB(dt, mq)                                                                 \
  static inline fa_status fa_sparse_##dt##_job(const fa_##dt##_ukernels *uk, const void *params, \
                                               const fa_job *job, void *workspace) {          \
    const fa_sparse_##dt##_params *sp = (const fa_sparse_##dt##_params *)params;              \
    const fa_sparse_layout *l = &sp->layout;                                                  \
    fa_##dt##_problem prob = fa_dense_##dt##_head(&sp->attn, job->b, job->h);                 \
    prob.q_global = l->q_global, prob.k_global = l->k_global, prob.global_hi = l->global_hi;  \
    fa_range *ranges;                                                                         \
    const size_t nranges =                                                                    \
        fa_sparse_job_ranges(l, sp->attn.heads, sp->attn.lk, job, workspace, &ranges);        \
    void *flash_ws = (char *)workspace + fa_sparse_ranges_bytes(l);                           \
    for (size_t q0 = job->q0; q0 < job->q1; q0 += (mq)) {                                     \
      const size_t q1 = q0 + (mq) < job->q1 ? q0 + (mq) : job->q1;                            \
      const fa_status s = fa_sparse_##dt##_run(uk, &prob, q0, q1, ranges, nranges, flash_ws);  \
      if (s != FA_OK) return s;                                                               \
    }                                                                                         \
    return FA_OK;                                                                             \
  }

/* The workspace (the range list, then the engine's) and the entry point: the attention
 * checks of the dense op of that dtype, the layout's, then the driver, one job per query
 * block of the layout. */
#define FA_SPARSE_ENTRY(dt)                                                                   \
  size_t fa_sparse_##dt##_workspace_size(const fa_sparse_##dt##_params *p) {                  \
    return fa_round_up(fa_sparse_ranges_bytes(&p->layout), 64) +                              \
           fa_round_up(fa_##dt##_workspace_size(p->attn.d, p->attn.dv), 64);                  \
  }                                                                                           \
                                                                                              \
  fa_status fa_sparse_##dt(const fa_sparse_##dt##_params *p, size_t index, size_t nthreads,   \
                           void *workspace, size_t workspace_size) {                          \
    if (!p) return FA_ERR_NULL;                                                               \
    const fa_run run =                                                                        \
        FA_ATTN_RUN(p, &p->attn, p->layout.block_q, fa_sparse_##dt##_workspace_size(p));      \
    fa_status s = fa_dense_##dt##_check(&p->attn);                                            \
    if (s == FA_OK)                                                                           \
      s = fa_sparse_layout_check(&p->layout, run.lq, run.lk, run.batch * run.heads);          \
    return fa_drive_variants(s, &run, index, nthreads, workspace, workspace_size);            \
  }

#endif
