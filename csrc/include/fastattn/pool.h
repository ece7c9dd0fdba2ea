/* A small persistent pthread pool: one call runs `njobs` independent jobs on up
 * to `nthreads` threads (the caller is one of them) with dynamic scheduling. */
#ifndef FASTATTN_POOL_H
#define FASTATTN_POOL_H

#include <stddef.h>
#include "fastattn/status.h"

#define FA_MAX_THREADS 256

/* `worker` is in [0, nthreads): the index of the thread's workspace slice. */
typedef void (*fa_pool_fn)(void *ctx, size_t job, size_t worker);

/* Runs fn(ctx, j, w) for every j in [0, njobs). Concurrent calls from several
 * threads are safe: they take turns on the pool. Returns FA_ERR_THREADS if
 * workers cannot be started (the jobs are then not run). */
fa_status fa_parallel_for(size_t njobs, size_t nthreads, fa_pool_fn fn, void *ctx);

#endif
