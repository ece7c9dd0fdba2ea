/* Decode int8 (the cache's format): its variants, checks, query quantisation and entry
 * point; decode/run.c and the split-K driver (common/split.c) do the rest. Built with no
 * ISA flags. */
#include <math.h>
#include <string.h>

#include "common/driver.h" /* FA_CHECK_ATTN, fa_check_view */
#include "decode/run.h"
#include "fastattn/pool.h" /* FA_MAX_THREADS */

#define FA_OP decode
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

/* A prepared query row: a 16-byte header holding the float qc = q_scale * scale * log2 e,
 * then the int8 row zero-padded to a multiple of 32. */
static size_t qrow_bytes(size_t d) { return fa_round_up(16 + fa_round_up(d, 32), 64); }

static fa_decode_plan plan(const fa_decode_i8_params *p, size_t nthreads) {
  return fa_decode_make_plan(p->batch, p->heads, p->kv_heads, p->lq, p->lk, p->dv,
                             qrow_bytes(p->d), nthreads);
}

size_t fa_decode_i8_workspace_size(const fa_decode_i8_params *p, size_t nthreads) {
  return plan(p, nthreads).total;
}

static fa_status check(const fa_decode_i8_params *p) {
  fa_status s = FA_CHECK_ATTN(p);
  if (s != FA_OK) return s;
  const size_t scales[4] = {p->batch, p->kv_heads, 1, p->lk};
  const ptrdiff_t ks[3] = {p->k_scale_stride[0], p->k_scale_stride[1], 0};
  const ptrdiff_t vs[3] = {p->v_scale_stride[0], p->v_scale_stride[1], 0};
  s = fa_check_view(p->k_scale, p->k_scale_len, scales, ks);
  return s != FA_OK ? s : fa_check_view(p->v_scale, p->v_scale_len, scales, vs);
}

/* Symmetric int8 per row, round half to even: the float32 steps of reference/decode_int8.py. */
static void prep_q(const fa_decode_i8_params *p, char *dst, size_t row_bytes) {
  const volatile float magic_v = 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v, c = p->scale * FA_LOG2E;
  for (size_t b = 0; b < p->batch; b++)
    for (size_t h = 0; h < p->heads; h++)
      for (size_t i = 0; i < p->lq; i++, dst += row_bytes) {
        const float *src = p->q + (ptrdiff_t)b * p->q_stride[0] + (ptrdiff_t)h * p->q_stride[1] +
                           (ptrdiff_t)i * p->q_stride[2];
        float amax = 0.0f;
        for (size_t x = 0; x < p->d; x++) {
          const float a = fabsf(src[x]);
          amax = a > amax ? a : amax;
        }
        const float qscale = amax == 0.0f ? 1.0f : amax / 127.0f;
        memset(dst, 0, row_bytes);
        const float qc = qscale * c;
        memcpy(dst, &qc, sizeof(float));
        int8_t *row = (int8_t *)(dst + 16);
        for (size_t x = 0; x < p->d; x++) {
          float y = (src[x] / qscale + magic) - magic;
          y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
          row[x] = (int8_t)y;
        }
      }
}

fa_status fa_decode_i8(const fa_decode_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  const fa_status s = p ? check(p) : FA_ERR_NULL;
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
      .elem = 1, .k_scale = p->k_scale, .v_scale = p->v_scale, .out = p->out,
      .mask = p->mask, .band_lo = p->band_lo, .band_hi = p->band_hi};
  memcpy(t.k_stride, p->k_stride, sizeof(t.k_stride));
  memcpy(t.v_stride, p->v_stride, sizeof(t.v_stride));
  memcpy(t.k_scale_stride, p->k_scale_stride, sizeof(t.k_scale_stride));
  memcpy(t.v_scale_stride, p->v_scale_stride, sizeof(t.v_scale_stride));
  memcpy(t.out_stride, p->out_stride, sizeof(t.out_stride));
  memcpy(t.mask_stride, p->mask_stride, sizeof(t.mask_stride));
  return fa_decode_run(&t, &l, fa_decode_i8_variants, fa_decode_i8_nvariants, index, nthreads,
                       base);
}
