/* Decode float32: its variants, checks, query preparation and entry point; decode/run.c
 * and the split-K driver (common/split.c) do the rest. Built with no ISA flags. */
#include <string.h>

#include "decode/run.h"
#include "fastattn/pool.h" /* FA_MAX_THREADS */
#include "fastattn/dense.h" /* fa_dense_f32_check */

#define FA_OP decode
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

/* A prepared query row: q * scale * log2 e, zero-padded to a multiple of 16 floats. */
static size_t qrow_bytes(size_t d) { return fa_round_up(d, 16) * sizeof(float); }

static fa_decode_plan plan(const fa_dense_f32_params *p, size_t nthreads) {
  return fa_decode_make_plan(p->batch, p->heads, p->kv_heads, p->lq, p->lk, p->dv,
                             qrow_bytes(p->d), nthreads);
}

size_t fa_decode_f32_workspace_size(const fa_dense_f32_params *p, size_t nthreads) {
  return plan(p, nthreads).total;
}

static void prep_q(const fa_dense_f32_params *p, char *dst, size_t row_bytes) {
  const float c = p->scale * FA_LOG2E;
  for (size_t b = 0; b < p->batch; b++)
    for (size_t h = 0; h < p->heads; h++)
      for (size_t i = 0; i < p->lq; i++, dst += row_bytes) {
        const float *src = p->q + (ptrdiff_t)b * p->q_stride[0] + (ptrdiff_t)h * p->q_stride[1] +
                           (ptrdiff_t)i * p->q_stride[2];
        float *row = (float *)(void *)dst;
        memset(row, 0, row_bytes);
        for (size_t x = 0; x < p->d; x++) row[x] = src[x] * c;
      }
}

fa_status fa_decode_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  const fa_status s = p ? fa_dense_f32_check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (p->batch == 0 || p->heads == 0 || p->lq == 0) return FA_OK;
  const fa_decode_plan l = plan(p, nthreads);
  if (!workspace || workspace_size < l.total) return FA_ERR_WORKSPACE;
  char *base = fa_decode_base(workspace);
  prep_q(p, base + l.qprep_off, l.qrow_bytes);
  fa_decode_task t = {
      .batch = p->batch, .heads = p->heads, .kv_heads = p->kv_heads, .lq = p->lq,
      .lk = p->lk, .d = p->d, .dv = p->dv, .k = (const char *)p->k, .v = (const char *)p->v,
      .elem = sizeof(float), .out = p->out, .mask = p->mask,
      .band_lo = p->band_lo, .band_hi = p->band_hi};
  memcpy(t.k_stride, p->k_stride, sizeof(t.k_stride));
  memcpy(t.v_stride, p->v_stride, sizeof(t.v_stride));
  memcpy(t.out_stride, p->out_stride, sizeof(t.out_stride));
  memcpy(t.mask_stride, p->mask_stride, sizeof(t.mask_stride));
  return fa_decode_run(&t, &l, fa_decode_f32_variants, fa_decode_f32_nvariants, index, nthreads,
                       base);
}
