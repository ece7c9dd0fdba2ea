/* The driver's split-K form (see common/split.h). */
#include "common/split.h"

#include <stdatomic.h>

#include "fastattn/pool.h"

typedef struct split_ctx {
  const fa_split_run *run;
  fa_job_fn fn;
  char *workspace;
  size_t splits;
  atomic_int status; /* the first failing job's status, else FA_OK */
} split_ctx;

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
}

static void merge_job(void *arg, size_t bh, size_t worker) {
  (void)worker;
  const fa_split_run *r = ((split_ctx *)arg)->run;
  r->merge(r->params, bh / r->groups, bh % r->groups);
}

fa_status fa_drive_split(const fa_split_run *r, const fa_variant *table, size_t nvariants,
                         size_t index, size_t nthreads, void *workspace, size_t workspace_size) {
  if (index >= nvariants) return FA_ERR_VARIANT;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (!fa_cpu_has(table[index].isa)) return FA_ERR_UNSUPPORTED;
  if (r->batch == 0 || r->groups == 0) return FA_OK;
  if (r->split == 0) return FA_ERR_INVALID;
  if (!workspace || workspace_size / nthreads < r->workspace) return FA_ERR_WORKSPACE;
  split_ctx c = {r, table[index].job, (char *)workspace, fa_split_count(r->lk, r->split), FA_OK};
  size_t groups, njobs;
  if (__builtin_mul_overflow(r->batch, r->groups, &groups) ||
      __builtin_mul_overflow(groups, c.splits, &njobs))
    return FA_ERR_OVERFLOW;
  fa_status s = fa_parallel_for(njobs, nthreads, split_job, &c);
  if (s == FA_OK) s = (fa_status)atomic_load(&c.status);
  if (s != FA_OK || c.splits == 1 || !r->merge) return s;
  return fa_parallel_for(groups, nthreads, merge_job, &c);
}
