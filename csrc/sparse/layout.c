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

/* FA_OK when `len` elements from `ptr` hold `need` (NULL allowed for none). */
static fa_status array_holds(const void *ptr, size_t len, size_t need) {
  if (need == 0) return FA_OK;
  if (!ptr) return FA_ERR_NULL;
  return len >= need ? FA_OK : FA_ERR_BOUNDS;
}

fa_status fa_sparse_layout_check(const fa_sparse_layout *l, size_t lq, size_t lk,
                                 size_t batch_heads) {
  const size_t big = (size_t)1 << 40;
  if (l->nlayouts == 0 || l->block_q == 0 || l->block_k == 0) return FA_ERR_LAYOUT;
  if (l->block_q >= big || l->block_k >= big || l->nnz > (size_t)INT32_MAX) return FA_ERR_LAYOUT;
  if (l->nqblocks != (lq + l->block_q - 1) / l->block_q) return FA_ERR_LAYOUT;
  if (l->nkblocks != (lk + l->block_k - 1) / l->block_k) return FA_ERR_LAYOUT;
  if (l->nlayouts >= big / (l->nqblocks + 1)) return FA_ERR_LAYOUT;
  fa_status s = array_holds(l->indptr, l->indptr_len, l->nlayouts * (l->nqblocks + 1));
  if (s == FA_OK) s = array_holds(l->indices, l->nnz, l->nnz);
  if (s == FA_OK) s = array_holds(l->layout_of, l->layout_of_len, batch_heads);
  if (s == FA_OK && l->q_global) s = array_holds(l->q_global, l->q_global_len, lq);
  if (s == FA_OK && l->k_global) s = array_holds(l->k_global, l->k_global_len, lk);
  if (s != FA_OK) return s;
  for (size_t i = 0; i < l->nlayouts; i++) {
    const int32_t *row = l->indptr + i * (l->nqblocks + 1);
    if (row[0] < 0) return FA_ERR_LAYOUT;
    for (size_t r = 0; r < l->nqblocks; r++) {
      if (row[r + 1] < row[r] || (size_t)row[r + 1] > l->nnz) return FA_ERR_LAYOUT;
      if (!row_sorted(l->indices, row[r], row[r + 1], l->nkblocks)) return FA_ERR_LAYOUT;
    }
  }
  for (size_t bh = 0; bh < batch_heads; bh++)
    if (l->layout_of[bh] < 0 || (size_t)l->layout_of[bh] >= l->nlayouts) return FA_ERR_LAYOUT;
  return FA_OK;
}
