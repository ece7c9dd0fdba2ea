/* Validation of a block layout, shared by every sparse dtype. Built with no ISA flags. */
#include "fastattn/sparse.h"

static int row_sorted(const int32_t *idx, int32_t begin, int32_t end, size_t nkblocks) {
  int32_t prev = -1;
  for (int32_t e = begin; e < end; e++) {
    if (idx[e] <= prev || (size_t)idx[e] >= nkblocks) return 0;
    prev = idx[e];
  }
  return 1;
}

int fa_sparse_layout_valid(const fa_sparse_layout *l, size_t lq, size_t lk, size_t batch_heads) {
  const size_t big = (size_t)1 << 40;
  if (!l->indptr || !l->layout_of || (l->nnz > 0 && !l->indices)) return 0;
  if (l->nlayouts == 0 || l->block_q == 0 || l->block_k == 0) return 0;
  if (l->block_q >= big || l->block_k >= big || l->nnz > (size_t)INT32_MAX) return 0;
  if (l->nqblocks != (lq + l->block_q - 1) / l->block_q) return 0;
  if (l->nkblocks != (lk + l->block_k - 1) / l->block_k || l->nkblocks == 0) return 0;
  if (l->nlayouts >= big / (l->nqblocks + 1)) return 0;
  for (size_t i = 0; i < l->nlayouts; i++) {
    const int32_t *row = l->indptr + i * (l->nqblocks + 1);
    if (row[0] < 0) return 0;
    for (size_t r = 0; r < l->nqblocks; r++) {
      if (row[r + 1] < row[r] || (size_t)row[r + 1] > l->nnz) return 0;
      if (!row_sorted(l->indices, row[r], row[r + 1], l->nkblocks)) return 0;
    }
  }
  for (size_t bh = 0; bh < batch_heads; bh++)
    if (l->layout_of[bh] < 0 || (size_t)l->layout_of[bh] >= l->nlayouts) return 0;
  return 1;
}
