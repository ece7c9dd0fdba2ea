/* The one driver (see common/driver.h). */
#include "common/driver.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "fastattn/pool.h"

size_t fa_variant_pick(const fa_variant *table, size_t n, fa_isa cap) {
  for (size_t i = 0; i < n; i++)
    if (fa_isa_allowed(table[i].isa, cap)) return i;
  return n - 1;
}

typedef struct fa_drive_ctx {
  const fa_run *run;
  fa_job_fn fn;
  char *workspace;
  size_t qblocks, bhs;
  atomic_int status; /* the first failing job's status, else FA_OK */
} fa_drive_ctx;

static void fa_drive_job(void *arg, size_t j, size_t worker) {
  fa_drive_ctx *c = (fa_drive_ctx *)arg;
  const fa_run *r = c->run;
  const size_t qb = c->qblocks - 1 - j / c->bhs, bh = j % c->bhs;
  const size_t q0 = qb * r->rows, q1 = q0 + r->rows < r->lq ? q0 + r->rows : r->lq;
  const fa_job job = {bh / r->heads, bh % r->heads, q0, q1};
  const fa_status s = c->fn(r->params, &job, c->workspace + worker * r->workspace);
  int ok = FA_OK;
  if (s != FA_OK)
    atomic_compare_exchange_strong_explicit(&c->status, &ok, (int)s, memory_order_relaxed,
                                            memory_order_relaxed);
}

static void fa_zero_rows(const fa_run *r) {
  for (size_t b = 0; b < r->batch; b++)
    for (size_t h = 0; h < r->heads; h++)
      for (size_t i = 0; i < r->lq; i++) {
        float *row = r->out + (ptrdiff_t)b * r->out_stride[0] + (ptrdiff_t)h * r->out_stride[1] +
                     (ptrdiff_t)i * r->out_stride[2];
        memset(row, 0, r->dv * sizeof(float));
      }
}

fa_status fa_drive(const fa_run *r, const fa_variant *table, size_t nvariants, size_t index,
                   size_t nthreads, void *workspace, size_t workspace_size) {
  if (index >= nvariants) return FA_ERR_VARIANT;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (!fa_cpu_has(table[index].isa)) return FA_ERR_UNSUPPORTED;
  if (r->batch == 0 || r->heads == 0 || r->lq == 0) return FA_OK;
  if (r->lk == 0) {
    fa_zero_rows(r);
    return FA_OK;
  }
  if (!workspace || workspace_size / nthreads < r->workspace) return FA_ERR_WORKSPACE;
  fa_drive_ctx c = {r, table[index].job, (char *)workspace, (r->lq + r->rows - 1) / r->rows,
                    r->batch * r->heads, FA_OK};
  size_t njobs;
  if (__builtin_mul_overflow(c.bhs, c.qblocks, &njobs)) return FA_ERR_OVERFLOW;
  const fa_status pool = fa_parallel_for(njobs, nthreads, fa_drive_job, &c);
  return pool != FA_OK ? pool : (fa_status)atomic_load(&c.status);
}

fa_status fa_check_view(const void *ptr, size_t len, const size_t n[4], const ptrdiff_t s[3]) {
  if (n[0] == 0 || n[1] == 0 || n[2] == 0 || n[3] == 0) return FA_OK;
  if (!ptr) return FA_ERR_NULL;
  size_t reach = n[3] - 1; /* the last axis is contiguous */
  for (int i = 0; i < 3; i++) {
    if (n[i] == 1) continue;
    size_t step;
    if (s[i] < 0 || __builtin_mul_overflow(n[i] - 1, (size_t)s[i], &step) ||
        __builtin_add_overflow(reach, step, &reach))
      return FA_ERR_BOUNDS;
  }
  return reach < len && reach <= (size_t)PTRDIFF_MAX ? FA_OK : FA_ERR_BOUNDS;
}

fa_status fa_check_attn(const size_t sz[7], ptrdiff_t band_lo, ptrdiff_t band_hi,
                        const fa_view v[5]) {
  const size_t batch = sz[0], heads = sz[1], kv_heads = sz[2], lq = sz[3], lk = sz[4];
  const size_t d = sz[5], dv = sz[6], big = (size_t)1 << 40;
  size_t bh;
  if (d == 0 || dv == 0 || (kv_heads == 0 ? heads != 0 : heads % kv_heads != 0))
    return FA_ERR_SHAPE;
  if (batch >= big || heads >= big || lq >= big || lk >= big || d >= (1u << 16) ||
      dv >= (1u << 16) || __builtin_mul_overflow(batch, heads, &bh) || bh >= big)
    return FA_ERR_OVERFLOW;
  if (band_lo > band_hi) return FA_ERR_INVALID;
  const size_t shapes[5][4] = {{batch, heads, lq, d}, {batch, kv_heads, lk, d},
                               {batch, kv_heads, lk, dv}, {batch, heads, lq, dv},
                               {batch, heads, lq, lk}};
  for (int i = 0; i < 5; i++) {
    if (i == 4 && !v[i].ptr) break; /* no mask */
    if (!v[i].stride) continue;     /* a layout the caller checks itself */
    const fa_status s = fa_check_view(v[i].ptr, v[i].len, shapes[i], v[i].stride);
    if (s != FA_OK) return s;
  }
  return FA_OK;
}
