/* int8 GEMM driver: the variant table, activation quantisation, validation and the
 * parallel split. Built with no ISA flags. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* must match the reference bit for bit */
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* clang contracts a * b + c within an expression by default */
#endif

#include <string.h>

#include "fastattn/pool.h"
#include "gemm/job-i8.h"
#include "gemm/kernels-i8.h"

const fa_gemm_i8_variant fa_gemm_i8_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"i8-avx512vnni", FA_ISA_AVX512VNNI, fa_gemm_i8__avx512vnni},
    {"i8-avx2", FA_ISA_AVX2, fa_gemm_i8__avx2},
#endif
#if defined(__aarch64__)
    {"i8-neondot", FA_ISA_NEONDOT, fa_gemm_i8__neondot},
    {"i8-neon", FA_ISA_NEON, fa_gemm_i8__neon},
#endif
    {"i8-scalar", FA_ISA_SCALAR, fa_gemm_i8__scalar},
};
const size_t fa_gemm_i8_nvariants = sizeof(fa_gemm_i8_variants) / sizeof(fa_gemm_i8_variants[0]);

size_t fa_gemm_i8_pick(fa_isa cap) {
  for (size_t i = 0; i < fa_gemm_i8_nvariants; i++)
    if (fa_isa_allowed(fa_gemm_i8_variants[i].isa, cap)) return i;
  return fa_gemm_i8_nvariants - 1;
}

fa_status fa_gemm_i8_quantize_rows(const fa_gemm_i8_params *p, size_t m0, size_t m1) {
  const volatile float magic_v = 12582912.0f; /* 1.5 · 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v;
  for (size_t m = m0; m < m1; m++) {
    const float *x = p->x + (ptrdiff_t)m * p->x_stride;
    int8_t *q = p->xq + m * p->kp;
    uint32_t mbits = 0; /* max |x| as bit patterns, which order like the values */
    for (size_t c = 0; c < p->k; c++) {
      uint32_t bits;
      memcpy(&bits, x + c, 4);
      bits &= 0x7FFFFFFFu;
      mbits = bits > mbits ? bits : mbits;
    }
    if (mbits >= 0x7F800000u) return FA_ERR_INVALID; /* NaN or inf */
    float amax;
    memcpy(&amax, &mbits, 4);
    const float s = amax == 0.0f ? 1.0f : amax / 127.0f;
    int32_t sum = 0;
    for (size_t c = 0; c < p->k; c++) {
      float y = (x[c] / s + magic) - magic;
      y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
      q[c] = (int8_t)y;
      sum += q[c];
    }
    memset(q + p->k, 0, p->kp - p->k);
    p->x_scale[m] = s;
    p->x_sum[m] = sum;
  }
  return FA_OK;
}

#define QUANT_ROWS 64

typedef struct gemm_i8_task {
  const fa_gemm_i8_params *p;
  fa_gemm_i8_fn fn;
  int failed; /* set (never cleared) by any job that sees a non-finite input */
} gemm_i8_task;

static void quantize_job(void *ctx, size_t job, size_t worker) {
  (void)worker;
  gemm_i8_task *t = (gemm_i8_task *)ctx;
  const size_t m0 = job * QUANT_ROWS, m1 = m0 + QUANT_ROWS < t->p->m ? m0 + QUANT_ROWS : t->p->m;
  if (fa_gemm_i8_quantize_rows(t->p, m0, m1) != FA_OK) t->failed = 1;
}

static void gemm_job(void *ctx, size_t job, size_t worker) {
  (void)worker;
  const gemm_i8_task *t = (const gemm_i8_task *)ctx;
  t->fn(t->p, job);
}

static int params_valid(const fa_gemm_i8_params *p) {
  if (!p->xq || !p->x_scale || !p->x_sum || !p->w || !p->w_scale || !p->bias || !p->out)
    return 0;
  if (p->m == 0 || p->n == 0 || p->k == 0) return 0;
  if (p->kp % FA_GEMM_I8_KALIGN != 0 || p->kp < p->k || p->kp - p->k >= FA_GEMM_I8_KALIGN)
    return 0;
  if (p->out_stride < (ptrdiff_t)p->n || (p->x && p->x_stride < (ptrdiff_t)p->k)) return 0;
  return p->m < ((size_t)1 << 40) && p->n < ((size_t)1 << 40);
}

fa_status fa_gemm_i8(const fa_gemm_i8_params *p, size_t index, size_t nthreads) {
  if (!p || index >= fa_gemm_i8_nvariants || nthreads == 0 || nthreads > FA_MAX_THREADS)
    return FA_ERR_INVALID;
  if (p->k > FA_GEMM_I8_KMAX) return FA_ERR_OVERFLOW;
  if (!params_valid(p)) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_gemm_i8_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  gemm_i8_task task = {p, fa_gemm_i8_variants[index].fn, 0};
  fa_status status;
  if (p->x) {
    status = fa_parallel_for((p->m + QUANT_ROWS - 1) / QUANT_ROWS, nthreads, quantize_job, &task);
    if (status != FA_OK) return status;
    if (task.failed) return FA_ERR_INVALID;
  }
  return fa_parallel_for(fa_gemm_i8_njobs(p), nthreads, gemm_job, &task);
}
