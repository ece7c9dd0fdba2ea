/* The decode engine: one job attends every query row of one (batch, kv head) group
 * to one split of its keys, a tile of FA_DECODE_TILE keys at a time, with an online
 * softmax in base-2 units. ISA files include this after enabling their target and
 * pass their micro-kernels in a const struct, so each gets one specialised copy.
 *
 * Keys and values are read in place (row strides of the stored layout): a tile of
 * keys is read once from memory and again from L1 for the other rows of the group. */
#ifndef FASTATTN_DECODE_ENGINE_H
#define FASTATTN_DECODE_ENGINE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastattn/decode.h"
#include "fastattn/variant.h"
#include "flash/f32.h" /* fa_f32_ukernels (max, exp2_sum, scale), fa_round_up, FA_LOG2E */

#define FA_DECODE_TILE_PAD (FA_DECODE_TILE + 16)

/* One (batch, kv head): where its keys and values are. */
typedef struct fa_decode_kv {
  const char *k, *v;   /* key j at k + j * k_rs elements */
  ptrdiff_t k_rs, v_rs; /* in elements */
  const float *ks, *vs; /* int8: per-token scales; NULL for float32 */
  size_t d, dv;
} fa_decode_kv;

typedef struct fa_decode_ukernels {
  /* s[c] = score of the prepared query row with key j0 + c for c < n (base-2 units);
   * s has room for fa_round_up(n, 16) floats, which may be written */
  void (*scores)(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n, float *s);
  /* o[x] += sum_{c < n} p[c] * value(j0 + c)[x] for x < dv (o has fa_round_up(dv, 16)) */
  void (*pv)(const float *p, const fa_decode_kv *kv, size_t j0, size_t n, float *o);
  const fa_f32_ukernels *softmax; /* max, exp2_sum and scale of the flash engine */
} fa_decode_ukernels;

/* One call, resolved by the entry points (decode/run.c): the params of every job. */
typedef struct fa_decode_task {
  size_t batch, heads, kv_heads, lq, lk, d, dv;
  size_t group, rows, nsplits; /* heads per kv head; group * lq; ceil(lk / SPLIT) */
  const float *q; /* the caller's query rows, read once to prepare qprep */
  const char *k, *v;
  size_t elem; /* bytes per key/value element */
  const float *k_scale, *v_scale; /* int8: per-token scales; NULL for float32 */
  float *out;
  const float *mask;
  /* strides (elements) of the params struct the task was made from, which outlives it */
  const ptrdiff_t *q_stride, *k_stride, *v_stride, *out_stride, *mask_stride;
  const ptrdiff_t *k_scale_stride, *v_scale_stride;
  float scale;
  ptrdiff_t band_lo, band_hi;
  const char *qprep; /* prepared query rows in (batch, head, row) order */
  size_t qrow_bytes;
  float *partials; /* [job][rows][part_stride]: max, sum, then dv outputs; NULL if 1 split */
  size_t part_stride;
} fa_decode_task;

static inline size_t fa_decode_dvp(size_t dv) { return fa_round_up(dv, 16); }

/* Bytes of one thread's workspace for `rows` query rows; buffers start on 64 bytes. */
static inline size_t fa_decode_thread_bytes(size_t rows, size_t dv) {
  const size_t floats = rows * FA_DECODE_TILE_PAD + rows * fa_decode_dvp(dv) +
                        2 * fa_round_up(rows, 16);
  return floats * sizeof(float) + 64;
}

static inline fa_decode_kv fa_decode_head(const fa_decode_task *t, size_t b, size_t kh) {
  const ptrdiff_t ib = (ptrdiff_t)b, ik = (ptrdiff_t)kh, e = (ptrdiff_t)t->elem;
  fa_decode_kv kv = {
      .k = t->k + (ib * t->k_stride[0] + ik * t->k_stride[1]) * e, .k_rs = t->k_stride[2],
      .v = t->v + (ib * t->v_stride[0] + ik * t->v_stride[1]) * e, .v_rs = t->v_stride[2],
      .ks = t->k_scale ? t->k_scale + ib * t->k_scale_stride[0] + ik * t->k_scale_stride[1] : NULL,
      .vs = t->v_scale ? t->v_scale + ib * t->v_scale_stride[0] + ik * t->v_scale_stride[1] : NULL,
      .d = t->d, .dv = t->dv};
  return kv;
}

/* The int8 scores' key rows: rows[u] = key c + u of the tile of n keys from j0 (past the
 * tile's end: its last key again) and ks[u] its scale, for u < count. */
static inline void fa_decode_i8_key_rows(const fa_decode_kv *kv, size_t j0, size_t c, size_t n,
                                         size_t count, const int8_t **rows, float *ks) {
  const int8_t *k = (const int8_t *)kv->k + (ptrdiff_t)j0 * kv->k_rs;
  for (size_t u = 0; u < count; u++) {
    const size_t j = c + u < n ? c + u : n - 1;
    rows[u] = k + (ptrdiff_t)j * kv->k_rs;
    ks[u] = kv->ks[j0 + j];
  }
}

/* The int8 output step's weights w[c] = p[c] * v_scale[j0 + c] for c < n. */
static inline void fa_decode_i8_weights(const float *p, const fa_decode_kv *kv, size_t j0,
                                        size_t n, float *w) {
  for (size_t c = 0; c < n; c++) w[c] = p[c] * kv->vs[j0 + c];
}

/* o[y] += sum_{c < n} w[c] v_c[y] for y in [x, dv), v_c = value j0 + c: the int8 output
 * step in plain C (the scalar kernel from x = 0, the SIMD ones past their blocks). */
static inline void fa_decode_i8_pv_cols(const float *w, const fa_decode_kv *kv, size_t j0,
                                        size_t n, size_t x, float *o) {
  const int8_t *v = (const int8_t *)kv->v + (ptrdiff_t)j0 * kv->v_rs;
  for (size_t c = 0; x < kv->dv && c < n; c++) {
    const int8_t *row = v + (ptrdiff_t)c * kv->v_rs;
    for (size_t y = x; y < kv->dv; y++) o[y] += w[c] * (float)row[y];
  }
}

/* Sets the scores of keys a row may not see to -inf: outside its band [lo, hi)
 * or masked; adds the additive mask (natural-log units) in base 2. */
static inline void fa_decode_visibility(float *s, size_t j0, size_t n, ptrdiff_t lo,
                                        ptrdiff_t hi, const float *mrow) {
  if (mrow)
    for (size_t c = 0; c < n; c++) s[c] += mrow[j0 + c] * FA_LOG2E;
  for (size_t c = 0; c < n; c++) {
    const ptrdiff_t j = (ptrdiff_t)(j0 + c);
    if (j < lo || j >= hi) s[c] = -INFINITY;
  }
}

/* Job {b, kh, k0, k1} (common/split.h): every query row of kv head kh's group against
 * keys [k0, k1); its partial (max, sum, output) per row, or the output if one split. */
static inline fa_status fa_decode_job(const fa_decode_ukernels *uk, const void *params,
                                      const fa_job *job, void *workspace) {
  const fa_decode_task *t = (const fa_decode_task *)params;
  const size_t b = job->b, kh = job->h, k0 = job->q0, k1 = job->q1;
  const size_t rows = t->rows, dvp = fa_decode_dvp(t->dv);
  const fa_decode_kv kv = fa_decode_head(t, b, kh);

  float *ws = (float *)(((size_t)workspace + 63) & ~(size_t)63);
  float *s = ws;
  float *o = s + rows * FA_DECODE_TILE_PAD;
  float *rmax = o + rows * dvp;
  float *rsum = rmax + fa_round_up(rows, 16);
  memset(o, 0, rows * dvp * sizeof(float));
  for (size_t r = 0; r < rows; r++) rmax[r] = -INFINITY, rsum[r] = 0.0f;

  for (size_t j0 = k0; j0 < k1; j0 += FA_DECODE_TILE) {
    const size_t n = k1 - j0 < FA_DECODE_TILE ? k1 - j0 : FA_DECODE_TILE;
    const size_t npad = fa_round_up(n, 16);
    for (size_t r = 0; r < rows; r++) {
      const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
      /* the row sees keys j with band_lo <= j - i <= band_hi */
      const ptrdiff_t lo = (ptrdiff_t)i + t->band_lo, hi = (ptrdiff_t)i + t->band_hi + 1;
      if (hi <= (ptrdiff_t)j0 || lo >= (ptrdiff_t)(j0 + n)) continue; /* P = 0: no change */
      const size_t qi = (b * t->heads + h) * t->lq + i;
      float *srow = s + r * FA_DECODE_TILE_PAD, *orow = o + r * dvp;
      uk->scores(t->qprep + qi * t->qrow_bytes, &kv, j0, n, srow);
      const float *mrow = NULL;
      if (t->mask)
        mrow = t->mask + (ptrdiff_t)b * t->mask_stride[0] + (ptrdiff_t)h * t->mask_stride[1] +
               (ptrdiff_t)i * t->mask_stride[2];
      if (mrow || lo > (ptrdiff_t)j0 || hi < (ptrdiff_t)(j0 + n))
        fa_decode_visibility(srow, j0, n, lo, hi, mrow);
      for (size_t c = n; c < npad; c++) srow[c] = -INFINITY;

      const float tile_max = uk->softmax->max(srow, npad);
      /* NaN must stick: it marks the row as NaN, as in the reference */
      const float new_max = tile_max > rmax[r] || tile_max != tile_max ? tile_max : rmax[r];
      if (new_max == -INFINITY) continue; /* nothing visible yet */
      const float alpha = rmax[r] == -INFINITY ? 0.0f : exp2f(rmax[r] - new_max);
      const float tile_sum = uk->softmax->exp2_sum(srow, npad, new_max);
      if (alpha != 1.0f) uk->softmax->scale(orow, dvp, alpha);
      rsum[r] = rsum[r] * alpha + tile_sum;
      rmax[r] = new_max;
      uk->pv(srow, &kv, j0, n, orow);
    }
  }

  if (t->partials) {
    const size_t split = k0 / FA_DECODE_SPLIT;
    float *part = t->partials + ((b * t->kv_heads + kh) * t->nsplits + split) * rows * t->part_stride;
    for (size_t r = 0; r < rows; r++, part += t->part_stride) {
      part[0] = rmax[r];
      part[1] = rsum[r];
      memcpy(part + 2, o + r * dvp, t->dv * sizeof(float));
    }
    return FA_OK;
  }
  for (size_t r = 0; r < rows; r++) {
    const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
    float *orow = t->out + (ptrdiff_t)b * t->out_stride[0] + (ptrdiff_t)h * t->out_stride[1] +
                  (ptrdiff_t)i * t->out_stride[2];
    const float *acc = o + r * dvp;
    if (rsum[r] == 0.0f) { /* the row sees no key: zeros */
      memset(orow, 0, t->dv * sizeof(float));
      continue;
    }
    const float inv = 1.0f / rsum[r];
    for (size_t x = 0; x < t->dv; x++) orow[x] = acc[x] * inv;
  }
  return FA_OK;
}

#endif
