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
#include "lowrank/ukernels.h"

/* Row tiles (of the ISA's mr rows) per block of the exact softmax: a block's r scores per
 * row (2 x 6 x 256 floats at r = 256 on AVX2: 12 KiB) stay in L1 from the QKᵀ tile through
 * the exp to the PV tile, which reads them straight back. */
#define FA_LINFORMER_TILES 2

static inline size_t fa_linformer_rows(size_t mr) { return FA_LINFORMER_TILES * mr; }

/* Whether every tile call over a cols and b cols is one of 4 panels (gemm4, of mr4 rows):
 * then the row tiles have mr4 rows, else mr (and no call takes 4 panels). */
static inline int fa_linformer_wide(const fa_f32_ukernels *uk, size_t a, size_t b) {
  if (!uk->gemm4) return 0; /* known at compile time: the other ISAs keep constant row counts */
  for (size_t j = 0; j < a; j += 4 * FA_F32_NR)
    if (fa_lr_panels(uk, j, a) != 4) return 0;
  for (size_t j = 0; j < b; j += 4 * FA_F32_NR)
    if (fa_lr_panels(uk, j, b) != 4) return 0;
  return 1;
}

static inline size_t fa_linformer_mr(const fa_f32_ukernels *uk, int wide) {
  return wide ? uk->mr4 : uk->mr;
}

enum { L_KP, L_VP, L_EB, L_FB, L_KB, L_VB, L_KT, L_VT, L_QS, L_SC, L_O, L_COUNT };

static inline int fa_linformer_shared(const fa_linformer_f32_params *p) {
  return p->proj_v == p->proj_k && p->proj_v_rs == p->proj_k_rs;
}

/* L_EB, L_FB: one row tile of a projection block, contiguous (fa_linformer_row_tile);
 * L_KB, L_VB: a block of keys and of values as panels (fa_lr_pack_panels); L_KT, L_VT: KPᵀ and VP as panels
 * (fa_lr_pack_panels); L_QS, L_SC, L_O: a block's scaled queries, scores and outputs. */
static inline void fa_linformer_sizes(const fa_linformer_f32_params *p, size_t *sz) {
  const size_t r = p->r, kc = FA_LINFORMER_KC, d = p->attn.d;
  const size_t mb = fa_linformer_rows(FA_F32_MR_MAX);
  const size_t dp = fa_lr_cols(d), dvp = fa_lr_cols(p->attn.dv), rp = fa_lr_cols(r);
  sz[L_KP] = fa_lr_rows(r) * dp;
  sz[L_VP] = fa_lr_rows(r) * dvp;
  sz[L_EB] = FA_F32_MR_MAX * kc;
  sz[L_FB] = fa_linformer_shared(p) ? 0 : FA_F32_MR_MAX * kc;
  sz[L_KB] = kc * dp;
  sz[L_VB] = kc * dvp;
  sz[L_KT] = d * rp;
  sz[L_VT] = r * dvp;
  sz[L_QS] = fa_lr_rows(mb) * d; /* a block's tiles of either height may pass mb rows */
  sz[L_SC] = fa_lr_rows(mb) * rp;
  sz[L_O] = fa_lr_rows(mb) * dvp;
}

static inline size_t fa_linformer_f32_job_workspace(const fa_linformer_f32_params *p) {
  size_t sz[L_COUNT];
  fa_linformer_sizes(p, sz);
  return fa_lr_bytes(sz, L_COUNT);
}

_Static_assert(FA_LINFORMER_KC <= FA_LR_KC, "a projection block is one GEMM k block");

/* 1 when rows x n values of a (row stride lda) are all zero; each row is tested whole (a
 * loop the compiler vectorises), the rows stop at the first that is not zero. */
static inline int fa_linformer_zero(const float *a, size_t lda, size_t rows, size_t n) {
  for (size_t i = 0; i < rows; i++) {
    int nonzero = 0;
    for (size_t x = 0; x < n; x++) nonzero |= a[i * lda + x] != 0.0f;
    if (nonzero) return 0;
  }
  return 1;
}

/* 1 when x[0..n) is finite: then a zero coefficient times any of it is exactly 0. x - x is
 * NaN for inf and NaN, else 0; the test is an OR of compares, which the compiler vectorises
 * (a float sum would be one serial chain of adds). */
static inline int fa_linformer_finite(const float *x, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) bad |= !(x[i] - x[i] == 0.0f);
  return !bad;
}

/* Row tile i (mr rows from row i, zero beyond row r) of proj[:, p0:p0+n] copied to `tile`
 * (mr x FA_LINFORMER_KC, contiguous): the projection's rows are Lk floats apart, a power of
 * two that would put a tile's rows in the same few L1 and L2 sets. Returns 1 when `skip` and
 * the copy is all zero (structured projections, e.g. mean pooling, are mostly such blocks);
 * the caller asks for it only when B is finite, so that skipping gives the same result (0 x
 * inf would be NaN). */
static inline int fa_linformer_row_tile(const float *proj, ptrdiff_t rs, size_t r, size_t mr,
                                        size_t i, size_t p0, size_t n, float *tile, int skip) {
  const size_t rows = r - i < mr ? r - i : mr;
  for (size_t t = 0; t < rows; t++)
    memcpy(tile + t * FA_LINFORMER_KC, proj + (ptrdiff_t)(i + t) * rs + p0, n * sizeof(float));
  memset(tile + rows * FA_LINFORMER_KC, 0, (mr - rows) * FA_LINFORMER_KC * sizeof(float));
  return skip && fa_linformer_zero(tile, FA_LINFORMER_KC, rows, n);
}

/* C[i:i+rows][cols] += tile B, B the n keys or values of a block as panels; rows is
 * fa_linformer_mr(uk, wide) (`wide`: fa_linformer_wide for these cols); pf's prefetches
 * over its tile calls (fa_lr_pf_tick; pf NULL: none). */
static inline void fa_linformer_tile_gemm(const fa_f32_ukernels *uk, int wide, const float *tile,
                                          size_t n, const float *bp, size_t cols, float *c,
                                          size_t ldc, fa_lr_pf *pf) {
  for (size_t j = 0; j < cols;) {
    int panels = fa_lr_panels(uk, j, cols);
    if (panels == 4 && !wide) panels = 2;
    fa_lr_tile(uk, panels, n, tile, FA_LINFORMER_KC, bp + j * n, FA_F32_NR * n, FA_F32_NR,
               c + j, ldc, 1, pf);
    fa_lr_pf_tick(pf);
    j += (size_t)panels * FA_F32_NR;
  }
}

/* With the 6 x 64 tile (`wide`), pf = the rows of the row tile after (i, p0) of proj and,
 * unless NULL, of proj_v (rows rs floats apart): the next rows of this block or the first
 * of the next block, fetched by the tile calls of this row tile (calls of them) while they
 * run: copied from memory one strided row after another as each tile began, they cost
 * about a sixth of the projections. Other ISAs: nothing (they measured no faster with it). */
static inline void fa_linformer_next_tile(const fa_f32_ukernels *uk, int wide, fa_lr_pf *pf,
                                          const float *proj, const float *proj_v,
                                          ptrdiff_t rs, size_t r, size_t lk, size_t mr,
                                          size_t i, size_t p0, size_t calls) {
  fa_lr_pf_reset(pf);
  if (!uk->gemm4 || !wide) return;
  const size_t kc = FA_LINFORMER_KC, last = i + mr >= r;
  const size_t i2 = last ? 0 : i + mr, p2 = last ? p0 + kc : p0;
  if (p2 >= lk) return;
  const size_t n = lk - p2 < kc ? lk - p2 : kc;
  fa_lr_pf_add(pf, proj + p2, rs, i2, i2 + mr, r, n, 0);
  if (proj_v) fa_lr_pf_add(pf, proj_v + p2, rs, i2, i2 + mr, r, n, 0);
  fa_lr_pf_pace(pf, calls);
}

/* KP = E K and VP = F V of one kv head into buf[L_KP] (r x dp) and buf[L_VP] (r x dvp),
 * a block of FA_LINFORMER_KC keys at a time: the block of keys and of values is read once,
 * in order, into panels (L_KB, L_VB); then each row tile of the block of E (and F) is read
 * once, into L_EB (L_FB), and multiplied with every panel of keys and of values while it is
 * in L1 (the panels, 2 x 64 KiB at D = 64, stay in L2). Software prefetch of the next block
 * (E's rows, keys, values) measured no faster: the hardware's streams already cover them. */
static inline void fa_linformer_projections(const fa_f32_ukernels *uk,
                                            const fa_linformer_f32_params *p,
                                            const fa_f32_problem *prob, float **buf) {
  const int wide = fa_linformer_wide(uk, p->attn.d, p->attn.dv);
  const size_t r = p->r, d = p->attn.d, dv = p->attn.dv, lk = p->attn.lk;
  const size_t mr = fa_linformer_mr(uk, wide);
  const size_t dp = fa_lr_cols(d), dvp = fa_lr_cols(dv), kc = FA_LINFORMER_KC;
  const int shared = fa_linformer_shared(p);
  float *eb = buf[L_EB], *fb = shared ? buf[L_EB] : buf[L_FB];
  memset(eb, 0, FA_F32_MR_MAX * kc * sizeof(float));
  memset(fb, 0, FA_F32_MR_MAX * kc * sizeof(float));
  memset(buf[L_KP], 0, fa_lr_rows(r) * dp * sizeof(float));
  memset(buf[L_VP], 0, fa_lr_rows(r) * dvp * sizeof(float));
  const size_t calls = fa_lr_gemm_calls(uk, mr, d, kc) + fa_lr_gemm_calls(uk, mr, dv, kc);
  const int same_rs = p->proj_v_rs == p->proj_k_rs; /* else F's rows are not prefetched */
  fa_lr_pf pf;
  fa_lr_pf_init(&pf, NULL);
  for (size_t p0 = 0; p0 < lk; p0 += kc) {
    const size_t n = lk - p0 < kc ? lk - p0 : kc;
    fa_lr_pack_panels(prob->k + (ptrdiff_t)p0 * prob->k_rs, (size_t)prob->k_rs, n, d, buf[L_KB]);
    fa_lr_pack_panels(prob->v + (ptrdiff_t)p0 * prob->v_rs, (size_t)prob->v_rs, n, dv, buf[L_VB]);
    const int skip_k = fa_linformer_finite(buf[L_KB], n * dp);
    const int skip_v = fa_linformer_finite(buf[L_VB], n * dvp);
    for (size_t i = 0; i < r; i += mr) {
      fa_linformer_next_tile(uk, wide, &pf, p->proj_k, shared || !same_rs ? NULL : p->proj_v,
                             p->proj_k_rs, r, lk, mr, i, p0, calls);
      const int zero_e = fa_linformer_row_tile(p->proj_k, p->proj_k_rs, r, mr, i, p0, n, eb,
                                               skip_k || (shared && skip_v));
      if (!(zero_e && skip_k))
        fa_linformer_tile_gemm(uk, wide, eb, n, buf[L_KB], d, buf[L_KP] + i * dp, dp, &pf);
      const int zero_f = shared ? zero_e
                                : fa_linformer_row_tile(p->proj_v, p->proj_v_rs, r, mr, i, p0, n,
                                                        fb, skip_v);
      if (!(zero_f && skip_v))
        fa_linformer_tile_gemm(uk, wide, fb, n, buf[L_VB], dv, buf[L_VP] + i * dvp, dvp, &pf);
      fa_lr_pf_flush(&pf); /* what skipped calls left */
    }
  }
}

/* The next block's query and output rows (rows [q0 + mb, q0 + 2 mb) of q and out): with the
 * 6 x 64 tile, into pf for the block's tile calls to fetch while they run (a burst of them
 * before the calls stalls on the line fill buffers, as in the projections); else at once. */
static inline void fa_linformer_next_rows(const fa_f32_ukernels *uk, fa_lr_pf *pf,
                                          const float *q, ptrdiff_t q_rs, const float *out,
                                          ptrdiff_t out_rs, size_t q0, size_t mb, size_t lq,
                                          size_t d, size_t dv, size_t r) {
  fa_lr_pf_reset(pf);
  if (!uk->gemm4) {
    fa_lr_prefetch(q, q_rs, q0 + mb, q0 + 2 * mb, lq, d, 0);
    fa_lr_prefetch(out, out_rs, q0 + mb, q0 + 2 * mb, lq, dv, 1);
    return;
  }
  fa_lr_pf_add(pf, q, q_rs, q0 + mb, q0 + 2 * mb, lq, d, 0);
  fa_lr_pf_add(pf, out, out_rs, q0 + mb, q0 + 2 * mb, lq, dv, 1);
  fa_lr_pf_pace(pf, fa_lr_gemm_calls(uk, mb, r, d) + fa_lr_gemm_calls(uk, mb, dv, r));
}

/* softmax(scale q KPᵀ) VP for every row of one query head, fa_linformer_rows(mr) at a
 * time: all r scores of a row are in the block, so the softmax is exact in one pass (no
 * running max, no rescaling), and the block is small enough that its scores stay in L1
 * between the two GEMMs. L_KT and L_VT hold KPᵀ (d x rp, zero beyond column r) and VP as
 * panels. */
static inline void fa_linformer_attend(const fa_lr_ukernels *lr, const fa_f32_problem *prob,
                                       size_t lq, size_t r, float **buf) {
  const size_t d = prob->d, dv = prob->dv, dvp = fa_lr_cols(dv), rp = fa_lr_cols(r);
  const fa_f32_ukernels *uk = lr->mm;
  const float qscale = prob->scale * FA_LOG2E;
  const size_t mb = fa_linformer_rows(fa_linformer_mr(uk, fa_linformer_wide(uk, r, dv)));
  float *qs = buf[L_QS], *sc = buf[L_SC], *o = buf[L_O];
  float inv[FA_LINFORMER_TILES * FA_F32_MR_MAX];
  fa_lr_pf pf;
  fa_lr_pf_init(&pf, NULL);
  for (size_t q0 = 0; q0 < lq; q0 += mb) {
    const size_t m = lq - q0 < mb ? lq - q0 : mb;
    fa_linformer_next_rows(uk, &pf, prob->q, prob->q_rs, prob->out, prob->out_rs, q0, mb, lq, d,
                           dv, r);
    for (size_t i = 0; i < m; i++) {
      const float *qrow = prob->q + (ptrdiff_t)(q0 + i) * prob->q_rs;
      for (size_t x = 0; x < d; x++) qs[i * d + x] = qrow[x] * qscale;
    }
    fa_lr_gemm_packed(uk, m, r, d, qs, d, buf[L_KT], sc, rp, 0, &pf);
    for (size_t i = 0; i < m; i++) {
      float *srow = sc + i * rp;
      for (size_t c = r; c < rp; c++) srow[c] = -INFINITY;
      const float top = uk->max(srow, rp);
      if (top == -INFINITY) { /* every score -inf: the row is zeros (as in the flash engine) */
        memset(srow, 0, rp * sizeof(float));
        inv[i] = 0.0f;
      } else if (isfinite(top)) { /* the softmax exp needs no NaN or +inf care */
        inv[i] = 1.0f / lr->softmax_exp2(srow, rp, top);
      } else { /* NaN or +inf: NaN, as the reference gives */
        inv[i] = 1.0f / uk->exp2_sum(srow, rp, top);
      }
    }
    fa_lr_gemm_packed(uk, m, dv, r, sc, rp, buf[L_VT], o, dvp, 0, &pf);
    fa_lr_pf_flush(&pf);
    for (size_t i = 0; i < m; i++) {
      float *orow = prob->out + (ptrdiff_t)(q0 + i) * prob->out_rs;
      for (size_t x = 0; x < dv; x++) orow[x] = o[i * dvp + x] * inv[i];
    }
  }
}

/* KPᵀ (r x dp in L_KP) into L_KT as panels (panel j: d x 16 keys, zero beyond key r) and VP
 * (r x dvp in L_VP) into L_VT as panels. */
static inline void fa_linformer_pack(float **buf, size_t r, size_t d, size_t dp, size_t dv,
                                     size_t dvp) {
  for (size_t j = 0; j < fa_lr_cols(r); j += FA_F32_NR)
    for (size_t c = 0; c < FA_F32_NR; c++)
      for (size_t x = 0; x < d; x++)
        buf[L_KT][j * d + x * FA_F32_NR + c] = j + c < r ? buf[L_KP][(j + c) * dp + x] : 0.0f;
  fa_lr_pack_panels(buf[L_VP], dvp, r, dv, buf[L_VT]);
}

static inline fa_status fa_linformer_f32_job(const fa_lr_ukernels *lr, const void *params,
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
  fa_linformer_projections(lr->mm, p, &prob, buf);
  fa_linformer_pack(buf, r, d, dp, p->attn.dv, dvp);
  memset(buf[L_QS], 0, sz[L_QS] * sizeof(float)); /* the padding rows stay 0 */
  for (size_t t = 0; t < jp->heads; t++) {
    fa_f32_problem head = prob;
    head.q += (ptrdiff_t)t * p->attn.q_stride[1];
    head.out += (ptrdiff_t)t * p->attn.out_stride[1];
    fa_linformer_attend(lr, &head, p->attn.lq, r, buf);
  }
  return FA_OK;
}

/* fa_linformer_f32_gemm (fastattn/linformer.h) on this ISA's tile: the projections' row tile
 * copies and GEMM calls, the packing of KPᵀ and VP, and the two GEMM calls per block of query
 * rows of fa_linformer_attend with its prefetching, nothing else. */
static inline void fa_linformer_gemm_parts(const fa_lr_ukernels *lr,
                                           const fa_linformer_f32_gemm_params *p,
                                           void *workspace) {
  const fa_f32_ukernels *uk = lr->mm;
  const int wide = fa_linformer_wide(uk, p->d, p->dv);
  const size_t r = p->r, d = p->d, dv = p->dv, kc = FA_LINFORMER_KC;
  const size_t mr = fa_linformer_mr(uk, wide);
  const size_t mb = fa_linformer_rows(fa_linformer_mr(uk, fa_linformer_wide(uk, r, dv)));
  float *buf[L_COUNT] = {p->kp, p->vp};
  fa_lr_arena arena = fa_lr_arena_start(workspace);
  buf[L_EB] = fa_lr_take(&arena, FA_F32_MR_MAX * kc);
  buf[L_KT] = fa_lr_take(&arena, d * r);
  buf[L_VT] = fa_lr_take(&arena, r * dv);
  buf[L_SC] = fa_lr_take(&arena, fa_lr_rows(fa_linformer_rows(FA_F32_MR_MAX)) * r);
  memset(p->kp, 0, fa_lr_rows(r) * d * sizeof(float));
  memset(p->vp, 0, fa_lr_rows(r) * dv * sizeof(float));
  const size_t calls = fa_lr_gemm_calls(uk, mr, d, kc) + fa_lr_gemm_calls(uk, mr, dv, kc);
  fa_lr_pf pf;
  fa_lr_pf_init(&pf, NULL);
  for (size_t p0 = 0; p0 < p->lk; p0 += kc) {
    const float *kb = p->kb + p0 * d, *vb = p->vb + p0 * dv;
    for (size_t i = 0; i < r; i += mr) {
      fa_linformer_next_tile(uk, wide, &pf, p->e, NULL, (ptrdiff_t)p->lk, r, p->lk, mr, i, p0,
                             calls);
      (void)fa_linformer_row_tile(p->e, (ptrdiff_t)p->lk, r, mr, i, p0, kc, buf[L_EB], 0);
      fa_linformer_tile_gemm(uk, wide, buf[L_EB], kc, kb, d, p->kp + i * d, d, &pf);
      fa_linformer_tile_gemm(uk, wide, buf[L_EB], kc, vb, dv, p->vp + i * dv, dv, &pf);
      fa_lr_pf_flush(&pf);
    }
  }
  fa_linformer_pack(buf, r, d, d, dv, dv);
  for (size_t q0 = 0; q0 < p->lq; q0 += mb) {
    const size_t m = p->lq - q0 < mb ? p->lq - q0 : mb;
    fa_linformer_next_rows(uk, &pf, p->q, (ptrdiff_t)d, p->out, (ptrdiff_t)dv, q0, mb, p->lq, d,
                           dv, r);
    fa_lr_gemm_packed(uk, m, r, d, p->q + q0 * d, d, buf[L_KT], buf[L_SC], r, 0, &pf);
    fa_lr_gemm_packed(uk, m, dv, r, buf[L_SC], r, buf[L_VT], p->out + q0 * dv, dv, 0, &pf);
    fa_lr_pf_flush(&pf);
  }
}

#endif
