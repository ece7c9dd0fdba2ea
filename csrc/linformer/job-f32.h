/* One Linformer job (the query heads of one batch x kv head): project keys and values
 * along the sequence with blocked GEMMs (E K, F V) once, then attend the r projected rows
 * from every query head of the job with an exact softmax over blocks of query rows. */
#ifndef FASTATTN_LINFORMER_JOB_H
#define FASTATTN_LINFORMER_JOB_H

#include "dense/job-f32.h"
#include "fastattn/linformer.h"
#include "fastattn/variant.h"
#include "lowrank/drive.h"
#include "lowrank/gemm.h"

/* Scores per block of the exact softmax (96 KiB, L2): a block holds all r scores of
 * fa_linformer_rows(r) query rows, a multiple of 24 (of every ISA's mr) from 24 to 96. */
#define FA_LINFORMER_SCORES (96 * 256)

static inline size_t fa_linformer_rows(size_t r) {
  const size_t rows = FA_LINFORMER_SCORES / fa_lr_cols(r) / 24 * 24;
  return rows < 24 ? 24 : (rows > 96 ? 96 : rows);
}

enum { L_KP, L_VP, L_EB, L_FB, L_KB, L_VB, L_KT, L_VT, L_QS, L_SC, L_O, L_COUNT };

static inline int fa_linformer_shared(const fa_linformer_f32_params *p) {
  return p->proj_v == p->proj_k && p->proj_v_rs == p->proj_k_rs;
}

/* L_EB, L_FB: the last r % mr rows of a projection block (the GEMM tile reads mr rows);
 * L_KB, L_VB: key and value blocks, used only when their rows need padding; L_KT, L_VT:
 * KPᵀ and VP as panels (fa_lr_pack_panels); L_QS, L_SC, L_O: a block's scaled queries,
 * scores and outputs. */
static inline void fa_linformer_sizes(const fa_linformer_f32_params *p, size_t *sz) {
  const size_t r = p->r, kc = FA_LINFORMER_KC, d = p->attn.d, mb = fa_linformer_rows(r);
  const size_t dp = fa_lr_cols(d), dvp = fa_lr_cols(p->attn.dv), rp = fa_lr_cols(r);
  sz[L_KP] = fa_lr_rows(r) * dp;
  sz[L_VP] = fa_lr_rows(r) * dvp;
  sz[L_EB] = FA_F32_MR_MAX * kc;
  sz[L_FB] = fa_linformer_shared(p) ? 0 : FA_F32_MR_MAX * kc;
  sz[L_KB] = dp == d ? 0 : kc * dp;
  sz[L_VB] = dvp == p->attn.dv ? 0 : kc * dvp;
  sz[L_KT] = d * rp;
  sz[L_VT] = r * dvp;
  sz[L_QS] = fa_lr_rows(mb) * d;
  sz[L_SC] = fa_lr_rows(mb) * rp;
  sz[L_O] = fa_lr_rows(mb) * dvp;
}

static inline size_t fa_linformer_f32_job_workspace(const fa_linformer_f32_params *p) {
  size_t sz[L_COUNT];
  fa_linformer_sizes(p, sz);
  return fa_lr_bytes(sz, L_COUNT);
}

/* Rows [p0, p0 + n) of x (row stride rs, `cols` used), zero-padded to `ld` columns. */
static inline void fa_linformer_pack_rows(const float *x, ptrdiff_t rs, size_t p0, size_t n,
                                          size_t cols, size_t ld, float *block) {
  for (size_t c = 0; c < n; c++) {
    memcpy(block + c * ld, x + (ptrdiff_t)(p0 + c) * rs, cols * sizeof(float));
    memset(block + c * ld + cols, 0, (ld - cols) * sizeof(float));
  }
}

/* C[r][cols] (+)= proj[:, p0:p0+n] B, B the n rows of a key or value block (ldb). Whole
 * row tiles read the projection in place; its last r % mr rows go through `tail` (mr rows
 * of kc, zero beyond them), so no tile reads past row r. */
static inline void fa_linformer_project(const fa_f32_ukernels *uk, const float *proj,
                                        ptrdiff_t rs, size_t r, size_t p0, size_t n,
                                        const float *b, size_t ldb, size_t cols, float *c,
                                        size_t ldc, int acc, float *tail) {
  const size_t full = r - r % uk->mr;
  if (full) fa_lr_gemm(uk, full, cols, n, proj + p0, (size_t)rs, b, ldb, c, ldc, acc);
  if (full == r) return;
  for (size_t i = full; i < r; i++)
    memcpy(tail + (i - full) * FA_LINFORMER_KC, proj + (ptrdiff_t)i * rs + p0, n * sizeof(float));
  fa_lr_gemm(uk, r - full, cols, n, tail, FA_LINFORMER_KC, b, ldb, c + full * ldc, ldc, acc);
}

/* KP = E K and VP = F V of one kv head into buf[L_KP] (r x dp) and buf[L_VP] (r x dvp). */
static inline void fa_linformer_projections(const fa_f32_ukernels *uk,
                                            const fa_linformer_f32_params *p,
                                            const fa_f32_problem *prob, float **buf) {
  const size_t r = p->r, d = p->attn.d, dv = p->attn.dv, lk = p->attn.lk;
  const size_t dp = fa_lr_cols(d), dvp = fa_lr_cols(dv), kc = FA_LINFORMER_KC;
  float *fb = fa_linformer_shared(p) ? buf[L_EB] : buf[L_FB];
  memset(buf[L_EB], 0, FA_F32_MR_MAX * kc * sizeof(float));
  memset(fb, 0, FA_F32_MR_MAX * kc * sizeof(float));
  for (size_t p0 = 0; p0 < lk; p0 += kc) {
    const size_t n = lk - p0 < kc ? lk - p0 : kc;
    const float *kb = prob->k + (ptrdiff_t)p0 * prob->k_rs;
    const float *vb = prob->v + (ptrdiff_t)p0 * prob->v_rs;
    size_t ldk = (size_t)prob->k_rs, ldv = (size_t)prob->v_rs;
    if (dp != d) {
      fa_linformer_pack_rows(prob->k, prob->k_rs, p0, n, d, dp, buf[L_KB]);
      kb = buf[L_KB], ldk = dp;
    }
    if (dvp != dv) {
      fa_linformer_pack_rows(prob->v, prob->v_rs, p0, n, dv, dvp, buf[L_VB]);
      vb = buf[L_VB], ldv = dvp;
    }
    fa_linformer_project(uk, p->proj_k, p->proj_k_rs, r, p0, n, kb, ldk, d, buf[L_KP], dp,
                         p0 > 0, buf[L_EB]);
    fa_linformer_project(uk, p->proj_v, p->proj_v_rs, r, p0, n, vb, ldv, dv, buf[L_VP], dvp,
                         p0 > 0, fb);
  }
}

/* softmax(scale q KPᵀ) VP for every row of one query head, fa_linformer_rows(r) at a time:
 * all r scores of a row are in the block, so the softmax is exact in one pass (no running
 * max, no rescaling). L_KT and L_VT hold KPᵀ (d x rp, zero beyond column r) and VP as
 * panels. */
static inline void fa_linformer_attend(const fa_f32_ukernels *uk, const fa_f32_problem *prob,
                                       size_t lq, size_t r, float **buf) {
  const size_t d = prob->d, dv = prob->dv, dvp = fa_lr_cols(dv), rp = fa_lr_cols(r);
  const float qscale = prob->scale * FA_LOG2E;
  const size_t mb = fa_linformer_rows(r);
  float *qs = buf[L_QS], *sc = buf[L_SC], *o = buf[L_O], inv[96]; /* mb <= 96 */
  for (size_t q0 = 0; q0 < lq; q0 += mb) {
    const size_t m = lq - q0 < mb ? lq - q0 : mb;
    for (size_t i = 0; i < m; i++) {
      const float *qrow = prob->q + (ptrdiff_t)(q0 + i) * prob->q_rs;
      for (size_t x = 0; x < d; x++) qs[i * d + x] = qrow[x] * qscale;
    }
    fa_lr_gemm_packed(uk, m, r, d, qs, d, buf[L_KT], sc, rp);
    for (size_t i = 0; i < m; i++) {
      float *srow = sc + i * rp;
      for (size_t c = r; c < rp; c++) srow[c] = -INFINITY;
      const float top = uk->max(srow, rp);
      if (top == -INFINITY) { /* every score -inf: the row is zeros (as in the flash engine) */
        memset(srow, 0, rp * sizeof(float));
        inv[i] = 0.0f;
      } else {
        inv[i] = 1.0f / uk->exp2_sum(srow, rp, top);
      }
    }
    fa_lr_gemm_packed(uk, m, dv, r, sc, rp, buf[L_VT], o, dvp);
    for (size_t i = 0; i < m; i++) {
      float *orow = prob->out + (ptrdiff_t)(q0 + i) * prob->out_rs;
      for (size_t x = 0; x < dv; x++) orow[x] = o[i * dvp + x] * inv[i];
    }
  }
}

static inline fa_status fa_linformer_f32_job(const fa_f32_ukernels *uk, const void *params,
                                             const fa_job *job, void *workspace) {
  const fa_lr_job_params *jp = (const fa_lr_job_params *)params;
  const fa_linformer_f32_params *p = (const fa_linformer_f32_params *)jp->op;
  const size_t r = p->r, d = p->attn.d, dp = fa_lr_cols(d), dvp = fa_lr_cols(p->attn.dv);
  size_t sz[L_COUNT];
  float *buf[L_COUNT];
  fa_linformer_sizes(p, sz);
  fa_lr_arena arena = fa_lr_arena_start(workspace);
  for (int i = 0; i < L_COUNT; i++) buf[i] = fa_lr_take(&arena, sz[i]);

  fa_f32_problem prob = fa_dense_f32_head(&p->attn, job->b, job->h * jp->heads);
  fa_linformer_projections(uk, p, &prob, buf);
  const size_t rp = fa_lr_cols(r);
  for (size_t j = 0; j < rp; j += FA_F32_NR) /* KPᵀ panel j: d x 16 keys */
    for (size_t c = 0; c < FA_F32_NR; c++)
      for (size_t x = 0; x < d; x++)
        buf[L_KT][j * d + x * FA_F32_NR + c] = j + c < r ? buf[L_KP][(j + c) * dp + x] : 0.0f;
  fa_lr_pack_panels(buf[L_VP], dvp, r, p->attn.dv, buf[L_VT]);
  memset(buf[L_QS], 0, sz[L_QS] * sizeof(float)); /* the padding rows stay 0 */
  for (size_t t = 0; t < jp->heads; t++) {
    fa_f32_problem head = prob;
    head.q += (ptrdiff_t)t * p->attn.q_stride[1];
    head.out += (ptrdiff_t)t * p->attn.out_stride[1];
    fa_linformer_attend(uk, &head, p->attn.lq, r, buf);
  }
  return FA_OK;
}

#endif
