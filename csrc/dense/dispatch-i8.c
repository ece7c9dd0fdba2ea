/* Dense int8 driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include <stdint.h>

#include "dense/job-i8.h"
#include "dense/kernels-i8.h"
#include "fastattn/pool.h"

const fa_dense_i8_variant fa_dense_i8_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"i8-avx512vnni", FA_ISA_AVX512VNNI, fa_dense_i8__avx512vnni},
    {"i8-avx2", FA_ISA_AVX2, fa_dense_i8__avx2},
#endif
#if defined(__aarch64__)
    {"i8-neondot", FA_ISA_NEONDOT, fa_dense_i8__neondot},
    {"i8-neon", FA_ISA_NEON, fa_dense_i8__neon},
#endif
    {"i8-scalar", FA_ISA_SCALAR, fa_dense_i8__scalar},
};
const size_t fa_dense_i8_nvariants = sizeof(fa_dense_i8_variants) / sizeof(fa_dense_i8_variants[0]);

size_t fa_dense_i8_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_dense_i8_nvariants; i++)
    if (fa_isa_allowed(fa_dense_i8_variants[i].isa, cap)) return i;
  return fa_dense_i8_nvariants - 1;
}

size_t fa_dense_i8_workspace_size(const fa_dense_i8_params *p) {
  return fa_i8_workspace_size(p->d, p->dv);
}

uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink) {
#if defined(__x86_64__) || defined(_M_X64)
  if (fa_cpu_has(FA_ISA_AVX512VNNI)) return fa_i8_peak__avx512vnni(iters, sink);
  if (fa_cpu_has(FA_ISA_AVX2)) return fa_i8_peak__avx2(iters, sink);
#endif
#if defined(__aarch64__)
  if (fa_cpu_has(FA_ISA_NEONDOT)) return fa_i8_peak__neondot(iters, sink);
  if (fa_cpu_has(FA_ISA_NEON)) return fa_i8_peak__neon(iters, sink);
#endif
  return fa_i8_peak__scalar(iters, sink);
}

typedef struct dense_i8_task {
  const fa_dense_i8_params *p;
  fa_dense_i8_fn fn;
  char *workspace;
  size_t per_thread;
} dense_i8_task;

static void dense_i8_run_job(void *ctx, size_t job, size_t worker) {
  const dense_i8_task *t = (const dense_i8_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

int fa_dense_i8_params_valid(const fa_dense_i8_params *p) {
  if (!p->q || !p->k || !p->v || !p->out || !p->k_scale || !p->v_scale) return 0;
  if (p->batch == 0 || p->heads == 0 || p->kv_heads == 0 || p->d == 0 || p->dv == 0) return 0;
  if (p->q_block == 0 || p->k_block == 0) return 0;
  if (p->heads % p->kv_heads != 0) return 0;
  if (p->band_lo > p->band_hi) return 0;
  const size_t big = (size_t)1 << 40; /* keeps every index product far from overflow */
  /* d < 2^16 keeps |q.k| <= d * 127^2 below 2^31 */
  return p->batch < big && p->heads < big && p->lq < big && p->lk < big && p->d < (1u << 16) &&
         p->dv < (1u << 16);
}

fa_status fa_dense_i8(const fa_dense_i8_params *p, size_t index, size_t nthreads,
                      void *workspace, size_t workspace_size) {
  if (!p || index >= fa_dense_i8_nvariants) return FA_ERR_INVALID;
  if (!fa_dense_i8_params_valid(p)) return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_dense_i8_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->lq == 0 || p->lk == 0) return FA_OK;
  const size_t per_thread = fa_dense_i8_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  const size_t njobs = p->batch * p->heads * fa_dense_i8_qblocks(p);
  dense_i8_task task = {p, fa_dense_i8_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(njobs, nthreads, dense_i8_run_job, &task);
}
