/* Block-sparse attention, float32 and int8.
 *
 * The attention of fastattn/dense.h restricted to a block layout: query block r
 * (rows [r * block_q, (r + 1) * block_q)) sees only the keys of the key blocks
 * listed in its row of a CSR, and inside them only the keys the token-level
 * edges allow (band, mask, global tokens). A query row that sees no key gets
 * zeros. The cost is proportional to the number of listed blocks. */
#ifndef FASTATTN_SPARSE_H
#define FASTATTN_SPARSE_H

#include <stddef.h>
#include <stdint.h>
#include "fastattn/dense.h"
#include "fastattn/dense_i8.h"
#include "fastattn/status.h"
#include "fastattn/variant.h"

/* Which key blocks each query block visits; independent of the dtype. */
typedef struct fa_sparse_layout {
  size_t nlayouts;           /* independent layouts (one per head, or one shared) */
  size_t block_q, block_k;   /* block sizes in tokens */
  size_t nqblocks, nkblocks; /* ceil(lq / block_q), ceil(lk / block_k) */
  /* [nlayouts][nqblocks + 1]: row r of layout l lists the key blocks
   * indices[indptr[l][r] .. indptr[l][r + 1]), strictly increasing, < nkblocks */
  const int32_t *indptr;
  size_t indptr_len;
  const int32_t *indices; /* [nnz] */
  size_t nnz;
  /* [batch * heads]: the layout of (b, h) is layout_of[b * heads + h] */
  const int32_t *layout_of;
  size_t layout_of_len;
  /* Global tokens (Longformer), or NULL: [lq] and [lk] flags; key j is also visible
   * to query i when q_global[i] or k_global[j] is set and j - i <= global_hi. */
  const unsigned char *q_global, *k_global;
  size_t q_global_len, k_global_len;
  ptrdiff_t global_hi;
} fa_sparse_layout;

/* FA_OK when the layout's arrays are long enough, every index is in range and every row
 * is sorted, for `batch_heads` (b, h) pairs of an lq x lk problem (FA_ERR_LAYOUT, or
 * FA_ERR_NULL / FA_ERR_BOUNDS for its arrays). Reads nothing out of bounds. */
fa_status fa_sparse_layout_check(const fa_sparse_layout *l, size_t lq, size_t lk,
                                 size_t batch_heads);

/* The router's block summaries (fastattn.route, sparse/pool.c): out[((b * heads + h) *
 * nblocks + r) * d + c] = the mean, summed in double in row order, of rows [r * block,
 * min((r + 1) * block, l)) of matrix (b, h) of x, a [batch][heads][l][d] = n[0..3] float32
 * view with element strides s[0..2] (last axis contiguous) inside x_len elements;
 * nblocks = ceil(l / block), out holds out_len doubles. */
fa_status fa_block_means_f32(const float *x, size_t x_len, const size_t n[4],
                             const ptrdiff_t s[3], size_t block, double *out, size_t out_len);

/* The router's choice (fastattn.route, sparse/route.c), as a CSR: for each of `groups`
 * layouts and each query block r < nq, the key blocks c < nvisible[r] (the visible ones, a
 * prefix) with |c - diag[r]| <= local_blocks - 1 or c < sink_blocks (forced), then the
 * highest scores[(g * nq + r) * nk + c] (NaN last, ties to the lower c) until
 * max(budget[r], forced) blocks are kept (at most nvisible[r]), written in increasing c:
 * indptr[g * (nq + 1) + r .. + 1] and indices, of which *nnz are used (FA_ERR_BOUNDS when
 * indices_len is too short). scratch holds at least 2 nk doubles. */
fa_status fa_route_select(const double *scores, size_t scores_len, size_t groups, size_t nq,
                          size_t nk, const int64_t *nvisible, const int64_t *diag,
                          const int64_t *budget, size_t local_blocks, size_t sink_blocks,
                          int32_t *indptr, size_t indptr_len, int32_t *indices,
                          size_t indices_len, double *scratch, size_t scratch_len,
                          size_t *nnz);

/* float32: the attention of fastattn/dense.h over the layout. int8: the arithmetic of
 * fastattn/dense_i8.h over it; the keys of each query block's listed key blocks, in
 * increasing order, are cut into key tiles of FA_I8_NK from the first, adjacent blocks or
 * not (flash/keytiles.h); reference/sparse_int8.py does the same. */
typedef struct fa_sparse_f32_params {
  fa_dense_f32_params attn; /* shapes, strides, scale, mask and band, as for dense */
  fa_sparse_layout layout;
} fa_sparse_f32_params;

typedef struct fa_sparse_i8_params {
  fa_dense_i8_params attn; /* shapes, strides, scales, mask and band, as for dense int8 */
  fa_sparse_layout layout;
} fa_sparse_i8_params;

/* Compiled variants, best first; the last is always "f32-scalar" / "i8-scalar". */
extern const fa_variant fa_sparse_f32_variants[];
extern const fa_variant fa_sparse_i8_variants[];
extern const size_t fa_sparse_f32_nvariants;
extern const size_t fa_sparse_i8_nvariants;

/* Bytes of workspace each thread needs (the caller provides nthreads times this). */
size_t fa_sparse_f32_workspace_size(const fa_sparse_f32_params *p);
size_t fa_sparse_i8_workspace_size(const fa_sparse_i8_params *p);

/* Checks everything (the layout included), then runs variant `index` on `nthreads` threads. */
fa_status fa_sparse_f32(const fa_sparse_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size);
fa_status fa_sparse_i8(const fa_sparse_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size);

#endif
