/* The feature-map attention scan shared by linear attention and Performer (FAVOR+).
 *
 * For one (batch, head): out_i = phi(q_i) . S / phi(q_i) . z, with the state S = sum
 * phi(k_j) v_jᵀ (F x Dv) and z = sum phi(k_j) over the keys query i sees (j <= i +
 * band_hi). The state covers keys [0, covered); query chunk [i0, i0 + C) first absorbs
 * nothing but sees, besides the state, the keys [i0 + band_hi, i0 + C + band_hi) of its
 * own diagonal chunk through an explicit C x C masked block, and then adds them to the
 * state: the chunked prefix sums of "Transformers are RNNs". Without a band every key is
 * absorbed up front and the chunks only read the state. All of it runs through the mr x
 * 16 GEMM tiles: state update phi(K)ᵀ V, readout phi(Q) S, the diagonal block phi(Q)
 * phi(K)ᵀ and its product with V; FAVOR+ computes its features as one more GEMM per
 * chunk (W' x, exp applied while the chunk is in L1/L2).
 *
 * Include after the ISA's target is enabled, with the ISA's fa_lr_ukernels. */
#ifndef FASTATTN_LOWRANK_SCAN_H
#define FASTATTN_LOWRANK_SCAN_H

#include <math.h>
#include <string.h>
#include "dense/job-f32.h"
#include "fastattn/linear.h"
#include "lowrank/drive.h"
#include "lowrank/gemm.h"
#include "lowrank/ukernels.h"
#include "lowrank/vec.h"

enum { FA_LR_ELU1 = 0, FA_LR_RELU = 1, FA_LR_FAVOR = 2 };

typedef struct fa_lr_scan {
  fa_f32_problem attn; /* q, k, v, out of the first query head; lk, d, dv, band_hi; FAVOR: scale */
  size_t lq;
  size_t heads;             /* query heads sharing k and v: q and out advance by q_hs, out_hs */
  ptrdiff_t q_hs, out_hs;
  int kind;
  const float *w;      /* FAVOR: [m][d] random features */
  ptrdiff_t w_rs;
  size_t m;
} fa_lr_scan;

/* B_SP: the state S as panels (fa_lr_pack_panels) for the readouts of a chunk's heads; B_WT:
 * FAVOR's W'ᵀ as panels. */
enum { B_S, B_SP, B_Z, B_QF, B_KFT, B_SC, B_VP, B_NUM, B_DEN, B_NUM2, B_DEN2, B_H, B_QC, B_KCT,
       B_WP, B_WT, B_LZ, B_KM, B_NM, B_COUNT };

/* The scan of one job: its query heads, all of one kv head, over the whole sequence. */
static inline fa_lr_scan fa_lr_scan_of(const fa_lr_job_params *jp, const fa_dense_f32_params *a,
                                       const fa_job *job, int kind) {
  const fa_lr_scan scan = {.attn = fa_dense_f32_head(a, job->b, job->h * jp->heads),
                           .lq = a->lq,
                           .heads = jp->heads,
                           .q_hs = a->q_stride[1],
                           .out_hs = a->out_stride[1],
                           .kind = kind};
  return scan;
}

static inline size_t fa_lr_features(int kind, size_t d, size_t m) {
  return kind == FA_LR_FAVOR ? m : d;
}

/* The row stride of kft (the keys' features, transposed): the flash engine's key-tile layout
 * (pack_kt's) for elu+1 and relu, a chunk for FAVOR, whose features come from a GEMM. */
static inline size_t fa_lr_ldk(int kind) {
  return kind == FA_LR_FAVOR ? FA_LOWRANK_CHUNK : FA_F32_NK;
}

static inline void fa_lr_scan_sizes(int kind, size_t d, size_t dv, size_t m, size_t *sz) {
  const size_t c = FA_LOWRANK_CHUNK, f = fa_lr_features(kind, d, m), dvp = fa_lr_cols(dv);
  const int favor = kind == FA_LR_FAVOR;
  sz[B_S] = fa_lr_rows(f) * dvp;
  sz[B_SP] = f * dvp;
  sz[B_Z] = fa_lr_cols(f);
  sz[B_QF] = fa_lr_rows(c) * fa_lr_cols(f);
  sz[B_KFT] = fa_lr_rows(f) * fa_lr_ldk(kind);
  sz[B_SC] = fa_lr_rows(c) * c;
  sz[B_VP] = c * dvp;
  sz[B_NUM] = sz[B_NUM2] = fa_lr_rows(c) * dvp; /* two: one is written out meanwhile */
  sz[B_DEN] = sz[B_DEN2] = fa_lr_rows(c);
  sz[B_H] = favor ? c : 0;
  sz[B_QC] = favor ? fa_lr_rows(c) * d : 0;
  sz[B_KCT] = d * c;
  sz[B_WP] = favor ? fa_lr_rows(m) * d : 0;
  sz[B_WT] = favor ? d * fa_lr_cols(m) : 0;
  sz[B_LZ] = favor ? fa_lr_cols(m) : 0;
  sz[B_KM] = favor ? fa_lr_cols(m) : 0;
  sz[B_NM] = favor ? fa_lr_cols(m) : 0;
}

static inline size_t fa_lr_scan_workspace_size(int kind, size_t d, size_t dv, size_t m) {
  size_t sz[B_COUNT];
  fa_lr_scan_sizes(kind, d, dv, m, sz);
  return fa_lr_bytes(sz, B_COUNT);
}

typedef struct fa_lr_state {
  float *buf[B_COUNT];
  size_t f, fc, dvp; /* features, their padded columns, padded value columns */
  size_t ldk;         /* kft's row stride (fa_lr_ldk) */
  const float *vrows; /* the chunk's values: v itself when dv needs no padding, else vp */
  size_t ldv;
  fa_lr_pf pf; /* the next chunks' rows, prefetched over this chunk's GEMMs */
} fa_lr_state;

/* Features of keys [j0, j0 + n) into kft (f rows x C columns, zeros beyond n) and the
 * keys' values into vrows (v itself when its rows need no padding, else a padded copy).
 *
 * FAVOR: feature l of every key is shifted by M_l, the running largest exponent of that
 * feature over the keys so far (row l of the state is rescaled when it grows), and the
 * queries' feature l is multiplied back by 2^M_l, so each product is unchanged. A global
 * shift (the paper's) would let float32 flush a key's features to 0 whenever they sit 126
 * binary orders below the largest exponent of any feature; per feature, only keys that are
 * negligible next to another key in the same term are lost. */
static inline void fa_lr_load_keys(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                   fa_lr_state *st, size_t j0, size_t n) {
  const size_t c = FA_LOWRANK_CHUNK, d = p->attn.d, dv = p->attn.dv, dvp = st->dvp;
  const float *k = p->attn.k + (ptrdiff_t)j0 * p->attn.k_rs;
  const float *v = p->attn.v + (ptrdiff_t)j0 * p->attn.v_rs;
  float *kft = st->buf[B_KFT], *vp = st->buf[B_VP];
  st->vrows = v;
  st->ldv = (size_t)p->attn.v_rs;
  if (dv != dvp || p->attn.v_rs < 0) {
    for (size_t r = 0; r < n; r++) {
      memcpy(vp + r * dvp, v + (ptrdiff_t)r * p->attn.v_rs, dv * sizeof(float));
      memset(vp + r * dvp + dv, 0, (dvp - dv) * sizeof(float));
    }
    st->vrows = vp;
    st->ldv = dvp;
  }
  if (p->kind != FA_LR_FAVOR) { /* features of the rows (one call when contiguous), transposed */
    float *kf = st->buf[B_KCT];
    const int one_run = p->attn.k_rs == (ptrdiff_t)d;
    for (size_t r = 0; r < (one_run ? 1 : n); r++) {
      const float *src = k + (ptrdiff_t)r * p->attn.k_rs;
      const size_t len = one_run ? n * d : d;
      if (p->kind == FA_LR_RELU) fa_lr_relu(kf + r * d, src, len);
      else uk->elu1(kf + r * d, src, len);
    }
    uk->mm->pack_kt(kf, (ptrdiff_t)d, n, d, kft);
    for (size_t x = 0; x < d; x++) memset(kft + x * st->ldk + n, 0, (c - n) * sizeof(float));
    return;
  }
  float *kct = st->buf[B_KCT], *h = st->buf[B_H];
  const float half = 0.5f * p->attn.scale * FA_LOG2E;
  for (size_t r = 0; r < n; r++) {
    const float *krow = k + (ptrdiff_t)r * p->attn.k_rs;
    for (size_t x = 0; x < d; x++) kct[x * c + r] = krow[x];
    h[r] = half * fa_lr_dot(krow, krow, d);
  }
  for (size_t x = 0; x < d; x++) memset(kct + x * c + n, 0, (c - n) * sizeof(float));
  fa_lr_gemm(uk->mm, p->m, n, d, st->buf[B_WP], d, kct, c, kft, c, 0, &st->pf);
  float *key_max = st->buf[B_KM], *s = st->buf[B_S], *z = st->buf[B_Z], *top = st->buf[B_NM];
  uk->max_sub(kft, p->m, c, h, n, top); /* B_NM is free until fa_lr_query_shifts */
  for (size_t l = 0; l < p->m; l++) {
    const float x = top[l];
    if (x > key_max[l] || (x != x && key_max[l] == key_max[l])) {
      const float alpha = key_max[l] == -INFINITY ? 0.0f : exp2f(key_max[l] - x);
      fa_lr_scale(s + l * dvp, dvp, alpha);
      z[l] *= alpha;
      key_max[l] = x;
    }
  }
  uk->exp2_sub(kft, p->m, c, h, key_max, n);
}

/* S += phi(K)ᵀ V and z += phi(K)ᵀ 1 for the n keys in kft / vrows. */
static inline void fa_lr_absorb(const fa_lr_ukernels *uk, fa_lr_state *st, size_t n) {
  const float *kft = st->buf[B_KFT];
  fa_lr_gemm(uk->mm, st->f, st->dvp, n, kft, st->ldk, st->vrows, st->ldv, st->buf[B_S], st->dvp,
             1, &st->pf);
  float *z = st->buf[B_Z];
  for (size_t x = 0; x < st->f; x++) z[x] += fa_lr_sum(kft + x * st->ldk, n);
}

/* FAVOR: -M_l and -(M_l + log2 z_l) of every feature l, over the state's z with the n keys
 * that wait in kft, for the queries of one chunk (of every head: they see the same keys). */
static inline void fa_lr_query_shifts(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                      fa_lr_state *st, size_t n) {
  float *neg_log_z = st->buf[B_LZ], *neg_max = st->buf[B_NM];
  const float *z = st->buf[B_Z], *kft = st->buf[B_KFT], *key_max = st->buf[B_KM];
  for (size_t l = 0; l < p->m; l++) {
    const float zl = z[l] + (n ? fa_lr_sum(kft + l * st->ldk, n) : 0.0f);
    neg_max[l] = -key_max[l];
    neg_log_z[l] = zl > 0.0f ? -(key_max[l] + log2f(zl)) : (zl == 0.0f ? INFINITY : zl);
  }
}

/* Features of rows [i0, i0 + rows) of query head `head` into qf (rows x fc, zero padding).
 *
 * FAVOR: feature l of row i is exp2(e_il + M_l - c_i) (M_l: the keys' shift, see
 * fa_lr_load_keys) with c_i = max_l (e_il + M_l + log2 z_l) over the state's z (with the
 * waiting keys, fa_lr_query_shifts): a per-row constant, which cancels, chosen so that the
 * largest term of the denominator is 1 and it cannot underflow in float32 when a row's
 * large features meet only small key features (large logits). c_i is kept within 100 of
 * the row's largest exponent, so features stay below 2^100. */
static inline void fa_lr_load_queries(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                      fa_lr_state *st, size_t head, size_t i0, size_t rows) {
  const size_t d = p->attn.d, fc = st->fc, pad = fa_lr_rows(FA_LOWRANK_CHUNK) - rows;
  const float *q = p->attn.q + (ptrdiff_t)head * p->q_hs + (ptrdiff_t)i0 * p->attn.q_rs;
  float *qf = st->buf[B_QF];
  if (p->kind != FA_LR_FAVOR) {
    /* unpadded rows of a contiguous q are one run: one call keeps the exp pipeline full */
    const int one_run = fc == d && p->attn.q_rs == (ptrdiff_t)d;
    const size_t calls = one_run ? 1 : rows, len = one_run ? rows * d : d;
    for (size_t r = 0; r < calls; r++) {
      const float *src = q + (ptrdiff_t)r * p->attn.q_rs;
      if (p->kind == FA_LR_RELU) fa_lr_relu(qf + r * fc, src, len);
      else uk->elu1(qf + r * fc, src, len);
    }
    memset(qf + rows * fc, 0, pad * fc * sizeof(float));
    return;
  }
  float *qc = st->buf[B_QC];
  const float *neg_log_z = st->buf[B_LZ], *neg_max = st->buf[B_NM];
  for (size_t r = 0; r < rows; r++) memcpy(qc + r * d, q + (ptrdiff_t)r * p->attn.q_rs,
                                           d * sizeof(float));
  memset(qc + rows * d, 0, pad * d * sizeof(float));
  fa_lr_gemm_packed(uk->mm, rows, p->m, d, qc, d, st->buf[B_WT], qf, fc, 0, &st->pf);
  float top[FA_LOWRANK_CHUNK], shift[FA_LOWRANK_CHUNK];
  uk->max_sub(qf, rows, fc, neg_max, p->m, top);
  uk->max_sub(qf, rows, fc, neg_log_z, p->m, shift);
  for (size_t r = 0; r < rows; r++)
    if (shift[r] < top[r] - 100.0f || shift[r] == -INFINITY) shift[r] = top[r] - 100.0f;
  uk->exp2_sub(qf, rows, fc, neg_max, shift, p->m);
  for (size_t r = 0; r < rows; r++) {
    float *row = qf + r * fc;
    if (top[r] == -INFINITY) /* no key seen yet: all features 0, and so is the row */
      memset(row, 0, fc * sizeof(float));
    else
      memset(row + p->m, 0, (fc - p->m) * sizeof(float));
  }
}

/* FAVOR: W' = W sqrt(scale) log2(e), as wp (m x d) and its transpose wt (d x fc) in panels
 * (element (x, l) of panel l / 16 at (l / 16) * 16 d + 16 x + l % 16). */
static inline void fa_lr_pack_features(const fa_lr_scan *p, fa_lr_state *st) {
  const size_t d = p->attn.d, m = p->m, fc = st->fc;
  const float gain = sqrtf(p->attn.scale) * FA_LOG2E;
  float *wp = st->buf[B_WP], *wt = st->buf[B_WT];
  memset(wt, 0, d * fc * sizeof(float));
  for (size_t l = 0; l < m; l++)
    for (size_t x = 0; x < d; x++) {
      const float w = p->w[(ptrdiff_t)l * p->w_rs + x] * gain;
      wp[l * d + x] = w;
      wt[(l & ~(size_t)15) * d + x * FA_F32_NR + (l & 15)] = w;
    }
  memset(wp + m * d, 0, FA_F32_MR_MAX * d * sizeof(float));
}

static inline size_t fa_lr_clip(ptrdiff_t x, size_t hi) {
  return x <= 0 ? 0 : ((size_t)x >= hi ? hi : (size_t)x);
}

/* Output rows [i0, i0 + rows) of query head `head`: their features against the state
 * (keys [0, covered)) and, through the masked diagonal block, against the n keys waiting
 * in kft (query i0 + r sees key covered + j iff j <= i0 + r + band - covered). */
static inline void fa_lr_read_chunk(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                    fa_lr_state *st, size_t head, size_t i0, size_t rows,
                                    size_t covered, size_t n) {
  const size_t c = FA_LOWRANK_CHUNK, dv = p->attn.dv, fc = st->fc, dvp = st->dvp;
  float *qf = st->buf[B_QF], *sc = st->buf[B_SC], *num = st->buf[B_NUM], *den = st->buf[B_DEN];
  fa_lr_load_queries(uk, p, st, head, i0, rows);
  fa_lr_gemm_packed(uk->mm, rows, dv, st->f, qf, fc, st->buf[B_SP], num, dvp, 0, &st->pf);
  for (size_t r = 0; r < rows; r++) den[r] = fa_lr_dot(qf + r * fc, st->buf[B_Z], st->f);
  if (n) {
    fa_lr_gemm(uk->mm, rows, n, st->f, qf, fc, st->buf[B_KFT], st->ldk, sc, c, 0, &st->pf);
    for (size_t r = 0; r < rows; r++) {
      const ptrdiff_t last = (ptrdiff_t)(i0 + r) + p->attn.band_hi - (ptrdiff_t)covered;
      const size_t keep = last < 0 ? 0 : ((size_t)last + 1 < n ? (size_t)last + 1 : n);
      memset(sc + r * c + keep, 0, (c - keep) * sizeof(float));
      den[r] += fa_lr_sum(sc + r * c, keep);
    }
    fa_lr_gemm(uk->mm, rows, dv, n, sc, c, st->vrows, st->ldv, num, dvp, 1, &st->pf);
  }
  /* written over the next readout's GEMM calls; the next readout fills the other buffers */
  float *out = p->attn.out + (ptrdiff_t)head * p->out_hs + (ptrdiff_t)i0 * p->attn.out_rs;
  fa_lr_pf_defer(&st->pf, out, p->attn.out_rs, num, dvp, den, rows, dv,
                 fa_lr_gemm_calls(uk->mm, FA_LOWRANK_CHUNK, dvp, st->f));
  st->buf[B_NUM] = st->buf[B_NUM2], st->buf[B_NUM2] = num;
  st->buf[B_DEN] = st->buf[B_DEN2], st->buf[B_DEN2] = den;
}

/* Chunks ahead that the scan prefetches (the first ones at the start). */
#define FA_LR_AHEAD 1

/* The GEMM tile calls of one chunk: the keys' features (FAVOR) when `keys`, a readout of one
 * head when `readout` (with the diagonal block when n keys wait), the state update when
 * `absorb`. */
static inline size_t fa_lr_chunk_calls(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                       const fa_lr_state *st, int keys, int readout, size_t n,
                                       int absorb) {
  const size_t c = FA_LOWRANK_CHUNK, f = st->f, dvp = st->dvp, d = p->attn.d;
  const int favor = p->kind == FA_LR_FAVOR;
  size_t calls = keys && favor ? fa_lr_gemm_calls(uk->mm, f, c, d) : 0;
  if (readout) {
    calls += fa_lr_gemm_calls(uk->mm, c, dvp, f) + (favor ? fa_lr_gemm_calls(uk->mm, c, f, d) : 0);
    if (n) calls += fa_lr_gemm_calls(uk->mm, c, c, f) + fa_lr_gemm_calls(uk->mm, c, dvp, c);
  }
  return calls + (absorb ? fa_lr_gemm_calls(uk->mm, f, dvp, c) : 0);
}

static inline void fa_lr_scan_run(const fa_lr_ukernels *uk, const fa_lr_scan *p,
                                  void *workspace) {
  const size_t c = FA_LOWRANK_CHUNK, lk = p->attn.lk, dv = p->attn.dv;
  fa_lr_state st;
  st.f = fa_lr_features(p->kind, p->attn.d, p->m);
  st.fc = fa_lr_cols(st.f);
  st.dvp = fa_lr_cols(dv);
  st.ldk = fa_lr_ldk(p->kind);
  size_t sz[B_COUNT];
  fa_lr_scan_sizes(p->kind, p->attn.d, dv, p->m, sz);
  fa_lr_arena arena = fa_lr_arena_start(workspace);
  for (int i = 0; i < B_COUNT; i++) st.buf[i] = fa_lr_take(&arena, sz[i]);
  memset(st.buf[B_S], 0, sz[B_S] * sizeof(float));
  memset(st.buf[B_Z], 0, sz[B_Z] * sizeof(float));
  memset(st.buf[B_KFT], 0, sz[B_KFT] * sizeof(float));
  if (p->kind == FA_LR_FAVOR) {
    fa_lr_pack_features(p, &st);
    for (size_t l = 0; l < p->m; l++) st.buf[B_KM][l] = -INFINITY;
  }

  /* Keys every query sees go straight into the state (all of them without a band). */
  const ptrdiff_t band = p->attn.band_hi;
  size_t covered = fa_lr_clip(band, lk);
  fa_lr_pf *pf = &st.pf;
  fa_lr_pf_init(pf, uk->divide_rows ? uk->divide_rows : fa_lr_divide_rows);
  /* the first chunks at once: nothing runs before them */
  fa_lr_pf_add(pf, p->attn.k, p->attn.k_rs, 0, FA_LR_AHEAD * c, covered, p->attn.d, 0);
  fa_lr_pf_add(pf, p->attn.v, p->attn.v_rs, 0, FA_LR_AHEAD * c, covered, dv, 0);
  fa_lr_pf_flush(pf);
  for (size_t j0 = 0; j0 < covered; j0 += c) {
    const size_t n = covered - j0 < c ? covered - j0 : c, ahead = j0 + FA_LR_AHEAD * c;
    fa_lr_pf_reset(pf);
    fa_lr_pf_add(pf, p->attn.k, p->attn.k_rs, ahead, ahead + c, covered, p->attn.d, 0);
    fa_lr_pf_add(pf, p->attn.v, p->attn.v_rs, ahead, ahead + c, covered, dv, 0);
    fa_lr_pf_pace(pf, fa_lr_chunk_calls(uk, p, &st, 1, 0, 0, 1));
    fa_lr_load_keys(uk, p, &st, j0, n);
    fa_lr_absorb(uk, &st, n);
    fa_lr_pf_flush(pf);
  }

  int changed = 1; /* S changed (keys absorbed, a rescale) since it was last packed */
  for (size_t i0 = 0; i0 < p->lq; i0 += c) {
    const size_t rows = p->lq - i0 < c ? p->lq - i0 : c;
    const size_t end = band >= FA_BAND_NONE ? lk : fa_lr_clip((ptrdiff_t)(i0 + rows) + band, lk);
    const size_t n = end > covered ? end - covered : 0;
    if (n) fa_lr_load_keys(uk, p, &st, covered, n); /* before the readout: may rescale S */
    if (n || changed) fa_lr_pack_panels(st.buf[B_S], st.dvp, st.f, dv, st.buf[B_SP]);
    changed = n != 0;
    if (p->kind == FA_LR_FAVOR) fa_lr_query_shifts(uk, p, &st, n);
    const size_t ahead = i0 + FA_LR_AHEAD * c, kahead = end + (FA_LR_AHEAD - 1) * c;
    for (size_t head = 0; head < p->heads; head++) {
      fa_lr_pf_reset(pf); /* keys with the last head: they are read after it */
      fa_lr_pf_add(pf, p->attn.q + (ptrdiff_t)head * p->q_hs, p->attn.q_rs, ahead, ahead + c,
                   p->lq, p->attn.d, 0);
      if (!uk->divide_rows) /* else its stores go around the cache */
        fa_lr_pf_add(pf, p->attn.out + (ptrdiff_t)head * p->out_hs, p->attn.out_rs, ahead,
                     ahead + c, p->lq, dv, 1);
      if (head + 1 == p->heads && band < FA_BAND_NONE) {
        fa_lr_pf_add(pf, p->attn.k, p->attn.k_rs, kahead, kahead + c, lk, p->attn.d, 0);
        fa_lr_pf_add(pf, p->attn.v, p->attn.v_rs, kahead, kahead + c, lk, dv, 0);
      }
      fa_lr_pf_pace(pf, fa_lr_chunk_calls(uk, p, &st, 0, 1, n, head + 1 == p->heads && n));
      fa_lr_read_chunk(uk, p, &st, head, i0, rows, covered, n);
      if (head + 1 < p->heads) fa_lr_pf_flush(pf);
    }
    if (n) {
      fa_lr_absorb(uk, &st, n);
      covered = end;
    }
    fa_lr_pf_flush(pf);
  }
  fa_lr_pf_write(pf, (size_t)-1, 1);
}

#endif
