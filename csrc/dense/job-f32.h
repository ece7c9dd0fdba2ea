/* One dense job (query block of one batch x head) on the flash engine; each ISA
 * file calls it with its own micro-kernels. */
#ifndef FASTATTN_DENSE_JOB_H
#define FASTATTN_DENSE_JOB_H

#include "fastattn/dense.h"
#include "flash/f32.h"

static inline size_t fa_dense_f32_qblocks(const fa_dense_f32_params *p) {
  return (p->lq + FA_F32_MQ - 1) / FA_F32_MQ;
}

/* The flash problem of one (batch, head): pointers resolved, GQA head mapped. */
static inline fa_f32_problem fa_dense_f32_head(const fa_dense_f32_params *p, size_t b, size_t h) {
  const size_t kh = h / (p->heads / p->kv_heads);
  const ptrdiff_t ib = (ptrdiff_t)b, ih = (ptrdiff_t)h, ik = (ptrdiff_t)kh;
  fa_f32_problem prob = {
      .q = p->q + ib * p->q_stride[0] + ih * p->q_stride[1], .q_rs = p->q_stride[2],
      .k = p->k + ib * p->k_stride[0] + ik * p->k_stride[1], .k_rs = p->k_stride[2],
      .v = p->v + ib * p->v_stride[0] + ik * p->v_stride[1], .v_rs = p->v_stride[2],
      .out = p->out + ib * p->out_stride[0] + ih * p->out_stride[1], .out_rs = p->out_stride[2],
      .mask = p->mask ? p->mask + ib * p->mask_stride[0] + ih * p->mask_stride[1] : NULL,
      .mask_rs = p->mask_stride[2],
      .lk = p->lk, .d = p->d, .dv = p->dv, .scale = p->scale,
      .band_lo = p->band_lo, .band_hi = p->band_hi};
  return prob;
}

static inline fa_status fa_dense_f32_job(const fa_f32_ukernels *uk, const fa_dense_f32_params *p,
                                         size_t job, void *workspace) {
  /* Last query blocks first: under a causal mask they are the longest jobs, and
   * handing them out first keeps the threads' finishing times close. */
  const size_t qblocks = fa_dense_f32_qblocks(p), bhs = p->batch * p->heads;
  const size_t qb = qblocks - 1 - job / bhs, bh = job % bhs;
  const fa_f32_problem prob = fa_dense_f32_head(p, bh / p->heads, bh % p->heads);
  const size_t q0 = qb * FA_F32_MQ;
  const size_t q1 = q0 + FA_F32_MQ < p->lq ? q0 + FA_F32_MQ : p->lq;
  const fa_range all_keys = {0, p->lk};
  fa_f32_flash(uk, &prob, q0, q1, &all_keys, 1, workspace);
  return FA_OK;
}

#endif
