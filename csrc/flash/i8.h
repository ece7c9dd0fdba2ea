/* The int8 flash-attention engine shared by every int8 op (dense, sparse, routed).
 *
 * Same shape as the float32 engine (flash/f32.h): one call attends a block of at
 * most FA_I8_MQ query rows of one (batch, head) to a list of key ranges, a tile
 * of FA_I8_NK keys at a time, with an online softmax. The arithmetic is the one
 * reference/int8.py spells out:
 *   s = q.k exactly in int32; t = ((float)s * qscale) * (kscale * scale * log2 e);
 *   per tile and row: the running max m (old sums times alpha = 2^(m_old - m) when it
 *   grows) and the tile's reference point r = m - d / 256, d = rint(min((m - max t) *
 *   256, 4096)) (d = 4096: the tile is skipped), its weight beta = 2^(-d / 256);
 *   z = clamp(rint(min((r - t) * 256, 4095)), 0); P = ((T[z & 255] >> ((z >> 8) + 8)) + 1) >> 1
 *   (0..127, the fraction from a 256-entry table, the integer part by a shift);
 *   acc = sum P * v in int32 per key tile, o = o * alpha + acc * beta in float.
 * Queries are 7-bit (|q| <= 63), P 7-bit (0..127), keys and values 8-bit (|x| <= 127).
 * Overflow bounds (also tested with extreme values): |s| <= d * 63 * 127 < 2^31 for
 * d < 2^16 (checked by the drivers); |acc| <= FA_I8_NK * 127 * 127 = 2,064,512, because
 * acc is flushed to float every tile. int8 inputs must lie in [-127, 127] (the quantiser
 * guarantees it). u8 x s8 pairs of P and v fit int16: 2 * 127 * 127 = 32,258 (vpmaddubsw).
 *
 * ISA files include this header after enabling their target and pass their
 * micro-kernels in a const struct. Files including it are compiled with
 * floating-point contraction off (see fa_i8 pragmas in each ISA file) so that t
 * and z are bit-identical to the reference. */
#ifndef FASTATTN_FLASH_I8_H
#define FASTATTN_FLASH_I8_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastattn/status.h"
#include "fastattn/tiles.h" /* FA_I8_MQ, FA_I8_MB, FA_I8_NK */
#include "flash/f32.h"       /* fa_range, fa_round_up, fa_band_cut_row, FA_LOG2E */
#include "flash/i8-lut.h"    /* P's lookup table (z -> P) and the tile weights, scalar */
#include "flash/keytiles.h"  /* fa_key_tile: the keys of a tile, in pieces */

#define FA_I8_MR 4   /* rows are padded to a multiple of this */
#define FA_I8_NR 16  /* tile columns and value channels are padded to multiples of this */
#define FA_I8_DR 16  /* features are padded to a multiple of this */
#define FA_I8_QMAX_Q 63.0f /* queries are 7-bit: [-63, 63] */

typedef struct fa_i8_ukernels {
  /* kp = keys [0, n) of k packed for qk, zero-filled to npad = round_up(n, FA_I8_NR) keys
   * (at least: qk and pv read no key past npad) and dp features */
  void (*pack_k)(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d, size_t dp, int8_t *kp);
  /* s[i * FA_I8_NK + c] = q row i . key c for i < mpad, c < npad; qp rows have dp bytes */
  void (*qk)(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp, size_t npad,
             int32_t *s);
  /* t[c] = ((float)s[c] * qs) * ks[c] for c < npad; returns the max of t */
  float (*dequant)(const int32_t *s, float qs, const float *ks, float *t, size_t npad);
  /* max of t[0..npad) */
  float (*max)(const float *t, size_t npad);
  /* p[c] = P(fa_i8_z1(r, t[c])) (0..127) for c < npad; returns the sum */
  uint32_t (*exp_lut)(const float *t, size_t npad, float r, uint8_t *p);
  /* vp = values [0, n) packed for pv, zero-filled to npad keys (at least) and dvp channels;
   * vp has room for 2 * FA_I8_NK * dvp bytes */
  void (*pack_v)(const int8_t *v, ptrdiff_t v_rs, size_t n, size_t dv, size_t dvp, int8_t *vp);
  /* acc[i * dvp + c] = sum_{j < npad} P[i][j] * v[j][c] for i < mpad, c < dvp; P rows are
   * FA_I8_NK bytes apart */
  void (*pv)(const uint8_t *p, size_t mpad, size_t npad, const int8_t *vp, size_t dvp,
             int32_t *acc);
  /* qk and dequant in one pass (then those two may be NULL; else this one is), the scores
   * never stored as int32: t[i * FA_I8_NK + c] = ((float)(q row i . key c) * qs[i]) * ks[c]
   * and tmax[i] = the max of row i's t, for i < mpad, c < npad. */
  void (*qk_scores)(const int8_t *qp, size_t mpad, size_t dp, const int8_t *kp, size_t npad,
                    const float *qs, const float *ks, float *t, float *tmax);
  /* pv and the output update in one pass (then pv may be NULL; else this one is), acc never
   * stored: for rows i < m with beta[i] != 0, o[i * dvp + c] = o * alpha[i] + (float)acc *
   * beta[i], which is the engine's update bit for bit since one of alpha, beta is 1. */
  void (*pv_update)(const uint8_t *p, size_t m, size_t mpad, size_t npad, const int8_t *vp,
                    size_t dvp, const float *alpha, const float *beta, float *o);
  /* The engine's row steps of a tile in one call (or NULL: the engine's own loops), for rows
   * i < m with the tile maxima in ref[i]: fa_i8_row_step's alpha, beta, reference point (into
   * ref) and running max, then P rows (zeros where beta is 0, else exp_lut against ref[i]) and
   * rsum[i] = rsum[i] * alpha[i] + (float)(sum of the row's P) * beta[i]; P rows are FA_I8_NK
   * bytes apart, npad bytes each. */
  void (*softmax)(const float *t, size_t m, size_t npad, float *rmax, float *rsum, float *alpha,
                  float *beta, float *ref, uint8_t *p);
} fa_i8_ukernels;

/* One (batch, head) problem with its pointers resolved. q is float32, quantised by
 * the engine per block of q_block rows; scales k_scale[j / k_block], v_scale[c]. */
typedef struct fa_i8_problem {
  const float *q; ptrdiff_t q_rs;
  const int8_t *k; ptrdiff_t k_rs;
  const int8_t *v; ptrdiff_t v_rs;
  const float *k_scale, *v_scale;
  size_t q_block, k_block;
  float *out; ptrdiff_t out_rs;
  const float *mask; ptrdiff_t mask_rs; /* additive, natural-log units, or NULL */
  size_t lq, lk, d, dv;
  float scale, q_limit; /* q_limit: 0 or the bound of fa_dense_i8_params */
  ptrdiff_t band_lo, band_hi; /* key j visible to query i iff band_lo <= j - i <= band_hi */
  /* Global tokens (Longformer), or NULL, as in flash/f32.h: key j is also visible to
   * query i when q_global[i] or k_global[j] is nonzero and j - i <= global_hi. */
  const unsigned char *q_global, *k_global;
  ptrdiff_t global_hi;
} fa_i8_problem;

/* max |x| over rows [r0, r1) of d floats, as an integer max of the bit patterns of |x|
 * (they order like the values), which compilers vectorise, unlike a float max. */
static inline float fa_i8_absmax_rows(const float *x, ptrdiff_t rs, size_t r0, size_t r1,
                                      size_t d) {
  uint32_t m = 0;
  for (size_t r = r0; r < r1; r++) {
    const float *row = x + (ptrdiff_t)r * rs;
    for (size_t c = 0; c < d; c++) {
      uint32_t bits;
      memcpy(&bits, row + c, 4);
      bits &= 0x7FFFFFFFu;
      m = bits > m ? bits : m;
    }
  }
  float a;
  memcpy(&a, &m, 4);
  return a;
}

/* Symmetric 7-bit quantisation of query rows [q0, q1) into qp (rows of dp bytes) and
 * their scales into qs: per block of q_block rows, scale = max|x| / 63 (1 for an
 * all-zero block), x_q = clamp(rint(x / scale), -63, 63), round half to even:
 * the float32 operations of reference/int8.py (quantize_queries), so the integers are
 * identical. 7 bits let (k + 128) x q pairs fit vpmaddubsw's int16 (AVX2 q.k).
 * FA_ERR_RANGE, before any row, if a block's max |x| is not below a nonzero p->q_limit. */
static inline fa_status fa_i8_quantize_q(const fa_i8_problem *p, size_t q0, size_t q1,
                                         size_t dp, int8_t *qp, float *qs) {
  const volatile float magic_v = 12582912.0f; /* 1.5 * 2^23: y + magic - magic = rint(y) */
  const float magic = magic_v;
  const size_t d = p->d; /* a local: the int8 stores below may alias *p, and p->d in the loop
                          * bound would keep the row loop from vectorising */
  for (size_t b = q0 / p->q_block; b * p->q_block < q1; b++) {
    const size_t r0 = b * p->q_block;
    const size_t r1 = r0 + p->q_block < p->lq ? r0 + p->q_block : p->lq;
    const float amax = fa_i8_absmax_rows(p->q, p->q_rs, r0, r1, d);
    if (p->q_limit != 0.0f && !(amax < p->q_limit)) return FA_ERR_RANGE;
    const float scale = amax == 0.0f ? 1.0f : amax / FA_I8_QMAX_Q;
    const size_t lo = r0 > q0 ? r0 : q0, hi = r1 < q1 ? r1 : q1;
    for (size_t r = lo; r < hi; r++) {
      const float *row = p->q + (ptrdiff_t)r * p->q_rs;
      int8_t *dst = qp + (r - q0) * dp;
      if (scale > 0.0f) { /* |x / scale| <= 2^24: clamped as an int32 (vector min / max) */
        for (size_t x = 0; x < d; x++) {
          int32_t y = (int32_t)((row[x] / scale + magic) - magic);
          y = y < 63 ? y : 63;
          y = y > -63 ? y : -63;
          dst[x] = (int8_t)y;
        }
      } else { /* amax / 63 underflowed to 0: x / 0 is +-inf (or NaN), clamped as a float */
        for (size_t x = 0; x < d; x++) {
          float y = (row[x] / scale + magic) - magic;
          y = y > FA_I8_QMAX_Q ? FA_I8_QMAX_Q : y < -FA_I8_QMAX_Q ? -FA_I8_QMAX_Q : y;
          dst[x] = (int8_t)y;
        }
      }
      if (dp > d) memset(dst + d, 0, dp - d); /* no call per row when d fills dp */
      qs[r - q0] = scale;
    }
  }
  return FA_OK;
}

/* Rows of a sub-block's score buffers and of the job's per-row state, padded. */
static inline size_t fa_i8_block_rows(void) { return FA_I8_MB + FA_I8_MR; }
static inline size_t fa_i8_job_rows(void) { return FA_I8_MQ + FA_I8_MR; }

/* Bytes of workspace one flash call needs; every buffer starts on 64 bytes. */
static inline size_t fa_i8_workspace_size(size_t d, size_t dv) {
  const size_t rows = fa_i8_block_rows(), jrows = fa_i8_job_rows();
  const size_t dp = fa_round_up(d, FA_I8_DR), dvp = fa_round_up(dv, FA_I8_NR);
  return fa_round_up(jrows * dp, 64)                 /* packed q of the job */
         + fa_round_up(FA_I8_NK * dp, 64)            /* packed k tile */
         + rows * FA_I8_NK * 4                       /* int32 scores */
         + rows * FA_I8_NK * 4                       /* float scores t */
         + rows * FA_I8_NK                           /* P (uint8) */
         + fa_round_up(2 * FA_I8_NK * dvp, 64)       /* packed v tile */
         + fa_round_up(FA_I8_NK * d + 64, 64)        /* a tile's k rows, gathered */
         + fa_round_up(FA_I8_NK * dv + 64, 64)       /* its v rows */
         + rows * dvp * 4                            /* int32 P.V */
         + jrows * dvp * 4                           /* float output accumulators of the job */
         + FA_I8_NK * 4                              /* per-key scale */
         + 6 * fa_round_up(jrows, 16) * 4            /* q scale, max, sum, alpha, beta, ref */
         + 64;
}

/* Generic packings shared by ISAs. Row layout: kp[c][dp]. */
static inline void fa_i8_pack_rows(const int8_t *x, ptrdiff_t rs, size_t n, size_t d, size_t dp,
                                   int8_t *xp) {
  for (size_t c = 0; c < n; c++) {
    memcpy(xp + c * dp, x + (ptrdiff_t)c * rs, d);
    memset(xp + c * dp + d, 0, dp - d);
  }
  memset(xp + n * dp, 0, (FA_I8_NK - n) * dp);
}

/* Grouped layout for 4-byte dot products: xp[(g * FA_I8_NK + c) * 4 + u] = x[c][4g + u]. */
static inline void fa_i8_pack_k_groups(const int8_t *k, ptrdiff_t k_rs, size_t n, size_t d,
                                       size_t dp, int8_t *kp) {
  memset(kp, 0, FA_I8_NK * dp);
  for (size_t c = 0; c < n; c++) {
    const int8_t *row = k + (ptrdiff_t)c * k_rs;
    for (size_t x = 0; x < d; x++) kp[((x >> 2) * FA_I8_NK + c) * 4 + (x & 3)] = row[x];
  }
}

typedef struct fa_i8_buffers {
  int8_t *qp, *kp, *vp, *kg, *vg;
  int32_t *s, *acc;
  float *t, *o, *ks, *qs, *rmax, *rsum, *alpha, *beta, *ref;
  uint8_t *p;
} fa_i8_buffers;

/* The mask (natural-log units) and the band of query row i on its scores trow of tile kt,
 * piece by piece. */
static inline void fa_i8_mask_row(const fa_i8_problem *p, const fa_key_tile *kt, size_t i,
                                  int band_cut, float *trow) {
  for (size_t e = 0; e < kt->npieces; e++) {
    const size_t j0 = kt->piece[e].begin, len = kt->piece[e].end - j0;
    if (p->mask) {
      const float *mrow = p->mask + (ptrdiff_t)i * p->mask_rs + j0;
      for (size_t c = 0; c < len; c++) {
        const float add = mrow[c] * FA_LOG2E;
        trow[c] = trow[c] + add;
      }
    }
    if (band_cut)
      fa_band_cut_row(trow, len, i, j0, p->band_lo, p->band_hi, p->q_global, p->k_global,
                      p->global_hi);
    trow += len;
  }
}

/* One sub-block of m rows (query rows q0.., state rows of b) against the packed key tile
 * kt in b->kp / b->vp, with the per-key scales in b->ks. */
static inline void fa_i8_attend_tile(const fa_i8_ukernels *uk, const fa_i8_problem *p,
                                     const fa_i8_buffers *b, size_t q0, size_t m, size_t mpad,
                                     const fa_key_tile *kt) {
  const size_t dp = fa_round_up(p->d, FA_I8_DR), dvp = fa_round_up(p->dv, FA_I8_NR);
  const size_t n = kt->n, npad = fa_round_up(n, FA_I8_NR);

  if (uk->qk_scores) /* the tile maxima go to b->ref, which pass 1 reads */
    uk->qk_scores(b->qp, mpad, dp, b->kp, npad, b->qs, b->ks, b->t, b->ref);
  else
    uk->qk(b->qp, mpad, dp, b->kp, npad, b->s);
  const ptrdiff_t first_row = (ptrdiff_t)q0, last_row = (ptrdiff_t)(q0 + m - 1);
  const ptrdiff_t jlo = (ptrdiff_t)fa_key_tile_first(kt), jhi = (ptrdiff_t)fa_key_tile_last(kt);
  const int band_cut = jlo - last_row < p->band_lo || jhi - first_row > p->band_hi;
  /* Three passes over the rows, so that each row's short scalar chain (max, reference point,
   * weight) overlaps the other rows' instead of stalling the vector work: scores and tile
   * maxima, then the rows' scalars, then P. */
  for (size_t i = 0; i < m; i++) {
    float *trow = b->t + i * FA_I8_NK;
    float tile_max = uk->qk_scores ? b->ref[i]
                                   : uk->dequant(b->s + i * FA_I8_NK, b->qs[i], b->ks, trow, npad);
    if (p->mask || band_cut || n != npad) { /* else every score is visible */
      if (p->mask || band_cut) fa_i8_mask_row(p, kt, q0 + i, band_cut, trow);
      for (size_t c = n; c < npad; c++) trow[c] = -INFINITY;
      tile_max = uk->max(trow, npad);
    }
    b->ref[i] = tile_max;
  }
  if (uk->softmax) {
    uk->softmax(b->t, m, npad, b->rmax, b->rsum, b->alpha, b->beta, b->ref, b->p);
  } else {
    const volatile float magic_v = 12582912.0f; /* opaque: never folded */
    const float magic = magic_v;
    for (size_t i = 0; i < m; i++)
      b->rmax[i] = fa_i8_row_step(b->rmax[i], b->ref[i], magic, &b->alpha[i], &b->beta[i],
                                  &b->ref[i]);
    for (size_t i = 0; i < m; i++) {
      uint8_t *prow = b->p + i * FA_I8_NK;
      if (b->beta[i] == 0.0f) { /* skipped: P = 0, the sums stay */
        memset(prow, 0, npad);
        continue;
      }
      const uint32_t tile_sum = uk->exp_lut(b->t + i * FA_I8_NK, npad, b->ref[i], prow);
      const float kept = b->rsum[i] * b->alpha[i], added = (float)tile_sum * b->beta[i];
      b->rsum[i] = kept + added;
    }
  }
  for (size_t i = m; i < mpad; i++) memset(b->p + i * FA_I8_NK, 0, npad);

  if (uk->pv_update) {
    uk->pv_update(b->p, m, mpad, npad, b->vp, dvp, b->alpha, b->beta, b->o);
    return;
  }
  uk->pv(b->p, mpad, npad, b->vp, dvp, b->acc);
  for (size_t i = 0; i < m; i++) { /* o = o * alpha + acc * beta; one of them is 1 */
    float *orow = b->o + i * dvp;
    const int32_t *arow = b->acc + i * dvp;
    const float alpha = b->alpha[i], beta = b->beta[i];
    if (beta == 0.0f) continue;
    if (alpha == 1.0f && beta == 1.0f) {
      for (size_t c = 0; c < dvp; c++) orow[c] = orow[c] + (float)arow[c];
    } else if (alpha == 1.0f) {
      for (size_t c = 0; c < dvp; c++) {
        const float added = (float)arow[c] * beta;
        orow[c] = orow[c] + added;
      }
    } else {
      for (size_t c = 0; c < dvp; c++) {
        const float scaled = orow[c] * alpha;
        orow[c] = scaled + (float)arow[c];
      }
    }
  }
}

/* Packs the key tile kt (keys, their scales times scale * log2 e, values); a tile of
 * several pieces is first gathered into rows one after the other. */
static inline void fa_i8_pack_tile(const fa_i8_ukernels *uk, const fa_i8_problem *p,
                                   const fa_i8_buffers *b, const fa_key_tile *kt) {
  const size_t dp = fa_round_up(p->d, FA_I8_DR), dvp = fa_round_up(p->dv, FA_I8_NR);
  const size_t n = kt->n, npad = fa_round_up(n, FA_I8_NR), j0 = fa_key_tile_first(kt);
  const float c2 = p->scale * FA_LOG2E;
  const int8_t *k = p->k + (ptrdiff_t)j0 * p->k_rs, *v = p->v + (ptrdiff_t)j0 * p->v_rs;
  ptrdiff_t k_rs = p->k_rs, v_rs = p->v_rs;
  if (kt->npieces > 1) {
    fa_key_tile_gather(p->k, p->k_rs, p->d, kt, b->kg);
    fa_key_tile_gather(p->v, p->v_rs, p->dv, kt, b->vg);
    k = b->kg, k_rs = (ptrdiff_t)p->d, v = b->vg, v_rs = (ptrdiff_t)p->dv;
  }
  uk->pack_k(k, k_rs, n, p->d, dp, b->kp);
  float *ks = b->ks;
  for (size_t e = 0; e < kt->npieces; e++) {
    const size_t begin = kt->piece[e].begin, end = kt->piece[e].end;
    for (size_t j = begin, blk = j / p->k_block, next = (blk + 1) * p->k_block; j < end; j++) {
      if (j == next) blk++, next += p->k_block; /* no division per key */
      *ks++ = p->k_scale[blk] * c2;
    }
  }
  for (size_t c = n; c < npad; c++) b->ks[c] = 0.0f;
  uk->pack_v(v, v_rs, n, p->dv, dvp, b->vp);
}

/* Attends query rows [q0, q1) (at most FA_I8_MQ) to the keys in `ranges` (sorted,
 * disjoint, within [0, lk)) and writes their output rows. Each key tile (flash/keytiles.h:
 * the ranges' keys cut every FA_I8_NK from the first) is packed once and attended by
 * every sub-block of FA_I8_MB rows that can see it. The tiles are the same whatever the
 * band, so every row sees the same tiles (and the same P) as the reference, whichever
 * block it falls in. Skipping a tile a sub-block cannot see, or dropping keys no row of the
 * call sees, changes nothing: an invisible key gets P = 0 and leaves every sum as it is. */
static inline fa_status fa_i8_flash(const fa_i8_ukernels *uk, const fa_i8_problem *p,
                                    size_t q0, size_t q1, const fa_range *ranges,
                                    size_t nranges, void *workspace) {
  const size_t m = q1 - q0, rows = fa_i8_block_rows(), jrows = fa_i8_job_rows();
  const size_t d = p->d, dp = fa_round_up(d, FA_I8_DR), dvp = fa_round_up(p->dv, FA_I8_NR);
  char *w = (char *)(((size_t)workspace + 63) & ~(size_t)63);
  fa_i8_buffers b;
  b.qp = (int8_t *)w, w += fa_round_up(jrows * dp, 64);
  b.kp = (int8_t *)w, w += fa_round_up(FA_I8_NK * dp, 64);
  b.s = (int32_t *)w, w += rows * FA_I8_NK * 4;
  b.t = (float *)w, w += rows * FA_I8_NK * 4;
  b.p = (uint8_t *)w, w += rows * FA_I8_NK;
  b.vp = (int8_t *)w, w += fa_round_up(2 * FA_I8_NK * dvp, 64);
  b.kg = (int8_t *)w, w += fa_round_up(FA_I8_NK * d + 64, 64);
  b.vg = (int8_t *)w, w += fa_round_up(FA_I8_NK * p->dv + 64, 64);
  b.acc = (int32_t *)w, w += rows * dvp * 4;
  b.o = (float *)w, w += jrows * dvp * 4;
  b.ks = (float *)w, w += FA_I8_NK * 4;
  b.qs = (float *)w, w += fa_round_up(jrows, 16) * 4;
  b.rmax = (float *)w, w += fa_round_up(jrows, 16) * 4;
  b.rsum = (float *)w, w += fa_round_up(jrows, 16) * 4;
  b.alpha = (float *)w, w += fa_round_up(jrows, 16) * 4;
  b.beta = (float *)w, w += fa_round_up(jrows, 16) * 4;
  b.ref = (float *)w;

  const fa_status q_status = fa_i8_quantize_q(p, q0, q1, dp, b.qp, b.qs);
  if (q_status != FA_OK) return q_status;
  memset(b.qp + m * dp, 0, (fa_round_up(m, FA_I8_MR) - m) * dp);
  for (size_t i = m; i < fa_round_up(m, FA_I8_MR); i++) b.qs[i] = 0.0f; /* padding rows: t = 0 */
  memset(b.o, 0, fa_round_up(m, FA_I8_MR) * dvp * sizeof(float));
  for (size_t i = 0; i < m; i++) {
    b.rmax[i] = -INFINITY;
    b.rsum[i] = 0.0f;
  }

  /* Keys rows [r0, r1) can see: [r0 + band_lo, r1 - 1 + band_hi], and up to
   * r1 - 1 + global_hi from anywhere with global tokens. */
  const int has_global = p->q_global || p->k_global;
  const ptrdiff_t hi_edge = has_global && p->global_hi > p->band_hi ? p->global_hi : p->band_hi;
  const ptrdiff_t vis_lo = (ptrdiff_t)q0 + p->band_lo;
  const ptrdiff_t vis_hi = (ptrdiff_t)(q1 - 1) + hi_edge + 1;
  fa_key_cursor cursor = fa_key_cursor_start(ranges, nranges);
  fa_key_tile kt;
  while (fa_key_next_tile(&cursor, vis_hi > 0 ? (size_t)vis_hi : 0, &kt)) {
    const ptrdiff_t first = (ptrdiff_t)fa_key_tile_first(&kt);
    const ptrdiff_t last = (ptrdiff_t)fa_key_tile_last(&kt);
    if (!has_global && last < vis_lo) continue; /* every key before the rows' band */
    fa_i8_pack_tile(uk, p, &b, &kt);
    for (size_t i0 = 0; i0 < m; i0 += FA_I8_MB) {
      const size_t mb = m - i0 < FA_I8_MB ? m - i0 : FA_I8_MB;
      const ptrdiff_t r0 = (ptrdiff_t)(q0 + i0), r1 = r0 + (ptrdiff_t)mb;
      if (first > r1 - 1 + hi_edge) continue; /* every key after the rows' band */
      if (!has_global && last < r0 + p->band_lo) continue; /* every key before */
      fa_i8_buffers sub = b;
      sub.qp = b.qp + i0 * dp, sub.o = b.o + i0 * dvp, sub.qs = b.qs + i0;
      sub.rmax = b.rmax + i0, sub.rsum = b.rsum + i0, sub.alpha = b.alpha + i0;
      sub.beta = b.beta + i0, sub.ref = b.ref + i0;
      fa_i8_attend_tile(uk, p, &sub, (size_t)r0, mb, fa_round_up(mb, FA_I8_MR), &kt);
    }
  }

  const size_t dv = p->dv;
  for (size_t i = 0; i < m; i++) {
    float *orow = p->out + (ptrdiff_t)(q0 + i) * p->out_rs;
    const float *acc = b.o + i * dvp;
    if (b.rsum[i] == 0.0f) { /* fully masked row: zeros */
      memset(orow, 0, dv * sizeof(float));
      continue;
    }
    const float inv = 1.0f / b.rsum[i];
    for (size_t x = 0; x < dv; x++) orow[x] = acc[x] * (p->v_scale[x] * inv);
  }
  return FA_OK;
}

#endif
