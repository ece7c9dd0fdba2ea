/* Dense driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include <stdint.h>

#include "dense/job-f32.h"
#include "dense/kernels.h"
#include "fastattn/pool.h"

const fa_dense_f32_variant fa_dense_f32_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"f32-avx2", FA_ISA_AVX2, fa_dense_f32__avx2},
#endif
#if defined(__aarch64__)
    {"f32-neon", FA_ISA_NEON, fa_dense_f32__neon},
#endif
    {"f32-scalar", FA_ISA_SCALAR, fa_dense_f32__scalar},
};
const size_t fa_dense_f32_nvariants = sizeof(fa_dense_f32_variants) / sizeof(fa_dense_f32_variants[0]);

size_t fa_dense_f32_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_dense_f32_nvariants; i++)
    if (fa_isa_allowed(fa_dense_f32_variants[i].isa, cap)) return i;
  return fa_dense_f32_nvariants - 1;
}

size_t fa_dense_f32_workspace_size(const fa_dense_f32_params *p) {
  return fa_f32_workspace_size(p->d, p->dv);
}

typedef struct dense_task {
  const fa_dense_f32_params *p;
  fa_dense_f32_fn fn;
  char *workspace;
  size_t per_thread;
} dense_task;

static void dense_run_job(void *ctx, size_t job, size_t worker) {
  const dense_task *t = (const dense_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

int fa_dense_f32_params_valid(const fa_dense_f32_params *p) {
  if (!p->q || !p->k || !p->v || !p->out) return 0;
  if (p->batch == 0 || p->heads == 0 || p->kv_heads == 0 || p->d == 0 || p->dv == 0) return 0;
  if (p->heads % p->kv_heads != 0) return 0;
  if (p->band_lo > p->band_hi) return 0;
  const size_t big = (size_t)1 << 40; /* keeps every index product far from overflow */
  return p->batch < big && p->heads < big && p->lq < big && p->lk < big && p->d < (1u << 16) &&
         p->dv < (1u << 16);
}

fa_status fa_dense_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  if (!p || index >= fa_dense_f32_nvariants) return FA_ERR_INVALID;
  if (!fa_dense_f32_params_valid(p)) return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_dense_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->lq == 0) return FA_OK;
  const size_t per_thread = fa_dense_f32_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  const size_t njobs = p->batch * p->heads * fa_dense_f32_qblocks(p);
  dense_task task = {p, fa_dense_f32_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(njobs, nthreads, dense_run_job, &task);
}
