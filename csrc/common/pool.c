#include "fastattn/pool.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct fa_pool {
  pthread_mutex_t call_lock; /* one parallel_for at a time */
  pthread_mutex_t lock;      /* guards the fields below */
  pthread_cond_t wake;
  pthread_cond_t done;
  size_t nworkers;           /* started helper threads (the caller is not one) */
  unsigned long generation;  /* bumped for each task */
  size_t participants;       /* helpers taking part in the current task */
  size_t finished;           /* helpers done with the current task */
  fa_pool_fn fn;
  void *ctx;
  size_t njobs;
  atomic_size_t next_job;
} fa_pool;

static fa_pool pool = {
  .call_lock = PTHREAD_MUTEX_INITIALIZER,
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .wake = PTHREAD_COND_INITIALIZER,
  .done = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void run_jobs(size_t worker) {
  for (;;) {
    size_t j = atomic_fetch_add_explicit(&pool.next_job, 1, memory_order_relaxed);
    if (j >= pool.njobs) return;
    pool.fn(pool.ctx, j, worker);
  }
}

static void *worker_main(void *arg) {
  const size_t id = (size_t)arg; /* 1-based: worker 0 is the caller */
  unsigned long seen = 0;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    seen = pool.generation;
    if (id > pool.participants) continue;
    pthread_mutex_unlock(&pool.lock);
    run_jobs(id);
    pthread_mutex_lock(&pool.lock);
    if (++pool.finished == pool.participants) pthread_cond_signal(&pool.done);
  }
  return NULL;
}

/* A forked child has the pool's memory but none of its threads: start afresh. */
static void reset_in_child(void) {
  pthread_mutex_init(&pool.call_lock, NULL);
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.wake, NULL);
  pthread_cond_init(&pool.done, NULL);
  pool.nworkers = 0;
  pool.participants = 0;
  pool.finished = 0;
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, reset_in_child); }

static int ensure_workers(size_t n) {
  while (pool.nworkers < n) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, worker_main, (void *)(pool.nworkers + 1));
    pthread_attr_destroy(&attr);
    if (rc != 0) return 0;
    pool.nworkers++;
  }
  return 1;
}

fa_status fa_parallel_for(size_t njobs, size_t nthreads, fa_pool_fn fn, void *ctx) {
  if (njobs == 0) return FA_OK;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (nthreads > njobs) nthreads = njobs;
  if (nthreads == 1) {
    for (size_t j = 0; j < njobs; j++) fn(ctx, j, 0);
    return FA_OK;
  }
  pthread_once(&atfork_once, register_atfork);
  pthread_mutex_lock(&pool.call_lock);
  pthread_mutex_lock(&pool.lock);
  /* A worker that failed to start leaves the others usable: run with fewer. */
  ensure_workers(nthreads - 1);
  if (pool.nworkers == 0) {
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.call_lock);
    return FA_ERR_THREADS;
  }
  size_t helpers = nthreads - 1 < pool.nworkers ? nthreads - 1 : pool.nworkers;
  pool.fn = fn;
  pool.ctx = ctx;
  pool.njobs = njobs;
  atomic_store_explicit(&pool.next_job, 0, memory_order_relaxed);
  pool.participants = helpers;
  pool.finished = 0;
  pool.generation++;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);

  run_jobs(0);

  pthread_mutex_lock(&pool.lock);
  while (pool.finished < pool.participants) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  pthread_mutex_unlock(&pool.call_lock);
  return FA_OK;
}
