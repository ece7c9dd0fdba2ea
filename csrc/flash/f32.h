/* The float32 flash-attention engine shared by every op (dense, sparse, ...).
 *
 * One call attends a block of at most FA_F32_MQ query rows of one (batch, head)
 * to a list of key ranges, a key tile of FA_F32_NK keys at a time, with an
 * online softmax: scores never exist beyond one MQ x NK tile. ISA files include
 * this header after enabling their target and pass their micro-kernels in a
 * const struct, so the compiler inlines them into one specialised copy.
 *
 * Scores are kept in base-2 units (q is pre-scaled by scale * log2(e)), so the
 * softmax needs only exp2. The running sums and outputs are float32 within a chunk of
 * FA_F32_FLUSH tiles and double across chunks, so they stay exact at any Lk (a float32
 * running sum stops growing near 2^24 terms: 2^25 equal keys gave 2/3 of the answer). */
#ifndef FASTATTN_FLASH_F32_H
#define FASTATTN_FLASH_F32_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "fastattn/tiles.h" /* FA_F32_MQ, FA_F32_NK */

#define FA_F32_NR 16 /* tile columns are padded to a multiple of this */
#define FA_F32_MR_MAX 8
#define FA_F32_FLUSH 32 /* key tiles accumulated in float32 before adding them in double */
#define FA_LOG2E 1.4426950408889634f

/* Lines for a tile to prefetch between its steps: `count` of them from line `line` of `row`,
 * `per` lines a row, rows `rs` bytes apart, for writing when `write`. */
typedef struct fa_f32_lines {
  const char *row;
  ptrdiff_t rs;
  size_t line, per, count;
  int write;
} fa_f32_lines;

typedef struct fa_f32_ukernels {
  size_t mr; /* rows per gemm call; divides nothing, rows are padded to it */
  /* c[mr][16] (accumulate ? += : =) a[mr][k] * b[k][16]; strides in elements */
  void (*gemm)(size_t k, const float *a, size_t lda, const float *b, size_t ldb, float *c,
               size_t ldc, int accumulate);
  /* max of x[0..n), n a multiple of 16; NaN if any x is NaN */
  float (*max)(const float *x, size_t n);
  /* x[i] = exp2(x[i] - shift) for i < n (n a multiple of 16); returns the sum.
   * exp2 of -inf is 0 and NaN stays NaN. */
  float (*exp2_sum)(float *x, size_t n, float shift);
  /* x[i] *= s for i < n (n a multiple of 16) */
  void (*scale)(float *x, size_t n, float s);
  /* kt[x * FA_F32_NK + c] = k[c * k_rs + x] for c < n, x < d: a key tile, transposed */
  void (*pack_kt)(const float *k, ptrdiff_t k_rs, size_t n, size_t d, float *kt);
  /* Optional, NULL where an ISA has none (so it is last: other initializers leave it NULL):
   * c[mr][32] (accumulate ? += : =) a[mr][k] * (b0 | b1), b0 and b1 two k x 16 blocks with
   * row stride ldb giving columns 0-15 and 16-31. Where the broadcasts of a bound a 16-column
   * tile (AVX-512: one per FMA), two panels per call halve them; the low-rank GEMMs use it. */
  void (*gemm2)(size_t k, const float *a, size_t lda, const float *b0, const float *b1,
                size_t ldb, float *c, size_t ldc, int accumulate);
  /* Optional as gemm2 (both NULL / 0 elsewhere): c[mr4][64] (+)= a[mr4][k] * (the four
   * k x 16 blocks b + t bstep, row stride ldb), mr4 <= FA_F32_MR_MAX rows: a wider tile with
   * fewer rows (AVX-512: 6 x 64, 10 loads per 24 FMAs against 10 per 16 for 8 x 32). It
   * also prefetches min(k, pf->count) lines of pf (NULL: none), one between each two of its
   * steps, as __builtin_prefetch(line, pf->write, 2) does. */
  size_t mr4;
  void (*gemm4)(size_t k, const float *a, size_t lda, const float *b, size_t bstep, size_t ldb,
                float *c, size_t ldc, int accumulate, const struct fa_f32_lines *pf);
} fa_f32_ukernels;

/* One (batch, head) problem with its pointers resolved. */
typedef struct fa_f32_problem {
  const float *q; ptrdiff_t q_rs; /* row strides in elements */
  const float *k; ptrdiff_t k_rs;
  const float *v; ptrdiff_t v_rs;
  float *out; ptrdiff_t out_rs;
  const float *mask; ptrdiff_t mask_rs; /* additive, natural-log units, or NULL */
  size_t lk, d, dv;
  float scale;
  ptrdiff_t band_lo, band_hi; /* key j visible to query i iff band_lo <= j - i <= band_hi */
  /* Global tokens (Longformer), or NULL: key j is also visible to query i when
   * q_global[i] or k_global[j] is nonzero and j - i <= global_hi. */
  const unsigned char *q_global, *k_global;
  ptrdiff_t global_hi;
} fa_f32_problem;

typedef struct fa_range {
  size_t begin, end;
} fa_range;

static inline size_t fa_round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static inline size_t fa_f32_rows_pad(void) { return FA_F32_MQ + FA_F32_MR_MAX; }
static inline size_t fa_f32_dv_pad(size_t dv) { return fa_round_up(dv, FA_F32_NR); }

/* Bytes of workspace one flash call needs; every buffer starts on 64 bytes. */
static inline size_t fa_f32_workspace_size(size_t d, size_t dv) {
  const size_t rows = fa_f32_rows_pad(), dvp = fa_f32_dv_pad(dv);
  size_t floats = fa_round_up(rows * d, 16)       /* packed, pre-scaled q */
                  + fa_round_up(d * FA_F32_NK, 16) /* k tile, transposed */
                  + rows * FA_F32_NK               /* scores / probabilities */
                  + rows * dvp                     /* output accumulator */
                  + FA_F32_NK * dvp                /* v tile, padded (when dv % 16) */
                  + 2 * fa_round_up(rows, 16);     /* running max and sum */
  const size_t doubles = rows * dvp                 /* output of the finished chunks */
                         + 2 * fa_round_up(rows, 8); /* their sum, pending rescale */
  return floats * sizeof(float) + doubles * sizeof(double) + 64;
}

/* The portable key-tile transpose; SIMD versions use it for their edges. */
static inline void fa_f32_pack_kt_rows(const float *k, ptrdiff_t k_rs, size_t c0, size_t n,
                                       size_t x0, size_t d, float *kt) {
  for (size_t c = c0; c < n; c++) {
    const float *krow = k + (ptrdiff_t)c * k_rs;
    for (size_t x = x0; x < d; x++) kt[x * FA_F32_NK + c] = krow[x];
  }
}

/* What a SIMD transpose of the top-left n_full x d_full keys leaves to the portable loop:
 * the right edge of those rows, then every row below them. */
static inline void fa_f32_pack_kt_edges(const float *k, ptrdiff_t k_rs, size_t n_full,
                                        size_t d_full, size_t n, size_t d, float *kt) {
  fa_f32_pack_kt_rows(k, k_rs, 0, n_full, d_full, d, kt);
  fa_f32_pack_kt_rows(k, k_rs, n_full, n, 0, d, kt);
}

/* Scores of row `row` for keys j0 .. j0 + n - 1 set to -inf outside the band, unless a
 * global token (q_global[row] or k_global[j], or NULL) makes the key visible up to
 * j - row <= global_hi. Shared by the float32 and int8 engines. */
static inline void fa_band_cut_row(float *s, size_t n, size_t row, size_t j0, ptrdiff_t band_lo,
                                   ptrdiff_t band_hi, const unsigned char *q_global,
                                   const unsigned char *k_global, ptrdiff_t global_hi) {
  const int row_global = q_global && q_global[row];
  for (size_t c = 0; c < n; c++) {
    const ptrdiff_t rel = (ptrdiff_t)(j0 + c) - (ptrdiff_t)row;
    if (rel >= band_lo && rel <= band_hi) continue;
    const int global = row_global || (k_global && k_global[j0 + c]);
    if (!global || rel > global_hi) s[c] = -INFINITY;
  }
}

static inline void fa_f32_attend_tile(const fa_f32_ukernels *uk, const fa_f32_problem *p,
                                      size_t q0, size_t m, size_t mpad, size_t j0, size_t n,
                                      const float *qp, float *kt, float *s, float *o, float *vp,
                                      float *rmax, float *rsum, double *pend) {
  const size_t d = p->d, dvp = fa_f32_dv_pad(p->dv), npad = fa_round_up(n, FA_F32_NR);
  const size_t mr = uk->mr;

  uk->pack_kt(p->k + (ptrdiff_t)j0 * p->k_rs, p->k_rs, n, d, kt);
  for (size_t x = 0; x < d; x++)
    for (size_t c = n; c < npad; c++) kt[x * FA_F32_NK + c] = 0.0f;

  for (size_t i = 0; i < mpad; i += mr)
    for (size_t c = 0; c < npad; c += FA_F32_NR)
      uk->gemm(d, qp + i * d, d, kt + c, FA_F32_NK, s + i * FA_F32_NK + c, FA_F32_NK, 0);

  /* Token-level visibility: additive mask, band edges, padding columns. */
  const ptrdiff_t first_row = (ptrdiff_t)q0, last_row = (ptrdiff_t)(q0 + m - 1);
  const ptrdiff_t jlo = (ptrdiff_t)j0, jhi = (ptrdiff_t)(j0 + n - 1);
  const int band_cut = jlo - last_row < p->band_lo || jhi - first_row > p->band_hi;
  for (size_t i = 0; i < m; i++) {
    float *srow = s + i * FA_F32_NK;
    if (p->mask) {
      const float *mrow = p->mask + (ptrdiff_t)(q0 + i) * p->mask_rs + j0;
      for (size_t c = 0; c < n; c++) srow[c] += mrow[c] * FA_LOG2E;
    }
    if (band_cut)
      fa_band_cut_row(srow, n, q0 + i, j0, p->band_lo, p->band_hi, p->q_global, p->k_global,
                      p->global_hi);
    for (size_t c = n; c < npad; c++) srow[c] = -INFINITY;
  }

  /* Online softmax: rescale what was accumulated when a row's max grows. */
  for (size_t i = 0; i < m; i++) {
    float *srow = s + i * FA_F32_NK;
    const float tile_max = uk->max(srow, npad);
    /* NaN must stick: it marks the row as NaN, as in the reference. */
    const float new_max = tile_max > rmax[i] || tile_max != tile_max ? tile_max : rmax[i];
    if (new_max == -INFINITY) { /* nothing visible yet: probabilities are all zero */
      memset(srow, 0, npad * sizeof(float));
      continue;
    }
    const float alpha = rmax[i] == -INFINITY ? 0.0f : exp2f(rmax[i] - new_max);
    const float tile_sum = uk->exp2_sum(srow, npad, new_max);
    if (alpha != 1.0f) {
      uk->scale(o + i * dvp, dvp, alpha);
      pend[i] *= alpha;
    }
    rsum[i] = rsum[i] * alpha + tile_sum;
    rmax[i] = new_max;
  }
  for (size_t i = m; i < mpad; i++) memset(s + i * FA_F32_NK, 0, npad * sizeof(float));

  /* o += p v, reading v in place when its rows need no padding. */
  const float *vt = p->v + (ptrdiff_t)j0 * p->v_rs;
  size_t ldv = (size_t)p->v_rs;
  if (p->dv != dvp) {
    for (size_t c = 0; c < n; c++) {
      memcpy(vp + c * dvp, vt + (ptrdiff_t)c * p->v_rs, p->dv * sizeof(float));
      memset(vp + c * dvp + p->dv, 0, (dvp - p->dv) * sizeof(float));
    }
    vt = vp;
    ldv = dvp;
  }
  for (size_t i = 0; i < mpad; i += mr)
    for (size_t c = 0; c < dvp; c += FA_F32_NR)
      uk->gemm(n, s + i * FA_F32_NK, FA_F32_NK, vt + c, ldv, o + i * dvp + c, dvp, 1);
}

/* Adds the float32 chunk (o, rsum) of rows [0, m) into the double totals (od, dsum), which
 * first take the rescales `pend` the chunk had since the last flush (`first`: there are no
 * totals yet), and clears the chunk. */
static inline void fa_f32_flush(size_t m, size_t dvp, float *o, float *rsum, double *od,
                                double *dsum, double *pend, int first) {
  for (size_t i = 0; i < m; i++) {
    double *drow = od + i * dvp;
    const float *orow = o + i * dvp;
    if (first) {
      for (size_t x = 0; x < dvp; x++) drow[x] = (double)orow[x];
      dsum[i] = (double)rsum[i];
    } else {
      for (size_t x = 0; x < dvp; x++) drow[x] = drow[x] * pend[i] + (double)orow[x];
      dsum[i] = dsum[i] * pend[i] + (double)rsum[i];
    }
    pend[i] = 1.0;
    rsum[i] = 0.0f;
  }
  memset(o, 0, m * dvp * sizeof(float));
}

/* Attends query rows [q0, q1) (at most FA_F32_MQ) to the keys in `ranges`
 * (sorted, disjoint, within [0, lk)) and writes their output rows. */
static inline void fa_f32_flash(const fa_f32_ukernels *uk, const fa_f32_problem *p, size_t q0,
                                size_t q1, const fa_range *ranges, size_t nranges,
                                void *workspace) {
  const size_t m = q1 - q0, mpad = fa_round_up(m, uk->mr), rows = fa_f32_rows_pad();
  const size_t d = p->d, dvp = fa_f32_dv_pad(p->dv);
  float *ws = (float *)(((size_t)workspace + 63) & ~(size_t)63);
  float *qp = ws;
  float *kt = qp + fa_round_up(rows * d, 16);
  float *s = kt + fa_round_up(d * FA_F32_NK, 16);
  float *o = s + rows * FA_F32_NK;
  float *vp = o + rows * dvp;
  float *rmax = vp + FA_F32_NK * dvp;
  float *rsum = rmax + fa_round_up(rows, 16);
  double *od = (double *)(void *)(rsum + fa_round_up(rows, 16)); /* 64-byte aligned */
  double *dsum = od + rows * dvp;
  double *pend = dsum + fa_round_up(rows, 8);

  const float qscale = p->scale * FA_LOG2E;
  for (size_t i = 0; i < m; i++) {
    const float *qrow = p->q + (ptrdiff_t)(q0 + i) * p->q_rs;
    for (size_t x = 0; x < d; x++) qp[i * d + x] = qrow[x] * qscale;
  }
  memset(qp + m * d, 0, (mpad - m) * d * sizeof(float));
  memset(o, 0, mpad * dvp * sizeof(float));
  for (size_t i = 0; i < m; i++) {
    rmax[i] = -INFINITY;
    rsum[i] = 0.0f;
    pend[i] = 1.0;
  }

  /* Keys any row of the block can see: [q0 + band_lo, q1 - 1 + band_hi], and
   * up to q1 - 1 + global_hi from anywhere with global tokens. */
  const int has_global = p->q_global || p->k_global;
  const ptrdiff_t vis_lo = (ptrdiff_t)q0 + p->band_lo;
  const ptrdiff_t hi_edge = has_global && p->global_hi > p->band_hi ? p->global_hi : p->band_hi;
  const ptrdiff_t vis_hi = (ptrdiff_t)(q1 - 1) + hi_edge + 1;
  size_t tiles = 0;
  for (size_t r = 0; r < nranges; r++) {
    ptrdiff_t lo = (ptrdiff_t)ranges[r].begin, hi = (ptrdiff_t)ranges[r].end;
    if (!has_global && lo < vis_lo) lo = vis_lo;
    if (hi > vis_hi) hi = vis_hi;
    for (ptrdiff_t j = lo; j < hi; j += FA_F32_NK) {
      const size_t n = (size_t)(hi - j < FA_F32_NK ? hi - j : FA_F32_NK);
      if (tiles > 0 && tiles % FA_F32_FLUSH == 0)
        fa_f32_flush(m, dvp, o, rsum, od, dsum, pend, tiles == FA_F32_FLUSH);
      fa_f32_attend_tile(uk, p, q0, m, mpad, (size_t)j, n, qp, kt, s, o, vp, rmax, rsum, pend);
      tiles++;
    }
  }

  /* One chunk (Lk <= 4096 visible keys) was never flushed: float32 is exact enough. */
  const int flushed = tiles > FA_F32_FLUSH;
  if (flushed) fa_f32_flush(m, dvp, o, rsum, od, dsum, pend, 0);
  for (size_t i = 0; i < m; i++) {
    float *orow = p->out + (ptrdiff_t)(q0 + i) * p->out_rs;
    if (flushed ? dsum[i] == 0.0 : rsum[i] == 0.0f) { /* fully masked row: zeros */
      memset(orow, 0, p->dv * sizeof(float));
    } else if (flushed) {
      const double inv = 1.0 / dsum[i];
      for (size_t x = 0; x < p->dv; x++) orow[x] = (float)(od[i * dvp + x] * inv);
    } else {
      const float inv = 1.0f / rsum[i];
      for (size_t x = 0; x < p->dv; x++) orow[x] = o[i * dvp + x] * inv;
    }
  }
}

#endif
