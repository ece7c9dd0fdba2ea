/* Sparse driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include <stdint.h>

#include "dense/kernels.h"
#include "fastattn/pool.h"
#include "sparse/job-f32.h"
#include "sparse/kernels.h"

const fa_sparse_f32_variant fa_sparse_f32_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"f32-avx2", FA_ISA_AVX2, fa_sparse_f32__avx2},
#endif
#if defined(__aarch64__)
    {"f32-neon", FA_ISA_NEON, fa_sparse_f32__neon},
#endif
    {"f32-scalar", FA_ISA_SCALAR, fa_sparse_f32__scalar},
};
const size_t fa_sparse_f32_nvariants =
    sizeof(fa_sparse_f32_variants) / sizeof(fa_sparse_f32_variants[0]);

size_t fa_sparse_f32_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_sparse_f32_nvariants; i++)
    if (fa_isa_allowed(fa_sparse_f32_variants[i].isa, cap)) return i;
  return fa_sparse_f32_nvariants - 1;
}

size_t fa_sparse_f32_workspace_size(const fa_sparse_f32_params *p) {
  return fa_round_up(fa_sparse_ranges_bytes(&p->layout), 64) +
         fa_round_up(fa_f32_workspace_size(p->attn.d, p->attn.dv), 64);
}

typedef struct sparse_task {
  const fa_sparse_f32_params *p;
  fa_sparse_f32_fn fn;
  char *workspace;
  size_t per_thread;
} sparse_task;

static void sparse_run_job(void *ctx, size_t job, size_t worker) {
  const sparse_task *t = (const sparse_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

/* The dense checks, plus: at least one key, and batch x heads (the layout table) in range. */
static int attn_valid(const fa_dense_f32_params *p) {
  return fa_dense_f32_params_valid(p) && p->lk > 0 && p->batch * p->heads < ((size_t)1 << 40);
}

fa_status fa_sparse_f32(const fa_sparse_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  if (!p || index >= fa_sparse_f32_nvariants) return FA_ERR_INVALID;
  if (!attn_valid(&p->attn)) return FA_ERR_INVALID;
  if (!fa_sparse_layout_valid(&p->layout, p->attn.lq, p->attn.lk, p->attn.batch * p->attn.heads))
    return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_sparse_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->attn.lq == 0) return FA_OK;
  const size_t per_thread = fa_sparse_f32_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  const size_t njobs = p->attn.batch * p->attn.heads * p->layout.nqblocks;
  sparse_task task = {p, fa_sparse_f32_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(njobs, nthreads, sparse_run_job, &task);
}
