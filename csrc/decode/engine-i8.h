/* The int8 decode engine (reference/decode_int8.py, step by step): per tile of keys and
 * query row, the float32 scores, their online max, the probabilities by the kernels' own
 * exp2, their sum in integers, then per block of FA_DECODE_BLOCK keys 7-bit weights
 * W = rint(p * v_scale * 127 / max) and P.V in int32, flushed to the float32 output with
 * the block's scale. Bit for bit the same on every ISA: the ISA files supply the scores
 * and the integer P.V (their own SIMD), everything in between is plain C here, compiled
 * inside each file's target with contraction off (FA_EXACT_FP).
 *
 * Keys are stored in groups of 16 tokens, 4 features of a token together: feature x of
 * key j at kv->k + (j / 16) * kv->k_rs + 64 (x / 4) + 4 (j % 16) + x % 4 (features past d
 * zero), so 64 bytes hold 16 keys x 4 features and one 32-bit lane one key: the 4 query
 * bytes broadcast against them give 16 partial scores with no horizontal sums. Values are
 * stored in groups of 4 tokens, channel-major inside a group: channel x of token j at
 * kv->v + (j / 4) * kv->v_rs + 4 x + j % 4, so one 32-bit lane holds 4 keys of one
 * channel. Both are what vpdpbusd, vpmaddubsw + vpmaddwd and SDOT consume. */
#ifndef FASTATTN_DECODE_ENGINE_I8_H
#define FASTATTN_DECODE_ENGINE_I8_H

#include "decode/engine.h"

#define FA_DECODE_WMAX 127   /* integer weights 0..127 */
#define FA_DECODE_SUM_BITS 18 /* a tile's sum: p * 2^18 as integers (64 * 2^18 = 2^24) */
#define FA_DECODE_BLOCKS (FA_DECODE_TILE / FA_DECODE_BLOCK)

typedef struct fa_decode_i8_ukernels {
  /* s[c] = score of the prepared query row with key j0 + c (j0 a multiple of 16) for
   * c < n (base-2 units), ks[c] the key scales (0 past n); s has room for
   * fa_round_up(n, 16) floats, which may be written */
  void (*scores)(const void *qrow, const fa_decode_kv *kv, size_t j0, size_t n,
                 const float *ks, float *s);
  /* o[x] = o[x] * alpha (when alpha != 1), then for each block b of the tile with g[b] > 0,
   * o[x] = o[x] + float(sum_{c in block b, c < n} w[c] * value(j0 + c)[x]) * g[b], for
   * x < dv; w has FA_DECODE_TILE entries, o room for fa_round_up(dv, 16) floats */
  void (*pv)(const uint8_t *w, const float *g, float alpha, const fa_decode_kv *kv, size_t j0,
             size_t n, float *o);
  const fa_f32_ukernels *softmax; /* its max (of x[0..n), n a multiple of 16) */
} fa_decode_i8_ukernels;

/* The group of 16 keys holding key j0 (a multiple of 16). */
static inline const int8_t *fa_decode_i8_key_group(const fa_decode_kv *kv, size_t j0) {
  return (const int8_t *)kv->k + (ptrdiff_t)(j0 / 16) * kv->k_rs;
}

/* Feature x of key c of the tile from j0 (a multiple of 16). */
static inline int8_t fa_decode_i8_key(const fa_decode_kv *kv, size_t j0, size_t c, size_t x) {
  const size_t j = j0 + c;
  return fa_decode_i8_key_group(kv, j - j % 16)[64 * (x / 4) + 4 * (j % 16) + x % 4];
}

/* Value channel x of key c of the tile from j0 (a multiple of 4). */
static inline int8_t fa_decode_i8_value(const fa_decode_kv *kv, size_t j0, size_t c, size_t x) {
  const size_t j = j0 + c;
  return ((const int8_t *)kv->v)[(ptrdiff_t)(j / 4) * kv->v_rs + (ptrdiff_t)(4 * x + j % 4)];
}

/* The pv step for channels [x, dv) in plain C: the scalar kernel from x = 0, the SIMD
 * ones for the channels past their vectors. */
static inline void fa_decode_i8_pv_cols(const uint8_t *w, const float *g, float alpha,
                                        const fa_decode_kv *kv, size_t j0, size_t n, size_t x,
                                        float *o) {
  for (size_t y = x; y < kv->dv; y++) {
    float acc = alpha != 1.0f ? o[y] * alpha : o[y];
    for (size_t c0 = 0; c0 < n; c0 += FA_DECODE_BLOCK) {
      if (g[c0 / FA_DECODE_BLOCK] == 0.0f) continue;
      const size_t c1 = c0 + FA_DECODE_BLOCK < n ? c0 + FA_DECODE_BLOCK : n;
      int32_t dot = 0; /* <= 16 * 127 * 127 */
      for (size_t c = c0; c < c1; c++) dot += (int32_t)w[c] * fa_decode_i8_value(kv, j0, c, y);
      acc = acc + (float)dot * g[c0 / FA_DECODE_BLOCK];
    }
    o[y] = acc;
  }
}

/* The weights step works on one block of 16 keys at a time, in vectors of
 * FA_DECODE_VLANES float lanes (GCC/clang vector extensions; an ISA file sets the width
 * its registers have before including this, since GCC does a wider compare lane by lane):
 * bit for bit the same arithmetic as the scalar fa_decode_exp2 on every width. */
#ifndef FA_DECODE_VLANES
#define FA_DECODE_VLANES 4
#endif
#define FA_DECODE_VECS (FA_DECODE_BLOCK / FA_DECODE_VLANES)
#if defined(__GNUC__) && !defined(__clang__)
/* for the rest of the file that includes this: the helpers below are inlined, so no
 * vector ever crosses a call (GCC reports it at the end of the file, past any pop) */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float fa_vf __attribute__((vector_size(4 * FA_DECODE_VLANES)));
typedef int32_t fa_vi __attribute__((vector_size(4 * FA_DECODE_VLANES)));
typedef uint8_t fa_vb __attribute__((vector_size(FA_DECODE_VLANES)));

static inline fa_vf fa_v_load(const float *x) {
  fa_vf v;
  memcpy(&v, x, sizeof(v));
  return v;
}

static inline fa_vf fa_v_select(fa_vi mask, fa_vf a, fa_vf b) {
  return (fa_vf)(((fa_vi)a & mask) | ((fa_vi)b & ~mask));
}

/* Lane by lane a > b ? a : b, a < b ? a : b (for a NaN: b) and the integer maximum, and
 * rint (half to even) of |y| < 2^22 as float and as int32: plain vector code, or the single
 * instructions an ISA file names before including this file where they compute exactly
 * the same (FA_DECODE_VMAXF, _VMINF, _VMAXI, _VRINTF, _VRINTI: on x86 maxps/minps, whose
 * NaN rule is b's, pmaxsd, and rounds or conversions with the rounding fixed to nearest
 * even). */
static inline fa_vf fa_v_maxf(fa_vf a, fa_vf b) {
#ifdef FA_DECODE_VMAXF
  return FA_DECODE_VMAXF(a, b);
#else
  return fa_v_select(a > b, a, b);
#endif
}

static inline fa_vf fa_v_minf(fa_vf a, fa_vf b) {
#ifdef FA_DECODE_VMINF
  return FA_DECODE_VMINF(a, b);
#else
  return fa_v_select(a < b, a, b);
#endif
}

static inline fa_vi fa_v_max(fa_vi a, fa_vi b) {
#ifdef FA_DECODE_VMAXI
  return FA_DECODE_VMAXI(a, b);
#else
  const fa_vi more = a > b;
  return (a & more) | (b & ~more);
#endif
}

static inline fa_vf fa_v_rintf(fa_vf y) {
#ifdef FA_DECODE_VRINTF
  return FA_DECODE_VRINTF(y);
#else
  const fa_vf magic = (fa_vf){0} + 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y) */
  return (y + magic) - magic;
#endif
}

static inline fa_vi fa_v_rint(fa_vf y) {
#ifdef FA_DECODE_VRINTI
  return FA_DECODE_VRINTI(y);
#else
  return __builtin_convertvector(fa_v_rintf(y), fa_vi);
#endif
}

/* w[0 .. FA_DECODE_BLOCK) = the block's integer weights wi (each in [0, 127]) as bytes; an
 * ISA file whose compiler narrows lane by lane names its packing as FA_DECODE_VSTOREW. */
static inline void fa_v_store_weights(const fa_vi *wi, uint8_t *w) {
#ifdef FA_DECODE_VSTOREW
  FA_DECODE_VSTOREW(wi, w);
#else
  for (int u = 0; u < FA_DECODE_VECS; u++) {
    const fa_vb wb = __builtin_convertvector(wi[u], fa_vb);
    memcpy(w + (size_t)u * FA_DECODE_VLANES, &wb, sizeof(wb));
  }
#endif
}

/* fa_decode_exp2 on every lane. */
static inline fa_vf fa_v_exp2(fa_vf x) {
  const fa_vf zero = {0};
  const fa_vf xc = fa_v_minf(fa_v_maxf(x, zero - 126.0f), zero);
  const fa_vf n = fa_v_rintf(xc), f = xc - n;
  fa_vf p = zero + fa_exp2_poly6[0];
  FA_EXP2_POLY6_STEPS(p, f);
  const fa_vi e = __builtin_convertvector(n, fa_vi) * (1 << 23);
  return fa_v_select(x >= zero - 125.0f, (fa_vf)((fa_vi)p + e), zero);
}

/* The largest lane, by a tree of lane swaps (a lane loop becomes a serial chain of
 * extracts); the maximum of integers is the same in any order. */
static inline int32_t fa_v_max_lane(fa_vi x) {
#if FA_DECODE_VLANES == 16
  x = fa_v_max(x, __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5,
                                          6, 7));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9,
                                          10, 11));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15,
                                          12, 13));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12,
                                          15, 14));
#elif FA_DECODE_VLANES == 8
  x = fa_v_max(x, __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 2, 3, 0, 1, 6, 7, 4, 5));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6));
#elif FA_DECODE_VLANES == 4
  x = fa_v_max(x, __builtin_shufflevector(x, x, 2, 3, 0, 1));
  x = fa_v_max(x, __builtin_shufflevector(x, x, 1, 0, 3, 2));
#else
#error "FA_DECODE_VLANES must be 4, 8 or 16"
#endif
  return x[0];
}

/* The tile's probabilities and weights from its scores s[0..npad) (-inf past its keys),
 * running max m and value scales vs[0..npad) (finite, > 0; anything finite past the
 * keys): returns the integer sum of p * 2^18 and fills w[c] and g[b] as the pv step
 * takes them (g[b] = 0: block b adds nothing). */
static inline int32_t fa_decode_i8_weights(const float *s, size_t npad, float m, const float *vs,
                                           uint8_t *w, float *g) {
  fa_vi total = {0};
  for (size_t c0 = 0; c0 < npad; c0 += FA_DECODE_BLOCK) {
    fa_vf x[FA_DECODE_VECS];
    fa_vi top = {0}; /* the weights are >= 0, so their bits order as they do */
    for (int u = 0; u < FA_DECODE_VECS; u++) {
      const size_t c = c0 + (size_t)u * FA_DECODE_VLANES;
      const fa_vf p = fa_v_exp2(fa_v_load(s + c) - m); /* in [0, 1] */
      total += fa_v_rint(p * (float)(1 << FA_DECODE_SUM_BITS));
      x[u] = p * fa_v_load(vs + c);
      top = fa_v_max(top, (fa_vi)x[u]);
    }
    const int32_t high = fa_v_max_lane(top);
    float wmax;
    memcpy(&wmax, &high, sizeof(wmax));
    /* w <= wmax, so rint(w * (127 / wmax)) <= 127 (two roundings stay below 127.5) */
    const float r = (float)FA_DECODE_WMAX / (wmax > 0.0f ? wmax : 1.0f);
    g[c0 / FA_DECODE_BLOCK] = wmax * (1.0f / (float)FA_DECODE_WMAX); /* 0 when wmax is */
    fa_vi wi[FA_DECODE_VECS];
    for (int u = 0; u < FA_DECODE_VECS; u++) wi[u] = fa_v_rint(x[u] * r);
    fa_v_store_weights(wi, w + c0);
  }
  int32_t sum = 0; /* <= 64 * 2^18 */
  for (int l = 0; l < FA_DECODE_VLANES; l++) sum += total[l];
  return sum;
}

/* Job {b, kh, k0, k1} (common/split.h) of the int8 cache: as fa_decode_job, but one row
 * at a time over the whole split in three passes: every tile's scores (the keys stream with
 * no serial chain between their loads), then every tile's softmax step and weights, then
 * every tile's P.V (the values stream), the values prefetched during the second pass (which
 * reads no memory: 10% off a 4k call). Each row's arithmetic is the tile-by-tile order of
 * the reference; only which row and which pass runs when changes. */
#define FA_DECODE_TILES (FA_DECODE_SPLIT / FA_DECODE_TILE)
static inline fa_status fa_decode_i8_job(const fa_decode_i8_ukernels *uk, const void *params,
                                         const fa_job *job, void *workspace) {
  const fa_decode_task *t = (const fa_decode_task *)params;
  const size_t b = job->b, kh = job->h, k0 = job->q0, k1 = job->q1, dvp = fa_decode_dvp(t->dv);
  const fa_decode_kv kv = fa_decode_head(t, b, kh);
  const fa_decode_rows ws = fa_decode_rows_init(t, workspace);
  if (k1 <= k0) return fa_decode_finish(t, b, kh, k0, &ws); /* no key: zeros */
  _Alignas(64) float s[FA_DECODE_SPLIT];
  _Alignas(64) uint8_t w[FA_DECODE_SPLIT];
  float g[FA_DECODE_SPLIT / FA_DECODE_BLOCK], alpha[FA_DECODE_TILES], ks[FA_DECODE_TILE],
      vs[FA_DECODE_TILE];
  const size_t ntiles = (k1 - k0 + FA_DECODE_TILE - 1) / FA_DECODE_TILE;
  const size_t last = k1 - k0 - (ntiles - 1) * FA_DECODE_TILE; /* keys of the last tile */
  const size_t jl = k0 + (ntiles - 1) * FA_DECODE_TILE, lpad = fa_round_up(last, 16);
  const float *vsl = kv.vs + jl; /* the last tile's value scales, 0 past its keys */
  if (last < lpad) {
    memcpy(ks, kv.ks + jl, last * sizeof(float));
    memcpy(vs, vsl, last * sizeof(float));
    for (size_t c = last; c < lpad; c++) ks[c] = vs[c] = 0.0f;
    vsl = vs;
  }
  for (size_t r = 0; r < t->rows; r++) {
    float *orow = ws.o + r * dvp;
    int seen[FA_DECODE_TILES]; /* the tile changes the row */
    for (size_t i = 0; i < ntiles; i++) {
      const size_t j0 = k0 + i * FA_DECODE_TILE, n = i + 1 < ntiles ? FA_DECODE_TILE : last;
      fa_decode_row row;
      seen[i] = fa_decode_row_begin(t, b, kh, r, j0, n, &row);
      if (!seen[i]) continue;
      float *st = s + i * FA_DECODE_TILE;
      uk->scores(row.qrow, &kv, j0, n, i + 1 < ntiles || last == lpad ? kv.ks + j0 : ks, st);
      fa_decode_row_finish(&row, j0, n, st);
    }
    for (size_t i = 0; i < ntiles; i++) {
      const size_t j0 = k0 + i * FA_DECODE_TILE;
      if (r == 0) /* the tile's values, which the third pass reads, while this one computes */
        for (size_t l = 0; l < FA_DECODE_TILE / 4 * (size_t)kv.v_rs; l += 64)
          __builtin_prefetch((const int8_t *)kv.v + (ptrdiff_t)(j0 / 4) * kv.v_rs + l, 0, 3);
      if (!seen[i]) continue;
      const size_t npad = i + 1 < ntiles ? FA_DECODE_TILE : lpad;
      const float *st = s + i * FA_DECODE_TILE;
      const float tile_max = uk->softmax->max(st, npad);
      seen[i] = tile_max > -INFINITY;
      if (!seen[i]) continue; /* nothing visible in this tile */
      const float m = ws.rmax[r], new_max = tile_max > m ? tile_max : m;
      alpha[i] = m == -INFINITY ? 0.0f : fa_decode_exp2(m - new_max);
      const int32_t total = fa_decode_i8_weights(st, npad, new_max,
                                                 i + 1 < ntiles ? kv.vs + j0 : vsl,
                                                 w + i * FA_DECODE_TILE,
                                                 g + i * (FA_DECODE_TILE / FA_DECODE_BLOCK));
      ws.rsum[r] = ws.rsum[r] * alpha[i] + (float)total * (1.0f / (float)(1 << FA_DECODE_SUM_BITS));
      ws.rmax[r] = new_max;
    }
    for (size_t i = 0; i < ntiles; i++)
      if (seen[i])
        uk->pv(w + i * FA_DECODE_TILE, g + i * (FA_DECODE_TILE / FA_DECODE_BLOCK), alpha[i], &kv,
               k0 + i * FA_DECODE_TILE, i + 1 < ntiles ? FA_DECODE_TILE : last, orow);
  }
  return fa_decode_finish(t, b, kh, k0, &ws);
}

#endif
