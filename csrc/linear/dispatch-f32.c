/* Linear-attention driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include "dense/kernels.h"
#include "fastattn/pool.h"
#include "linear/job-f32.h"
#include "linear/kernels.h"

const fa_linear_f32_variant fa_linear_f32_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"f32-avx2", FA_ISA_AVX2, fa_linear_f32__avx2},
#endif
#if defined(__aarch64__)
    {"f32-neon", FA_ISA_NEON, fa_linear_f32__neon},
#endif
    {"f32-scalar", FA_ISA_SCALAR, fa_linear_f32__scalar},
};
const size_t fa_linear_f32_nvariants =
    sizeof(fa_linear_f32_variants) / sizeof(fa_linear_f32_variants[0]);

size_t fa_linear_f32_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_linear_f32_nvariants; i++)
    if (fa_isa_allowed(fa_linear_f32_variants[i].isa, cap)) return i;
  return fa_linear_f32_nvariants - 1;
}

size_t fa_linear_f32_workspace_size(const fa_linear_f32_params *p) {
  return fa_linear_f32_job_workspace(p);
}

unsigned long long fa_f32_peak_loop(unsigned long long iters, float *sink) {
#if defined(__x86_64__) || defined(_M_X64)
  if (fa_cpu_has(FA_ISA_AVX2)) return fa_f32_peak__avx2(iters, sink);
#endif
#if defined(__aarch64__)
  if (fa_cpu_has(FA_ISA_NEON)) return fa_f32_peak__neon(iters, sink);
#endif
  return fa_f32_peak__scalar(iters, sink);
}

typedef struct linear_task {
  const fa_linear_f32_params *p;
  fa_linear_f32_fn fn;
  char *workspace;
  size_t per_thread;
} linear_task;

static void linear_run_job(void *ctx, size_t job, size_t worker) {
  const linear_task *t = (const linear_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

static int linear_params_valid(const fa_linear_f32_params *p) {
  return fa_dense_f32_params_valid(&p->attn) && !p->attn.mask &&
         p->attn.band_lo == -FA_BAND_NONE && p->attn.lk > 0 &&
         (p->feature_map == FA_FEATURE_ELU1 || p->feature_map == FA_FEATURE_RELU);
}

fa_status fa_linear_f32(const fa_linear_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  if (!p || index >= fa_linear_f32_nvariants) return FA_ERR_INVALID;
  if (!linear_params_valid(p)) return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_linear_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->attn.lq == 0) return FA_OK;
  const size_t per_thread = fa_linear_f32_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  linear_task task = {p, fa_linear_f32_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(p->attn.batch * p->attn.heads, nthreads, linear_run_job, &task);
}
