/* One Linformer job (one batch x head): project keys and values along the sequence with
 * blocked GEMMs (E K, F V), then attend the r projected rows with the flash engine. */
#ifndef FASTATTN_LINFORMER_JOB_H
#define FASTATTN_LINFORMER_JOB_H

#include "dense/job-f32.h"
#include "fastattn/variant.h"
#include "fastattn/linformer.h"
#include "lowrank/gemm.h"

enum { L_KP, L_VP, L_EB, L_FB, L_KB, L_VB, L_FLASH, L_COUNT };

static inline int fa_linformer_shared(const fa_linformer_f32_params *p) {
  return p->proj_v == p->proj_k && p->proj_v_rs == p->proj_k_rs;
}

static inline void fa_linformer_sizes(const fa_linformer_f32_params *p, size_t *sz) {
  const size_t r = p->r, kc = FA_LINFORMER_KC;
  const size_t dp = fa_lr_cols(p->attn.d), dvp = fa_lr_cols(p->attn.dv);
  sz[L_KP] = fa_lr_rows(r) * dp;
  sz[L_VP] = fa_lr_rows(r) * dvp;
  sz[L_EB] = fa_lr_rows(r) * kc;
  sz[L_FB] = fa_linformer_shared(p) ? 0 : fa_lr_rows(r) * kc;
  sz[L_KB] = kc * dp;
  sz[L_VB] = kc * dvp;
  sz[L_FLASH] = fa_f32_workspace_size(p->attn.d, p->attn.dv) / sizeof(float) + 16;
}

static inline size_t fa_linformer_f32_job_workspace(const fa_linformer_f32_params *p) {
  size_t sz[L_COUNT];
  fa_linformer_sizes(p, sz);
  return fa_lr_bytes(sz, L_COUNT);
}

/* Columns [p0, p0 + n) of the r rows of a projection, into a block of kc columns. */
static inline void fa_linformer_pack_proj(const float *proj, ptrdiff_t rs, size_t r, size_t p0,
                                          size_t n, float *block) {
  for (size_t i = 0; i < r; i++)
    memcpy(block + i * FA_LINFORMER_KC, proj + (ptrdiff_t)i * rs + p0, n * sizeof(float));
}

/* Rows [p0, p0 + n) of x (row stride rs, `cols` used), zero-padded to `ld` columns. */
static inline void fa_linformer_pack_rows(const float *x, ptrdiff_t rs, size_t p0, size_t n,
                                          size_t cols, size_t ld, float *block) {
  for (size_t c = 0; c < n; c++) {
    memcpy(block + c * ld, x + (ptrdiff_t)(p0 + c) * rs, cols * sizeof(float));
    memset(block + c * ld + cols, 0, (ld - cols) * sizeof(float));
  }
}

/* The whole sequence of one (batch, head): the driver runs one job per head (rows = lq). */
static inline fa_status fa_linformer_f32_job(const fa_f32_ukernels *uk, const void *params,
                                             const fa_job *job, void *workspace) {
  const fa_linformer_f32_params *p = (const fa_linformer_f32_params *)params;
  const size_t r = p->r, d = p->attn.d, dv = p->attn.dv, lk = p->attn.lk;
  const size_t dp = fa_lr_cols(d), dvp = fa_lr_cols(dv), kc = FA_LINFORMER_KC;
  size_t sz[L_COUNT];
  float *buf[L_COUNT];
  fa_linformer_sizes(p, sz);
  fa_lr_arena arena = fa_lr_arena_start(workspace);
  for (int i = 0; i < L_COUNT; i++) buf[i] = fa_lr_take(&arena, sz[i]);
  const int shared = fa_linformer_shared(p);
  float *fb = shared ? buf[L_EB] : buf[L_FB];
  memset(buf[L_EB] + r * kc, 0, FA_F32_MR_MAX * kc * sizeof(float)); /* padding rows */
  if (!shared) memset(fb + r * kc, 0, FA_F32_MR_MAX * kc * sizeof(float));

  fa_f32_problem prob = fa_dense_f32_head(&p->attn, job->b, job->h);
  for (size_t p0 = 0; p0 < lk; p0 += kc) {
    const size_t n = lk - p0 < kc ? lk - p0 : kc;
    fa_linformer_pack_proj(p->proj_k, p->proj_k_rs, r, p0, n, buf[L_EB]);
    if (!shared) fa_linformer_pack_proj(p->proj_v, p->proj_v_rs, r, p0, n, fb);
    fa_linformer_pack_rows(prob.k, prob.k_rs, p0, n, d, dp, buf[L_KB]);
    fa_linformer_pack_rows(prob.v, prob.v_rs, p0, n, dv, dvp, buf[L_VB]);
    fa_lr_gemm(uk, r, d, n, buf[L_EB], kc, buf[L_KB], dp, buf[L_KP], dp, p0 > 0);
    fa_lr_gemm(uk, r, dv, n, fb, kc, buf[L_VB], dvp, buf[L_VP], dvp, p0 > 0);
  }

  prob.k = buf[L_KP];
  prob.k_rs = (ptrdiff_t)dp;
  prob.v = buf[L_VP];
  prob.v_rs = (ptrdiff_t)dvp;
  prob.lk = r;
  prob.mask = NULL;
  prob.band_lo = -FA_BAND_NONE;
  prob.band_hi = FA_BAND_NONE;
  const fa_range all = {0, r};
  for (size_t q0 = 0; q0 < p->attn.lq; q0 += FA_F32_MQ) {
    const size_t q1 = q0 + FA_F32_MQ < p->attn.lq ? q0 + FA_F32_MQ : p->attn.lq;
    fa_f32_flash(uk, &prob, q0, q1, &all, 1, buf[L_FLASH]);
  }
  return FA_OK;
}

#endif
