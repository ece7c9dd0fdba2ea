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

#include "common/exp2.h"
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

/* The kernels' 2^x for x <= 0 (reference/decode_int8.py, exp2): 2^rint(x) by exponent
 * arithmetic times a degree-6 polynomial of the rest, separate multiplies and adds (the
 * files that use it turn contraction off), 0 below -125. Clamped first, so no input
 * (NaN, +-inf) reaches an undefined conversion. */
static inline float fa_decode_exp2(float x) {
  const float magic = 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y), |y| < 2^22 */
  float xc = x > -126.0f ? x : -126.0f;
  xc = xc < 0.0f ? xc : 0.0f;
  const float n = (xc + magic) - magic, f = xc - n;
  float p = fa_exp2_poly6[0];
  FA_EXP2_POLY6_STEPS(p, f);
  uint32_t bits;
  memcpy(&bits, &p, sizeof(bits));
  bits += (uint32_t)(int32_t)n << 23;
  memcpy(&p, &bits, sizeof(p));
  return x >= -125.0f ? p : 0.0f;
}

/* A job's per-thread buffers: scores of every row, outputs, running max and sum. */
typedef struct fa_decode_rows {
  float *s, *o, *rmax, *rsum;
} fa_decode_rows;

static inline fa_decode_rows fa_decode_rows_init(const fa_decode_task *t, void *workspace) {
  const size_t rows = t->rows, dvp = fa_decode_dvp(t->dv);
  fa_decode_rows w;
  w.s = (float *)(((size_t)workspace + 63) & ~(size_t)63);
  w.o = w.s + rows * FA_DECODE_TILE_PAD;
  w.rmax = w.o + rows * dvp;
  w.rsum = w.rmax + fa_round_up(rows, 16);
  memset(w.o, 0, rows * dvp * sizeof(float));
  for (size_t r = 0; r < rows; r++) w.rmax[r] = -INFINITY, w.rsum[r] = 0.0f;
  return w;
}

/* Row r of group (b, kh) against a tile: its prepared query row, its band [lo, hi) and
 * mask row. */
typedef struct fa_decode_row {
  const void *qrow;
  ptrdiff_t lo, hi;
  const float *mrow;
} fa_decode_row;

/* Row r of group (b, kh) against the tile of n keys from j0; 0 when the row's band misses
 * the tile (nothing changes). */
static inline int fa_decode_row_begin(const fa_decode_task *t, size_t b, size_t kh, size_t r,
                                      size_t j0, size_t n, fa_decode_row *row) {
  const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
  /* the row sees keys j with band_lo <= j - i <= band_hi */
  row->lo = (ptrdiff_t)i + t->band_lo, row->hi = (ptrdiff_t)i + t->band_hi + 1;
  if (row->hi <= (ptrdiff_t)j0 || row->lo >= (ptrdiff_t)(j0 + n)) return 0;
  row->qrow = t->qprep + ((b * t->heads + h) * t->lq + i) * t->qrow_bytes;
  row->mrow = NULL;
  if (t->mask)
    row->mrow = t->mask + (ptrdiff_t)b * t->mask_stride[0] + (ptrdiff_t)h * t->mask_stride[1] +
                (ptrdiff_t)i * t->mask_stride[2];
  return 1;
}

/* The row's scores srow[0..n) of the tile made final: visibility applied, -inf up to
 * fa_round_up(n, 16). */
static inline void fa_decode_row_finish(const fa_decode_row *row, size_t j0, size_t n,
                                        float *srow) {
  if (row->mrow || row->lo > (ptrdiff_t)j0 || row->hi < (ptrdiff_t)(j0 + n))
    fa_decode_visibility(srow, j0, n, row->lo, row->hi, row->mrow);
  for (size_t c = n; c < fa_round_up(n, 16); c++) srow[c] = -INFINITY;
}

/* The end of job {b, kh, k0, ..}: its partial (max, sum, output) per row, or with one
 * split the output rows o / sum (zeros for a row that saw no key). */
static inline fa_status fa_decode_finish(const fa_decode_task *t, size_t b, size_t kh, size_t k0,
                                         const fa_decode_rows *w) {
  const size_t rows = t->rows, dvp = fa_decode_dvp(t->dv);
  if (t->partials) {
    const size_t split = k0 / FA_DECODE_SPLIT;
    float *part = t->partials + ((b * t->kv_heads + kh) * t->nsplits + split) * rows * t->part_stride;
    for (size_t r = 0; r < rows; r++, part += t->part_stride) {
      part[0] = w->rmax[r];
      part[1] = w->rsum[r];
      memcpy(part + 2, w->o + r * dvp, t->dv * sizeof(float));
    }
    return FA_OK;
  }
  for (size_t r = 0; r < rows; r++) {
    const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
    float *orow = t->out + (ptrdiff_t)b * t->out_stride[0] + (ptrdiff_t)h * t->out_stride[1] +
                  (ptrdiff_t)i * t->out_stride[2];
    const float *acc = w->o + r * dvp;
    if (w->rsum[r] == 0.0f) { /* the row sees no key: zeros */
      memset(orow, 0, t->dv * sizeof(float));
      continue;
    }
    const float inv = 1.0f / w->rsum[r];
    for (size_t x = 0; x < t->dv; x++) orow[x] = acc[x] * inv;
  }
  return FA_OK;
}

/* Asks for the 64-byte lines of bytes [p, p + bytes) ahead of their use, four lines a step:
 * the loop's own instructions stay under half of the prefetches'. */
static inline void fa_decode_prefetch_bytes(const char *p, size_t bytes) {
  const uintptr_t end = (uintptr_t)p + bytes;
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)63;
  for (; a + 192 < end; a += 256) {
    __builtin_prefetch((const void *)a, 0, 3);
    __builtin_prefetch((const void *)(a + 64), 0, 3);
    __builtin_prefetch((const void *)(a + 128), 0, 3);
    __builtin_prefetch((const void *)(a + 192), 0, 3);
  }
  for (; a < end; a += 64) __builtin_prefetch((const void *)a, 0, 3);
}

/* Asks for rows [j0, j1) of a key or value matrix at m (row stride rs elements of elem
 * bytes, `width` elements read per row) ahead of their use; rows that lie back to back (a
 * cache's usual layout) are one range, so the loop runs over lines, not rows (armcount: a
 * loop per row cost f32-neon decode 41 instructions per key row, 19% of the A72 model). */
static inline void fa_decode_prefetch_rows(const char *m, ptrdiff_t rs, size_t elem, size_t width,
                                           size_t j0, size_t j1) {
  const size_t row = width * elem;
  const char *p = m + (ptrdiff_t)j0 * rs * (ptrdiff_t)elem;
  if (rs == (ptrdiff_t)width) {
    fa_decode_prefetch_bytes(p, (j1 - j0) * row);
    return;
  }
  for (size_t j = j0; j < j1; j++, p += rs * (ptrdiff_t)elem) fa_decode_prefetch_bytes(p, row);
}

/* Job {b, kh, k0, k1} (common/split.h): every query row of kv head kh's group against
 * keys [k0, k1); its partial (max, sum, output) per row, or the output if one split. */
static inline fa_status fa_decode_job(const fa_decode_ukernels *uk, const void *params,
                                      const fa_job *job, void *workspace) {
  const fa_decode_task *t = (const fa_decode_task *)params;
  const size_t b = job->b, kh = job->h, k0 = job->q0, k1 = job->q1, dvp = fa_decode_dvp(t->dv);
  const fa_decode_kv kv = fa_decode_head(t, b, kh);
  const fa_decode_rows w = fa_decode_rows_init(t, workspace);
  for (size_t j0 = k0; j0 < k1; j0 += FA_DECODE_TILE) {
    const size_t n = k1 - j0 < FA_DECODE_TILE ? k1 - j0 : FA_DECODE_TILE;
    const size_t npad = fa_round_up(n, 16);
    for (size_t r = 0; r < t->rows; r++) {
      float *srow = w.s + r * FA_DECODE_TILE_PAD, *orow = w.o + r * dvp;
      fa_decode_row row;
      if (!fa_decode_row_begin(t, b, kh, r, j0, n, &row)) continue;
      uk->scores(row.qrow, &kv, j0, n, srow);
      fa_decode_row_finish(&row, j0, n, srow);
      /* the hardware streams one matrix well; the softmax step reads no memory, so the
       * tile's values and (during P.V) the next tile's keys are asked for early: 16% off a
       * 16k call, 1 thread */
      if (r == 0) fa_decode_prefetch_rows(kv.v, kv.v_rs, t->elem, kv.dv, j0, j0 + n);
      const float tile_max = uk->softmax->max(srow, npad);
      /* NaN must stick: it marks the row as NaN, as in the reference */
      const float new_max = tile_max > w.rmax[r] || tile_max != tile_max ? tile_max : w.rmax[r];
      if (new_max == -INFINITY) continue; /* nothing visible yet */
      const float alpha = w.rmax[r] == -INFINITY ? 0.0f : exp2f(w.rmax[r] - new_max);
      const float tile_sum = uk->softmax->exp2_sum(srow, npad, new_max);
      if (alpha != 1.0f) uk->softmax->scale(orow, dvp, alpha);
      w.rsum[r] = w.rsum[r] * alpha + tile_sum;
      w.rmax[r] = new_max;
      if (r + 1 == t->rows && j0 + n < k1)
        fa_decode_prefetch_rows(kv.k, kv.k_rs, t->elem, kv.d, j0 + n,
                                j0 + n + FA_DECODE_TILE < k1 ? j0 + n + FA_DECODE_TILE : k1);
      uk->pv(srow, &kv, j0, n, orow);
    }
  }
  return fa_decode_finish(t, b, kh, k0, &w);
}

#endif
