/* The dense float32 job: query rows [q0, q1) of one batch x head on the flash engine
 * (flash/f32.h), all keys. Each dense/f32-<isa>.c instantiates it with its micro-kernels. */
#ifndef FASTATTN_DENSE_JOB_F32_H
#define FASTATTN_DENSE_JOB_F32_H

#include "fastattn/dense.h"
#include "flash/f32.h"

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

static inline fa_status fa_dense_f32_job(const fa_f32_ukernels *uk, const void *params,
                                         const fa_job *job, void *workspace) {
  const fa_dense_f32_params *p = (const fa_dense_f32_params *)params;
  const fa_f32_problem prob = fa_dense_f32_head(p, job->b, job->h);
  const fa_range all_keys = {0, p->lk};
  fa_f32_flash(uk, &prob, job->q0, job->q1, &all_keys, 1, workspace);
  return FA_OK;
}

#endif
