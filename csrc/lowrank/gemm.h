/* A blocked float32 GEMM over the flash engine's mr x 16 register tiles, for the
 * GEMM-shaped parts of the low-rank ops (feature maps, key/value states, projections).
 *
 * Operands are workspace buffers the caller padded: A has round_up(m, mr) readable rows,
 * B and C have round_up(n, 16) readable columns and C round_up(m, mr) rows (padding rows
 * and columns of C receive values that are never read). k is blocked by FA_LR_KC so one
 * kc x 16 panel of B stays in L1 while every row tile of A (in L2) streams past it. */
#ifndef FASTATTN_LOWRANK_GEMM_H
#define FASTATTN_LOWRANK_GEMM_H

#include <string.h>
#include "flash/f32.h"

#define FA_LR_KC 256

/* Rows of a buffer that GEMM tiles of any ISA may touch (rows are padded up to mr). */
static inline size_t fa_lr_rows(size_t m) { return m + FA_F32_MR_MAX; }
static inline size_t fa_lr_cols(size_t n) { return fa_round_up(n, FA_F32_NR); }

/* The L1 sets (of 64, 64-byte lines) that rows of B `ldb` floats apart fall into. */
static inline size_t fa_lr_sets(size_t ldb) {
  const size_t bytes = ldb * sizeof(float), low = bytes & (~bytes + 1); /* lowest set bit */
  return low >= 4096 ? 1 : 4096 / (low < 64 ? 64 : low);
}

/* The 16-column panels of the tile call for columns [j, ...) of n: 4 through gemm4 when the
 * ISA has one and the fourth panel holds a used column, else 2 through gemm2 likewise, else
 * 1 through gemm. */
static inline int fa_lr_panels(const fa_f32_ukernels *uk, size_t j, size_t n) {
  if (uk->gemm4 && j + 3 * FA_F32_NR < n) return 4;
  return uk->gemm2 && j + FA_F32_NR < n ? 2 : 1;
}

/* The rows of a tile call of `panels` panels. */
static inline size_t fa_lr_mr(const fa_f32_ukernels *uk, int panels) {
  return panels == 4 ? uk->mr4 : uk->mr;
}

/* out rows = num rows / den (lowrank/ukernels.h, divide_rows) */
typedef void (*fa_lr_divide_fn)(float *out, ptrdiff_t out_rs, const float *num, size_t ld,
                                const float *den, size_t rows, size_t dv, int fence);

/* Work spread over GEMM tile calls (a little after each) instead of done at once: software
 * prefetches of rows of up to 4 arrays into L2 (a burst of hundreds fills every L1 miss
 * buffer and stalls the core until memory answers), and the writing of a chunk's output rows
 * (a burst of 16 KB of stores runs at memory speed; spread, it overlaps the GEMMs). */
typedef struct fa_lr_pf {
  const char *base[4];
  ptrdiff_t rs[4]; /* row strides in bytes */
  size_t rows[4], lines[4], write[4];
  size_t count, s, r, l; /* streams, and the cursor: stream, row, line */
  size_t quota;          /* lines after each GEMM tile call */
  size_t taken;          /* lines of this call's quota a tile issued itself (fa_lr_pf_run) */
  fa_lr_divide_fn divide; /* the output rows waiting (fa_lr_pf_defer) */
  float *out;
  ptrdiff_t out_rs;
  const float *num, *den;
  size_t ld, dv, orows, onext, oquota;
} fa_lr_pf;

/* An empty pf whose output rows go through `divide`. */
static inline void fa_lr_pf_init(fa_lr_pf *pf, fa_lr_divide_fn divide) {
  memset(pf, 0, sizeof *pf);
  pf->divide = divide;
}

/* Drops the prefetch streams (not the waiting output rows). */
static inline void fa_lr_pf_reset(fa_lr_pf *pf) {
  pf->count = pf->s = pf->r = pf->l = pf->taken = 0;
}

/* Adds rows [r0, min(r1, n)) of x (row stride rs, cols floats used) to the stream. */
static inline void fa_lr_pf_add(fa_lr_pf *pf, const float *x, ptrdiff_t rs, size_t r0, size_t r1,
                                size_t n, size_t cols, int write) {
  if (r1 > n) r1 = n;
  if (r0 >= r1 || pf->count == 4) return;
  const size_t i = pf->count++;
  pf->base[i] = (const char *)(x + (ptrdiff_t)r0 * rs);
  pf->rs[i] = rs * (ptrdiff_t)sizeof(float);
  pf->rows[i] = r1 - r0;
  pf->lines[i] = (cols * sizeof(float) + 63) / 64;
  pf->write[i] = (size_t)write;
}

/* Sets the quota so that what is left is issued over `calls` GEMM tile calls. */
static inline void fa_lr_pf_pace(fa_lr_pf *pf, size_t calls) {
  size_t left = 0;
  for (size_t i = pf->s; i < pf->count; i++) left += pf->rows[i] * pf->lines[i];
  pf->quota = calls ? (left + calls - 1) / calls : left;
}

/* Issues up to `lines` prefetches (pf NULL: none). */
static inline void fa_lr_pf_issue(fa_lr_pf *pf, size_t lines) {
  if (!pf) return;
  for (; lines && pf->s < pf->count; lines--) {
    const char *at = pf->base[pf->s] + (ptrdiff_t)pf->r * pf->rs[pf->s] + 64 * pf->l;
    if (pf->write[pf->s]) __builtin_prefetch(at, 1, 2);
    else __builtin_prefetch(at, 0, 2);
    if (++pf->l == pf->lines[pf->s]) {
      pf->l = 0;
      if (++pf->r == pf->rows[pf->s]) pf->r = 0, pf->s++;
    }
  }
}

static inline void fa_lr_pf_flush(fa_lr_pf *pf) { fa_lr_pf_issue(pf, (size_t)-1); }

/* Writes up to `rows` of the waiting output rows; `fence`: the last call of a job. */
static inline void fa_lr_pf_write(fa_lr_pf *pf, size_t rows, int fence) {
  if (rows > pf->orows - pf->onext) rows = pf->orows - pf->onext;
  if ((!rows && !fence) || !pf->out) return;
  const size_t i = pf->onext;
  pf->divide(pf->out + (ptrdiff_t)i * pf->out_rs, pf->out_rs, pf->num + i * pf->ld, pf->ld,
             pf->den + i, rows, pf->dv, fence);
  pf->onext += rows;
}

/* What follows each GEMM tile call: the quotas of prefetches (less what the tile issued)
 * and output rows (pf NULL: none). */
static inline void fa_lr_pf_tick(fa_lr_pf *pf) {
  if (!pf) return;
  fa_lr_pf_issue(pf, pf->taken < pf->quota ? pf->quota - pf->taken : 0);
  pf->taken = 0;
  fa_lr_pf_write(pf, pf->oquota, 0);
}

/* Hands up to `most` lines of the next tick's quota to a tile that issues them between its
 * steps (into *run: the next lines of the current stream, any number of its rows); 0 when
 * pf is NULL or nothing is left. */
static inline size_t fa_lr_pf_run(fa_lr_pf *pf, size_t most, fa_f32_lines *run) {
  if (!pf || pf->s >= pf->count || pf->taken >= pf->quota) return 0;
  const size_t s = pf->s, per = pf->lines[s];
  const size_t left = (pf->rows[s] - pf->r) * per - pf->l;
  size_t n = pf->quota - pf->taken;
  n = n < most ? n : most;
  n = n < left ? n : left;
  run->row = pf->base[s] + (ptrdiff_t)pf->r * pf->rs[s];
  run->rs = pf->rs[s];
  run->line = pf->l, run->per = per, run->count = n, run->write = (int)pf->write[s];
  pf->l += n;
  pf->r += pf->l / per, pf->l %= per;
  if (pf->r == pf->rows[s]) pf->r = 0, pf->s++;
  pf->taken += n;
  return n;
}

/* One row tile of C against `panels` panels from b0 (columns j..j+15), bstep floats apart;
 * a 4-panel tile issues a run of pf's next lines itself (pf NULL: none). */
static inline void fa_lr_tile(const fa_f32_ukernels *uk, int panels, size_t k, const float *a,
                              size_t lda, const float *b0, size_t bstep, size_t ldb, float *c,
                              size_t ldc, int accumulate, fa_lr_pf *pf) {
  if (panels == 4) {
    fa_f32_lines run;
    const int some = fa_lr_pf_run(pf, k, &run) != 0;
    uk->gemm4(k, a, lda, b0, bstep, ldb, c, ldc, accumulate, some ? &run : NULL);
  } else if (panels == 2) {
    uk->gemm2(k, a, lda, b0, b0 + bstep, ldb, c, ldc, accumulate);
  } else {
    uk->gemm(k, a, lda, b0, ldb, c, ldc, accumulate);
  }
}

/* Writes what waits, then leaves `rows` output rows (num / den, ld floats apart) waiting, to
 * be written over the next `calls` tile calls: num and den must stay until then. */
static inline void fa_lr_pf_defer(fa_lr_pf *pf, float *out, ptrdiff_t out_rs, const float *num,
                                  size_t ld, const float *den, size_t rows, size_t dv,
                                  size_t calls) {
  fa_lr_pf_write(pf, (size_t)-1, 0);
  pf->out = out, pf->out_rs = out_rs, pf->num = num, pf->den = den;
  pf->ld = ld, pf->dv = dv, pf->orows = rows, pf->onext = 0;
  pf->oquota = calls ? (rows + calls - 1) / calls : rows;
}

/* The GEMM tile calls of an m x n x k fa_lr_gemm or fa_lr_gemm_packed (column panels in
 * groups as fa_lr_panels makes them). */
static inline size_t fa_lr_gemm_calls(const fa_f32_ukernels *uk, size_t m, size_t n, size_t k) {
  size_t calls = 0;
  for (size_t j = 0; j < n;) {
    const int panels = fa_lr_panels(uk, j, n);
    const size_t mr = fa_lr_mr(uk, panels);
    calls += (m + mr - 1) / mr;
    j += (size_t)panels * FA_F32_NR;
  }
  return calls * ((k + FA_LR_KC - 1) / FA_LR_KC);
}

/* C (accumulate ? += : =) A B with C[m][n], A[m][k], B[k][n]; strides in elements. When
 * more than one row tile reads it and its rows, a power-of-two stride apart, would crowd
 * a few L1 sets (4 lines a set: what 8 ways keep beside A and C), each kc x 16 panel of B
 * is first copied to a contiguous block. After each tile call, fa_lr_pf_tick. Always inlined,
 * here and in fa_lr_gemm_packed: out of line (as gcc and clang chose once the prefetch ticks
 * grew them) every tile is an indirect call through uk, which armcount models 1.3-2.9% dearer
 * for Performer and causal linear on the A72 and N1 (x86 times unchanged). */
static inline __attribute__((always_inline)) void fa_lr_gemm(
    const fa_f32_ukernels *uk, size_t m, size_t n, size_t k, const float *a, size_t lda,
    const float *b, size_t ldb, float *c, size_t ldc, int accumulate, fa_lr_pf *pf) {
  const size_t mr = uk->mr;
  if (k == 0) {
    if (!accumulate)
      for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, fa_lr_cols(n) * sizeof(float));
    return;
  }
  _Alignas(64) float panel[4 * FA_LR_KC * FA_F32_NR];
  for (size_t p0 = 0; p0 < k; p0 += FA_LR_KC) {
    const size_t kc = k - p0 < FA_LR_KC ? k - p0 : FA_LR_KC;
    const int acc = accumulate || p0 > 0, pack = m > mr && kc > 4 * fa_lr_sets(ldb);
    for (size_t j = 0; j < n;) {
      const int panels = fa_lr_panels(uk, j, n);
      const size_t mrg = fa_lr_mr(uk, panels);
      const float *b0 = b + p0 * ldb + j;
      size_t ldp = ldb, bstep = FA_F32_NR;
      if (pack) {
        for (int t = 0; t < panels; t++)
          for (size_t p = 0; p < kc; p++)
            memcpy(panel + (t * kc + p) * FA_F32_NR, b0 + t * FA_F32_NR + p * ldb,
                   FA_F32_NR * sizeof(float));
        b0 = panel, ldp = FA_F32_NR, bstep = kc * FA_F32_NR;
      }
      for (size_t i = 0; i < m; i += mrg) {
        fa_lr_tile(uk, panels, kc, a + i * lda + p0, lda, b0, bstep, ldp, c + i * ldc + j, ldc,
                   acc, pf);
        fa_lr_pf_tick(pf);
      }
      j += (size_t)panels * FA_F32_NR;
    }
  }
}

/* B[k][n] (row stride ldb, n columns used) as column panels for fa_lr_gemm_packed: panel
 * j / 16 is k x 16 contiguous floats at bp + j * k, zero beyond column n. B is read row by
 * row, in memory order (an operand streamed from memory is read once, at full speed). */
static inline void fa_lr_pack_panels(const float *b, size_t ldb, size_t k, size_t n, float *bp) {
  const size_t whole = n & ~(size_t)(FA_F32_NR - 1), w = n - whole;
  for (size_t p = 0; p < k; p++) {
    const float *row = b + p * ldb;
    for (size_t j = 0; j < whole; j += FA_F32_NR) /* fixed-size copies the compiler inlines */
      memcpy(bp + j * k + p * FA_F32_NR, row + j, FA_F32_NR * sizeof(float));
    if (w) {
      float *dst = bp + whole * k + p * FA_F32_NR;
      memcpy(dst, row + whole, w * sizeof(float));
      memset(dst + w, 0, (FA_F32_NR - w) * sizeof(float));
    }
  }
}

/* fa_lr_gemm for a B packed by fa_lr_pack_panels (an operand many calls reuse, or one read
 * from memory once, in order, rather than a panel's columns at a time); pf as there. */
static inline __attribute__((always_inline)) void fa_lr_gemm_packed(
    const fa_f32_ukernels *uk, size_t m, size_t n, size_t k, const float *a, size_t lda,
    const float *bp, float *c, size_t ldc, int accumulate, fa_lr_pf *pf) {
  for (size_t p0 = 0; p0 < k; p0 += FA_LR_KC) {
    const size_t kc = k - p0 < FA_LR_KC ? k - p0 : FA_LR_KC;
    for (size_t j = 0; j < n;) {
      const int panels = fa_lr_panels(uk, j, n);
      const size_t mrg = fa_lr_mr(uk, panels);
      const float *b0 = bp + j * k + p0 * FA_F32_NR;
      for (size_t i = 0; i < m; i += mrg) {
        fa_lr_tile(uk, panels, kc, a + i * lda + p0, lda, b0, FA_F32_NR * k, FA_F32_NR,
                   c + i * ldc + j, ldc, accumulate || p0 > 0, pf);
        fa_lr_pf_tick(pf);
      }
      j += (size_t)panels * FA_F32_NR;
    }
  }
}

/* Asks for rows [r0, r1) of x (row stride rs, cols used; r1 clipped to n) to be brought into
 * L2 (for writing when `write`), so that the next chunk's inputs arrive from memory while this
 * chunk's GEMMs run instead of stalling the feature maps that read them. */
static inline void fa_lr_prefetch(const float *x, ptrdiff_t rs, size_t r0, size_t r1, size_t n,
                                  size_t cols, int write) {
  for (size_t r = r0; r < (r1 < n ? r1 : n); r++) {
    const char *row = (const char *)(x + (ptrdiff_t)r * rs);
    for (size_t b = 0; b < cols * sizeof(float); b += 64) {
      if (write) __builtin_prefetch(row + b, 1, 2);
      else __builtin_prefetch(row + b, 0, 2);
    }
  }
}

/* Bump allocator over a workspace: 64-byte aligned float buffers. */
typedef struct fa_lr_arena {
  float *next;
} fa_lr_arena;

static inline fa_lr_arena fa_lr_arena_start(void *workspace) {
  fa_lr_arena a = {(float *)(((size_t)workspace + 63) & ~(size_t)63)};
  return a;
}

static inline float *fa_lr_take(fa_lr_arena *a, size_t floats) {
  float *p = a->next;
  a->next += fa_round_up(floats, 16);
  return p;
}

/* The bytes fa_lr_take needs for buffers of these sizes (in floats), plus alignment. */
static inline size_t fa_lr_bytes(const size_t *floats, size_t count) {
  size_t total = 0;
  for (size_t i = 0; i < count; i++) total += fa_round_up(floats[i], 16);
  return total * sizeof(float) + 64;
}

#endif
