/* Sparse int8 driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include <stdint.h>

#include "dense/kernels-i8.h"
#include "fastattn/pool.h"
#include "sparse/job-i8.h"
#include "sparse/kernels-i8.h"

const fa_sparse_i8_variant fa_sparse_i8_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"i8-avx512vnni", FA_ISA_AVX512VNNI, fa_sparse_i8__avx512vnni},
    {"i8-avx2", FA_ISA_AVX2, fa_sparse_i8__avx2},
#endif
#if defined(__aarch64__)
    {"i8-neondot", FA_ISA_NEONDOT, fa_sparse_i8__neondot},
    {"i8-neon", FA_ISA_NEON, fa_sparse_i8__neon},
#endif
    {"i8-scalar", FA_ISA_SCALAR, fa_sparse_i8__scalar},
};
const size_t fa_sparse_i8_nvariants =
    sizeof(fa_sparse_i8_variants) / sizeof(fa_sparse_i8_variants[0]);

size_t fa_sparse_i8_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_sparse_i8_nvariants; i++)
    if (fa_isa_allowed(fa_sparse_i8_variants[i].isa, cap)) return i;
  return fa_sparse_i8_nvariants - 1;
}

size_t fa_sparse_i8_workspace_size(const fa_sparse_i8_params *p) {
  return fa_round_up(fa_sparse_ranges_bytes(&p->layout), 64) +
         fa_round_up(fa_i8_workspace_size(p->attn.d, p->attn.dv), 64);
}

typedef struct sparse_i8_task {
  const fa_sparse_i8_params *p;
  fa_sparse_i8_fn fn;
  char *workspace;
  size_t per_thread;
} sparse_i8_task;

static void sparse_i8_run_job(void *ctx, size_t job, size_t worker) {
  const sparse_i8_task *t = (const sparse_i8_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

/* The dense int8 checks, plus: at least one key, and batch x heads (the layout table) in range. */
static int attn_i8_valid(const fa_dense_i8_params *p) {
  return fa_dense_i8_params_valid(p) && p->lk > 0 && p->batch * p->heads < ((size_t)1 << 40);
}

fa_status fa_sparse_i8(const fa_sparse_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  if (!p || index >= fa_sparse_i8_nvariants) return FA_ERR_INVALID;
  if (!attn_i8_valid(&p->attn)) return FA_ERR_INVALID;
  if (!fa_sparse_layout_valid(&p->layout, p->attn.lq, p->attn.lk, p->attn.batch * p->attn.heads))
    return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_sparse_i8_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->attn.lq == 0) return FA_OK;
  const size_t per_thread = fa_sparse_i8_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  const size_t njobs = p->attn.batch * p->attn.heads * p->layout.nqblocks;
  sparse_i8_task task = {p, fa_sparse_i8_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(njobs, nthreads, sparse_i8_run_job, &task);
}
