/* Decoding: a short block of queries (Lq of 1 to ~16) against a key/value cache.
 *
 * The attention of fastattn/dense.h (GQA, band, additive mask, zero rows), laid out
 * for the memory-bound case: each job reads one split of FA_DECODE_SPLIT keys of one
 * (batch, kv head) in place, in its stored layout, once for all the query rows of
 * its GQA group (heads / kv_heads heads x lq rows), and leaves a partial (max, sum,
 * output) per row; the job finishing a group's last split merges them exactly.
 * Splits are fixed by the key count, never by the thread count, so results do not
 * depend on nthreads.
 *
 * Jobs are split-K (common/split.h): job {b, h, q0, q1} is kv head h of batch row b and the
 * keys [q0, q1) of one split.
 *
 * float32 takes fa_dense_f32_params as they are. int8 (the KV cache's format) has one
 * scale per key token and one per value token, keys in groups of 16 tokens and values in
 * groups of 4; the
 * arithmetic is spelled out in reference/decode_int8.py, bit for bit: q rows quantised
 * symmetrically (scale max|q| / 127), s = q.k exactly in int32,
 * t = ((float)s * (q_scale * scale * log2 e)) * k_scale[j], a float32 online softmax per
 * tile of FA_DECODE_TILE keys, and P.V in int32 per block of FA_DECODE_BLOCK keys on
 * 7-bit weights rint(2^(t_j - m) v_scale[j] * 127 / block max). */
#ifndef FASTATTN_DECODE_H
#define FASTATTN_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/cpu.h"
#include "fastattn/dense.h"
#include "fastattn/status.h"
#include "fastattn/variant.h"

#define FA_DECODE_SPLIT 256 /* keys per split (job); a multiple of FA_DECODE_TILE */
#define FA_DECODE_TILE 64   /* keys per softmax tile inside a split */
#define FA_DECODE_BLOCK 16  /* keys per block of integer weights (int8), inside a tile */

typedef struct fa_decode_i8_params {
  const float *q;       /* [batch][heads][lq][d], last dim contiguous, finite
                         (else FA_ERR_NONFINITE: the rows are quantised) */
  /* [batch][kv_heads][ceil(lk / 16)][ceil(d / 4)][16][4], values in [-127, 127]: token j,
   * feature x at (j / 16) * k_stride[2] + 64 (x / 4) + 4 (j % 16) + x % 4 (a group of 16
   * tokens, 4 features of a token together; features past d are read, and must be 0) */
  const int8_t *k;
  /* [batch][kv_heads][ceil(lk / 4)][dv][4], values in [-127, 127]: token j, channel x at
   * (j / 4) * v_stride[2] + 4 x + j % 4 (a group of 4 tokens, channel-major) */
  const int8_t *v;
  const float *k_scale; /* [batch][kv_heads][lk], token stride 1, finite */
  const float *v_scale; /* [batch][kv_heads][lk], token stride 1, finite and > 0 */
  float *out;           /* [batch][heads][lq][dv] */
  const float *mask;    /* additive, [batch][heads][lq][lk] with key stride 1; NULL for none */
  /* elements reachable from each pointer, checked against sizes and strides */
  size_t q_len, k_len, v_len, out_len, mask_len, k_scale_len, v_scale_len;
  size_t batch, heads, kv_heads, lq, lk, d, dv;
  /* strides in elements for the batch, head and row dims (0 broadcasts); the third of k
   * and v is the stride of their groups of 16 and 4 tokens */
  ptrdiff_t q_stride[3], k_stride[3], v_stride[3], out_stride[3], mask_stride[3];
  ptrdiff_t k_scale_stride[2], v_scale_stride[2]; /* batch and head dims */
  float scale;
  ptrdiff_t band_lo, band_hi;
} fa_decode_i8_params;

/* Compiled variants, best first; the last is always the scalar one (fa_variant_pick). */
extern const fa_variant fa_decode_f32_variants[];
extern const size_t fa_decode_f32_nvariants;
extern const fa_variant fa_decode_i8_variants[];
extern const size_t fa_decode_i8_nvariants;

/* Total bytes of workspace for a call on nthreads threads (per-thread slices, the
 * prepared queries and the per-split partials). */
size_t fa_decode_f32_workspace_size(const fa_dense_f32_params *p, size_t nthreads);
size_t fa_decode_i8_workspace_size(const fa_decode_i8_params *p, size_t nthreads);

/* Validates, then runs variant `index` on `nthreads` threads. lk = 0 gives zeros. */
fa_status fa_decode_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size);
fa_status fa_decode_i8(const fa_decode_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size);

/* Reads `bytes` bytes at p (64-byte aligned, bytes a multiple of 64 * nthreads) once,
 * split over nthreads threads, and returns a checksum: the benchmarks' read-bandwidth
 * meter (built with no ISA flags). */
uint64_t fa_read_sweep(const void *p, size_t bytes, size_t nthreads);

#endif
