/* Performer driver: the variant table, validation and the parallel split.
 * Built with no ISA flags. */
#include "dense/kernels.h"
#include "fastattn/pool.h"
#include "performer/job-f32.h"
#include "performer/kernels.h"

const fa_performer_f32_variant fa_performer_f32_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"f32-avx2", FA_ISA_AVX2, fa_performer_f32__avx2},
#endif
#if defined(__aarch64__)
    {"f32-neon", FA_ISA_NEON, fa_performer_f32__neon},
#endif
    {"f32-scalar", FA_ISA_SCALAR, fa_performer_f32__scalar},
};
const size_t fa_performer_f32_nvariants =
    sizeof(fa_performer_f32_variants) / sizeof(fa_performer_f32_variants[0]);

size_t fa_performer_f32_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_performer_f32_nvariants; i++)
    if (fa_isa_allowed(fa_performer_f32_variants[i].isa, cap)) return i;
  return fa_performer_f32_nvariants - 1;
}

size_t fa_performer_f32_workspace_size(const fa_performer_f32_params *p) {
  return fa_performer_f32_job_workspace(p);
}

typedef struct performer_task {
  const fa_performer_f32_params *p;
  fa_performer_f32_fn fn;
  char *workspace;
  size_t per_thread;
} performer_task;

static void performer_run_job(void *ctx, size_t job, size_t worker) {
  const performer_task *t = (const performer_task *)ctx;
  t->fn(t->p, job, t->workspace + worker * t->per_thread);
}

static int performer_params_valid(const fa_performer_f32_params *p) {
  return fa_dense_f32_params_valid(&p->attn) && !p->attn.mask &&
         p->attn.band_lo == -FA_BAND_NONE && p->attn.lk > 0 && p->features && p->m > 0 &&
         p->m < (1u << 16) && p->attn.scale > 0.0f;
}

fa_status fa_performer_f32(const fa_performer_f32_params *p, size_t index, size_t nthreads,
                           void *workspace, size_t workspace_size) {
  if (!p || index >= fa_performer_f32_nvariants) return FA_ERR_INVALID;
  if (!performer_params_valid(p)) return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_performer_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->attn.lq == 0) return FA_OK;
  const size_t per_thread = fa_performer_f32_workspace_size(p);
  if (!workspace || workspace_size / nthreads < per_thread) return FA_ERR_WORKSPACE;
  performer_task task = {p, fa_performer_f32_variants[index].fn, (char *)workspace, per_thread};
  return fa_parallel_for(p->attn.batch * p->attn.heads, nthreads, performer_run_job, &task);
}
