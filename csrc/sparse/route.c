/* The router's block choice (fastattn.route, reference/routed.route_one): per query block,
 * its forced blocks, then the highest scores up to its budget (ties: the lower index),
 * written straight as the layout's CSR. Built with no ISA flags. */
#include <math.h>

#include "fastattn/sparse.h"

/* Puts key into slot i of a max-heap of i + 1 doubles. */
static inline void heap_up(double *h, size_t i, double key) {
  while (i > 0 && h[(i - 1) / 2] < key) {
    h[i] = h[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h[i] = key;
}

/* Sift-down of a max-heap of n doubles from slot i. */
static void heap_down(double *h, size_t n, size_t i) {
  for (;;) {
    size_t top = i;
    const size_t a = 2 * i + 1, b = a + 1;
    if (a < n && h[a] > h[top]) top = a;
    if (b < n && h[b] > h[top]) top = b;
    if (top == i) return;
    const double t = h[i];
    h[i] = h[top], h[top] = t;
    i = top;
  }
}

/* The rank key of visible block c of a row: forced first (-inf), then by score, highest
 * first; a NaN score last (+inf, with the invisible blocks). */
static inline double rank_key(const double *s, size_t c, ptrdiff_t diag, size_t local_blocks,
                              size_t sink_blocks) {
  const ptrdiff_t off = (ptrdiff_t)c - diag;
  if ((size_t)(off < 0 ? -off : off) <= local_blocks - 1 || c < sink_blocks) return -INFINITY;
  return isnan(s[c]) ? INFINITY : -s[c];
}

fa_status fa_route_select(const double *scores, size_t scores_len, size_t groups, size_t nq,
                          size_t nk, const int64_t *nvisible, const int64_t *diag,
                          const int64_t *budget, size_t local_blocks, size_t sink_blocks,
                          int32_t *indptr, size_t indptr_len, int32_t *indices,
                          size_t indices_len, double *scratch, size_t scratch_len,
                          size_t *nnz) {
  const size_t big = (size_t)1 << 31;
  if (!nnz) return FA_ERR_NULL;
  *nnz = 0;
  if (groups >= big || nq >= big || nk >= big || local_blocks == 0) return FA_ERR_INVALID;
  if (groups == 0) return FA_OK;
  if (!indptr || (nq && (!nvisible || !diag || !budget || (nk && (!scores || !scratch)))))
    return FA_ERR_NULL;
  if (indptr_len / groups < nq + 1 || (nq && scores_len / nq / groups < nk) ||
      scratch_len / 2 < nk)
    return FA_ERR_BOUNDS;
  for (size_t r = 0; r < nq; r++)
    if (nvisible[r] < 0 || (size_t)nvisible[r] > nk || budget[r] < 0) return FA_ERR_INVALID;
  double *keys = scratch, *heap = scratch + nk;
  size_t count = 0;
  for (size_t g = 0; g < groups; g++) {
    int32_t *ptr = indptr + g * (nq + 1);
    ptr[0] = (int32_t)count;
    for (size_t r = 0; r < nq; r++) {
      const double *s = scores + (g * nq + r) * nk;
      const size_t vis = (size_t)nvisible[r];
      size_t forced = 0;
      for (size_t c = 0; c < vis; c++) {
        keys[c] = rank_key(s, c, (ptrdiff_t)diag[r], local_blocks, sink_blocks);
        forced += keys[c] == -INFINITY;
      }
      size_t want = (size_t)budget[r] > forced ? (size_t)budget[r] : forced;
      want = want < vis ? want : vis;
      if (want > 0) {
        /* nth: the want-th smallest key, the top of a max-heap of the want smallest seen (the
         * invisible blocks, +inf, come after vis >= want keys and cannot enter it) */
        for (size_t c = 0; c < want; c++) heap_up(heap, c, keys[c]);
        for (size_t c = want; c < vis; c++)
          if (keys[c] < heap[0]) heap[0] = keys[c], heap_down(heap, want, 0);
        const double nth = heap[0];
        size_t below = 0;
        for (size_t c = 0; c < vis; c++) below += keys[c] < nth;
        const size_t room = want - below;
        if (count + want > indices_len) return FA_ERR_BOUNDS;
        for (size_t c = 0, ties = 0; c < vis; c++) { /* no branch on the (random) keys */
          const size_t tie = keys[c] == nth;
          if (count < indices_len) indices[count] = (int32_t)c; /* kept if counted */
          count += (keys[c] < nth) | (tie & (ties < room));
          ties += tie;
        }
      }
      if (count >= big) return FA_ERR_OVERFLOW;
      ptr[r + 1] = (int32_t)count;
    }
  }
  *nnz = count;
  return FA_OK;
}
