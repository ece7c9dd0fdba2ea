/* Decode driver: variant tables, validation, query preparation, the parallel split
 * over (batch, kv head, key split) and the exact merge of the splits.
 * Built with no ISA flags. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "decode/engine.h"
#include "decode/kernels.h"
#include "fastattn/dense.h" /* fa_dense_f32_check */
#include "fastattn/pool.h"

const fa_decode_variant fa_decode_f32_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"f32-avx2", FA_ISA_avx2, fa_decode_f32__avx2},
#endif
#if defined(__aarch64__)
    {"f32-neon", FA_ISA_neon, fa_decode_f32__neon},
#endif
    {"f32-scalar", FA_ISA_scalar, fa_decode_f32__scalar},
};
const size_t fa_decode_f32_nvariants = sizeof(fa_decode_f32_variants) / sizeof(fa_decode_f32_variants[0]);

const fa_decode_variant fa_decode_i8_variants[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"i8-avx2", FA_ISA_avx2, fa_decode_i8__avx2},
#endif
#if defined(__aarch64__)
    {"i8-neondot", FA_ISA_neondot, fa_decode_i8__neondot},
    {"i8-neon", FA_ISA_neon, fa_decode_i8__neon},
#endif
    {"i8-scalar", FA_ISA_scalar, fa_decode_i8__scalar},
};
const size_t fa_decode_i8_nvariants = sizeof(fa_decode_i8_variants) / sizeof(fa_decode_i8_variants[0]);

static size_t pick(const fa_decode_variant *table, size_t n, fa_isa cap) {
  for (size_t i = 0; i < n; i++)
    if (fa_isa_allowed(table[i].isa, cap)) return i;
  return n - 1;
}

size_t fa_decode_f32_pick(fa_isa cap) {
  return pick(fa_decode_f32_variants, fa_decode_f32_nvariants, cap);
}

size_t fa_decode_i8_pick(fa_isa cap) {
  return pick(fa_decode_i8_variants, fa_decode_i8_nvariants, cap);
}

/* Prepared query rows. float32: q * scale * log2 e, zero-padded to a multiple of 16.
 * int8: a 16-byte header holding the float qc = q_scale * (scale * log2 e), then the
 * int8 row zero-padded to a multiple of 32. */
static size_t qrow_bytes_f32(size_t d) { return fa_round_up(d, 16) * sizeof(float); }
static size_t qrow_bytes_i8(size_t d) { return fa_round_up(16 + fa_round_up(d, 32), 64); }

/* The sizes shared by both dtypes: workspace slices, then queries, then partials. */
typedef struct layout {
  size_t per_thread, qprep_off, partials_off, total, nsplits, rows, part_stride, qrow_bytes;
} layout;

static layout plan(size_t batch, size_t heads, size_t kv_heads, size_t lq, size_t lk,
                   size_t dv, size_t qrow_bytes, size_t nthreads) {
  layout l;
  l.rows = heads / kv_heads * lq;
  l.nsplits = lk == 0 ? 1 : (lk + FA_DECODE_SPLIT - 1) / FA_DECODE_SPLIT;
  l.part_stride = dv + 2;
  l.qrow_bytes = qrow_bytes;
  l.per_thread = fa_round_up(fa_decode_thread_bytes(l.rows, dv), 64);
  l.qprep_off = nthreads * l.per_thread;
  l.partials_off = fa_round_up(l.qprep_off + batch * heads * lq * qrow_bytes, 64);
  const size_t parts = l.nsplits > 1 ? batch * kv_heads * l.nsplits * l.rows * l.part_stride : 0;
  l.total = l.partials_off + parts * sizeof(float) + 64; /* 64: room to align the base */
  return l;
}

static layout plan_f32(const fa_dense_f32_params *p, size_t nthreads) {
  return plan(p->batch, p->heads, p->kv_heads, p->lq, p->lk, p->dv, qrow_bytes_f32(p->d),
              nthreads);
}

static layout plan_i8(const fa_decode_i8_params *p, size_t nthreads) {
  return plan(p->batch, p->heads, p->kv_heads, p->lq, p->lk, p->dv, qrow_bytes_i8(p->d),
              nthreads);
}

size_t fa_decode_f32_workspace_size(const fa_dense_f32_params *p, size_t nthreads) {
  return plan_f32(p, nthreads).total;
}

size_t fa_decode_i8_workspace_size(const fa_decode_i8_params *p, size_t nthreads) {
  return plan_i8(p, nthreads).total;
}

static const float *q_row(const float *q, const ptrdiff_t *st, size_t b, size_t h, size_t i) {
  return q + (ptrdiff_t)b * st[0] + (ptrdiff_t)h * st[1] + (ptrdiff_t)i * st[2];
}

static void prep_q_f32(const fa_dense_f32_params *p, char *dst, size_t row_bytes) {
  const float c = p->scale * FA_LOG2E;
  for (size_t b = 0; b < p->batch; b++)
    for (size_t h = 0; h < p->heads; h++)
      for (size_t i = 0; i < p->lq; i++, dst += row_bytes) {
        const float *src = q_row(p->q, p->q_stride, b, h, i);
        float *row = (float *)(void *)dst;
        memset(row, 0, row_bytes);
        for (size_t x = 0; x < p->d; x++) row[x] = src[x] * c;
      }
}

/* Symmetric int8 per row, round half to even: the float32 steps of reference/decode_int8.py. */
static void prep_q_i8(const fa_decode_i8_params *p, char *dst, size_t row_bytes) {
  const volatile float magic_v = 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v, c = p->scale * FA_LOG2E;
  for (size_t b = 0; b < p->batch; b++)
    for (size_t h = 0; h < p->heads; h++)
      for (size_t i = 0; i < p->lq; i++, dst += row_bytes) {
        const float *src = q_row(p->q, p->q_stride, b, h, i);
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

typedef struct run_ctx {
  const fa_decode_task *t;
  fa_decode_fn fn;
  char *slices;
  size_t per_thread;
} run_ctx;

static void run_job(void *ctx, size_t job, size_t worker) {
  const run_ctx *c = (const run_ctx *)ctx;
  c->fn(c->t, job, c->slices + worker * c->per_thread);
}

/* out row = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s over the splits s. */
static void merge_job(void *ctx, size_t bkv, size_t worker) {
  (void)worker;
  const fa_decode_task *t = ((const run_ctx *)ctx)->t;
  const size_t b = bkv / t->kv_heads, kh = bkv % t->kv_heads, ps = t->part_stride;
  const size_t split_stride = t->rows * ps;
  for (size_t r = 0; r < t->rows; r++) {
    const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
    float *orow = t->out + (ptrdiff_t)b * t->out_stride[0] + (ptrdiff_t)h * t->out_stride[1] +
                  (ptrdiff_t)i * t->out_stride[2];
    const float *first = t->partials + bkv * t->nsplits * split_stride + r * ps;
    float top = -INFINITY;
    int nan = 0;
    for (size_t s = 0; s < t->nsplits; s++) {
      const float m = first[s * split_stride];
      nan |= m != m;
      top = m > top ? m : top;
    }
    if (nan || top == -INFINITY) { /* NaN input: NaN row, as the reference; no key: zeros */
      for (size_t x = 0; x < t->dv; x++) orow[x] = nan ? NAN : 0.0f;
      continue;
    }
    memset(orow, 0, t->dv * sizeof(float));
    float total = 0.0f;
    for (size_t s = 0; s < t->nsplits; s++) {
      const float *part = first + s * split_stride;
      if (part[0] == -INFINITY) continue;
      const float w = exp2f(part[0] - top);
      total += w * part[1];
      for (size_t x = 0; x < t->dv; x++) orow[x] += w * part[2 + x];
    }
    const float inv = 1.0f / total;
    for (size_t x = 0; x < t->dv; x++) orow[x] *= inv;
  }
}

static fa_status run(fa_decode_task *t, const layout *l, fa_decode_fn fn, size_t nthreads,
                     char *base) {
  t->nsplits = l->nsplits;
  t->rows = l->rows;
  t->group = t->heads / t->kv_heads;
  t->part_stride = l->part_stride;
  t->qrow_bytes = l->qrow_bytes;
  t->qprep = base + l->qprep_off;
  t->partials = l->nsplits > 1 ? (float *)(void *)(base + l->partials_off) : NULL;
  run_ctx ctx = {t, fn, base, l->per_thread};
  const size_t groups = t->batch * t->kv_heads;
  fa_status st = fa_parallel_for(groups * l->nsplits, nthreads, run_job, &ctx);
  if (st != FA_OK || !t->partials) return st;
  return fa_parallel_for(groups, nthreads, merge_job, &ctx);
}

static char *align64(void *p) { return (char *)(((size_t)p + 63) & ~(size_t)63); }

fa_status fa_decode_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  if (!p || index >= fa_decode_f32_nvariants || fa_dense_f32_check(p) != FA_OK)
    return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_decode_f32_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->lq == 0) return FA_OK;
  const layout l = plan_f32(p, nthreads);
  if (!workspace || workspace_size < l.total) return FA_ERR_WORKSPACE;
  char *base = align64(workspace);
  prep_q_f32(p, base + l.qprep_off, l.qrow_bytes);
  fa_decode_task t = {
      .batch = p->batch, .heads = p->heads, .kv_heads = p->kv_heads, .lq = p->lq,
      .lk = p->lk, .d = p->d, .dv = p->dv, .k = (const char *)p->k, .v = (const char *)p->v,
      .elem = sizeof(float), .out = p->out, .mask = p->mask,
      .band_lo = p->band_lo, .band_hi = p->band_hi};
  memcpy(t.k_stride, p->k_stride, sizeof(t.k_stride));
  memcpy(t.v_stride, p->v_stride, sizeof(t.v_stride));
  memcpy(t.out_stride, p->out_stride, sizeof(t.out_stride));
  memcpy(t.mask_stride, p->mask_stride, sizeof(t.mask_stride));
  return run(&t, &l, fa_decode_f32_variants[index].fn, nthreads, base);
}

static int i8_params_valid(const fa_decode_i8_params *p) {
  if (!p->q || !p->k || !p->v || !p->out || !p->k_scale || !p->v_scale) return 0;
  if (p->batch == 0 || p->heads == 0 || p->kv_heads == 0 || p->d == 0 || p->dv == 0) return 0;
  if (p->heads % p->kv_heads != 0 || p->band_lo > p->band_hi) return 0;
  const size_t big = (size_t)1 << 40; /* keeps every index product far from overflow */
  /* d < 2^16 keeps |q.k| <= d * 127^2 below 2^31 */
  return p->batch < big && p->heads < big && p->lq < big && p->lk < big && p->d < (1u << 16) &&
         p->dv < (1u << 16);
}

fa_status fa_decode_i8(const fa_decode_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  if (!p || index >= fa_decode_i8_nvariants || !i8_params_valid(p)) return FA_ERR_INVALID;
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_INVALID;
  if (!fa_cpu_has(fa_decode_i8_variants[index].isa)) return FA_ERR_UNSUPPORTED;
  if (p->lq == 0) return FA_OK;
  const layout l = plan_i8(p, nthreads);
  if (!workspace || workspace_size < l.total) return FA_ERR_WORKSPACE;
  char *base = align64(workspace);
  prep_q_i8(p, base + l.qprep_off, l.qrow_bytes);
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
  return run(&t, &l, fa_decode_i8_variants[index].fn, nthreads, base);
}
