/* The read-bandwidth meter of the decode benchmarks: every thread sums its share of
 * the buffer as 64-bit words (the compiler vectorises the loop at the baseline ISA,
 * which is enough to saturate a memory channel). Built with no ISA flags. */
#include <stdint.h>
#include <string.h>

#include "fastattn/decode.h"
#include "fastattn/pool.h"

typedef struct sweep_ctx {
  const uint64_t *words;
  size_t per_job; /* words per job */
  uint64_t sums[FA_MAX_THREADS];
} sweep_ctx;

static void sweep_job(void *ctx, size_t job, size_t worker) {
  (void)worker;
  sweep_ctx *c = (sweep_ctx *)ctx;
  const uint64_t *w = c->words + job * c->per_job;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i < c->per_job; i += 4) s0 += w[i], s1 += w[i + 1], s2 += w[i + 2], s3 += w[i + 3];
  c->sums[job] = s0 + s1 + s2 + s3;
}

uint64_t fa_read_sweep(const void *p, size_t bytes, size_t nthreads) {
  if (!p || nthreads == 0 || nthreads > FA_MAX_THREADS) return 0;
  sweep_ctx ctx;
  memset(ctx.sums, 0, sizeof(ctx.sums));
  ctx.words = (const uint64_t *)p;
  ctx.per_job = bytes / 64 / nthreads * 8;
  if (fa_parallel_for(nthreads, nthreads, sweep_job, &ctx) != FA_OK) return 0;
  uint64_t total = 0;
  for (size_t j = 0; j < nthreads; j++) total += ctx.sums[j];
  return total;
}
