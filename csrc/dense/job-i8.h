/* The dense int8 job: query rows [q0, q1) of one batch x head on the int8 flash engine
 * (flash/i8.h), all keys. Each dense/i8-<isa>.c instantiates it with its micro-kernels. */
#ifndef FASTATTN_DENSE_JOB_I8_H
#define FASTATTN_DENSE_JOB_I8_H

#include "fastattn/dense_i8.h"
#include "flash/i8.h"

/* The int8 flash problem of one (batch, head): pointers resolved, GQA head mapped. */
static inline fa_i8_problem fa_dense_i8_head(const fa_dense_i8_params *p, size_t b, size_t h) {
  const size_t kh = h / (p->heads / p->kv_heads);
  const ptrdiff_t ib = (ptrdiff_t)b, ih = (ptrdiff_t)h, ik = (ptrdiff_t)kh;
  fa_i8_problem prob = {
      .q = p->q + ib * p->q_stride[0] + ih * p->q_stride[1], .q_rs = p->q_stride[2],
      .k = p->k + ib * p->k_stride[0] + ik * p->k_stride[1], .k_rs = p->k_stride[2],
      .v = p->v + ib * p->v_stride[0] + ik * p->v_stride[1], .v_rs = p->v_stride[2],
      .k_scale = p->k_scale + ib * p->k_scale_stride[0] + ik * p->k_scale_stride[1],
      .v_scale = p->v_scale + ib * p->v_scale_stride[0] + ik * p->v_scale_stride[1],
      .q_block = p->q_block, .k_block = p->k_block,
      .out = p->out + ib * p->out_stride[0] + ih * p->out_stride[1], .out_rs = p->out_stride[2],
      .mask = p->mask ? p->mask + ib * p->mask_stride[0] + ih * p->mask_stride[1] : NULL,
      .mask_rs = p->mask_stride[2],
      .lq = p->lq, .lk = p->lk, .d = p->d, .dv = p->dv, .scale = p->scale,
      .band_lo = p->band_lo, .band_hi = p->band_hi, .q_limit = p->q_limit};
  return prob;
}

static inline fa_status fa_dense_i8_job(const fa_i8_ukernels *uk, const void *params,
                                        const fa_job *job, void *workspace) {
  const fa_dense_i8_params *p = (const fa_dense_i8_params *)params;
  const fa_i8_problem prob = fa_dense_i8_head(p, job->b, job->h);
  const fa_range all_keys = {0, p->lk};
  return fa_i8_flash(uk, &prob, job->q0, job->q1, &all_keys, 1, workspace);
}

#endif
