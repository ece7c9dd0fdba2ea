/* The driver's split-K form (see common/split.h). */
#include "common/split.h"

#include <stdatomic.h>
#include <stdint.h> /* SIZE_MAX */

#include "fastattn/pool.h"

typedef struct split_ctx {
  const fa_split_run *run;
  fa_job_fn fn;
  char *workspace;
  size_t splits;
  atomic_uint *arrivals; /* finished splits per (b, h), or NULL: no merge */
  atomic_int status;     /* the first failing job's status, else FA_OK */
} split_ctx;

/* Where the counters start: after the thread slices, on 64 bytes (SIZE_MAX: overflow). */
static size_t counters_offset(const fa_split_run *r, size_t nthreads) {
  size_t slices;
  if (__builtin_mul_overflow(nthreads, r->workspace, &slices) || slices > SIZE_MAX - 63)
    return SIZE_MAX;
  return (slices + 63) / 64 * 64;
}

size_t fa_split_workspace(const fa_split_run *r, size_t nthreads) {
  size_t groups, counters, total;
  const size_t offset = counters_offset(r, nthreads);
  if (__builtin_mul_overflow(r->batch, r->groups, &groups) ||
      __builtin_mul_overflow(groups, sizeof(atomic_uint), &counters) ||
      __builtin_add_overflow(offset, counters / 64 * 64 + 64, &total))
    return SIZE_MAX; /* no workspace is that large: the call fails with FA_ERR_WORKSPACE */
  return total;
}

static void split_job(void *arg, size_t j, size_t worker) {
  split_ctx *c = (split_ctx *)arg;
  const fa_split_run *r = c->run;
  const size_t bh = j / c->splits, k0 = (j % c->splits) * r->split;
  const fa_job job = {bh / r->groups, bh % r->groups, k0, k0 + r->split < r->lk ? k0 + r->split : r->lk};
  const fa_status s = c->fn(r->params, &job, c->workspace + worker * r->workspace);
  int ok = FA_OK;
  if (s != FA_OK)
    atomic_compare_exchange_strong_explicit(&c->status, &ok, (int)s, memory_order_relaxed,
                                            memory_order_relaxed);
  /* acq_rel: the last arrival sees every other split's partial */
  if (c->arrivals &&
      atomic_fetch_add_explicit(&c->arrivals[bh], 1, memory_order_acq_rel) + 1 == c->splits)
    r->merge(r->params, job.b, job.h);
}

fa_status fa_drive_split(const fa_split_run *r, const fa_variant *table, size_t nvariants,
                         size_t index, size_t nthreads, void *workspace, size_t workspace_size) {
  if (index >= nvariants) return FA_ERR_VARIANT;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (!fa_cpu_has(table[index].isa)) return FA_ERR_UNSUPPORTED;
  if (r->batch == 0 || r->groups == 0) return FA_OK;
  if (r->split == 0) return FA_ERR_INVALID;
  size_t groups, njobs;
  const size_t splits = fa_split_count(r->lk, r->split);
  if (__builtin_mul_overflow(r->batch, r->groups, &groups) ||
      __builtin_mul_overflow(groups, splits, &njobs))
    return FA_ERR_OVERFLOW;
  if (!workspace || workspace_size < fa_split_workspace(r, nthreads)) return FA_ERR_WORKSPACE;
  split_ctx c = {r, table[index].job, (char *)workspace, splits, NULL, FA_OK};
  if (splits > 1 && r->merge) {
    c.arrivals = (atomic_uint *)(void *)((char *)workspace + counters_offset(r, nthreads));
    for (size_t g = 0; g < groups; g++) atomic_init(&c.arrivals[g], 0u);
  }
  const fa_status s = fa_parallel_for(njobs, nthreads, split_job, &c);
  return s != FA_OK ? s : (fa_status)atomic_load(&c.status);
}
