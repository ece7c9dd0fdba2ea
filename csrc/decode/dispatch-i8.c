/* Decode int8 (the cache's format): its variants, checks, query quantisation and entry
 * point; decode/run.c and the split-K driver (common/split.c) do the rest. Built with no
 * ISA flags. */
#include <math.h>
#include <string.h>

#include "common/driver.h" /* FA_CHECK_ATTN, fa_check_view */
#include "decode/run.h"

#define FA_OP decode
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

/* A prepared query row: a 16-byte header holding the float qc = q_scale * scale * log2 e
 * and the int32 sum of the row (for kernels that offset keys to unsigned), then the int8
 * row zero-padded to a multiple of 64. */
static size_t qrow_bytes(size_t d) { return fa_round_up(16 + fa_round_up(d, 64), 64); }

static fa_status check(const fa_decode_i8_params *p) {
  const size_t sizes[7] = {p->batch, p->heads, p->kv_heads, p->lq, p->lk, p->d, p->dv};
  const fa_view views[5] = {{p->q, p->q_len, p->q_stride},
                            {p->k, p->k_len, NULL}, /* groups of 16 tokens: below */
                            {p->v, p->v_len, NULL}, /* groups of 4 tokens: below */
                            {p->out, p->out_len, p->out_stride},
                            {p->mask, p->mask_len, p->mask_stride}};
  fa_status s = fa_check_attn(sizes, p->band_lo, p->band_hi, views);
  if (s != FA_OK) return s;
  const size_t kgroups[4] = {p->batch, p->kv_heads, (p->lk + 15) / 16, 16 * fa_round_up(p->d, 4)};
  const size_t vgroups[4] = {p->batch, p->kv_heads, (p->lk + 3) / 4, 4 * p->dv};
  s = fa_check_view(p->k, p->k_len, kgroups, p->k_stride);
  if (s == FA_OK) s = fa_check_view(p->v, p->v_len, vgroups, p->v_stride);
  if (s != FA_OK) return s;
  for (size_t b = 0; b < p->batch; b++) /* q is quantised per row: it must be finite */
    for (size_t h = 0; h < p->heads; h++)
      for (size_t i = 0; i < p->lq; i++) {
        const float *row = p->q + (ptrdiff_t)b * p->q_stride[0] + (ptrdiff_t)h * p->q_stride[1] +
                           (ptrdiff_t)i * p->q_stride[2];
        uint32_t bits = 0;
        for (size_t x = 0; x < p->d; x++) {
          uint32_t u;
          memcpy(&u, row + x, sizeof(u));
          bits = (u & 0x7FFFFFFFu) > bits ? u & 0x7FFFFFFFu : bits;
        }
        if (bits >= 0x7F800000u) return FA_ERR_NONFINITE; /* NaN or inf */
      }
  const size_t scales[4] = {p->batch, p->kv_heads, 1, p->lk};
  const ptrdiff_t ks[3] = {p->k_scale_stride[0], p->k_scale_stride[1], 0};
  const ptrdiff_t vs[3] = {p->v_scale_stride[0], p->v_scale_stride[1], 0};
  s = fa_check_view(p->k_scale, p->k_scale_len, scales, ks);
  return s != FA_OK ? s : fa_check_view(p->v_scale, p->v_scale_len, scales, vs);
}

/* Symmetric int8 per row, round half to even: the float32 steps of reference/decode_int8.py. */
static void prep_row(const float *src, size_t d, float c, char *dst) {
  const volatile float magic_v = 12582912.0f; /* 1.5 * 2^23: (y + magic) - magic = rint(y) */
  const float magic = magic_v;
  float amax = 0.0f;
  for (size_t x = 0; x < d; x++) {
    const float a = fabsf(src[x]);
    amax = a > amax ? a : amax;
  }
  const float qscale = amax == 0.0f ? 1.0f : amax / 127.0f;
  const float qc = qscale * c;
  memcpy(dst, &qc, sizeof(float));
  int8_t *row = (int8_t *)(dst + 16);
  int32_t sum = 0; /* |sum| <= 127 d < 2^23 */
  for (size_t x = 0; x < d; x++) {
    float y = (src[x] / qscale + magic) - magic;
    y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
    row[x] = (int8_t)y;
    sum += row[x];
  }
  memcpy(dst + 4, &sum, sizeof(sum));
}

static fa_decode_task task(const fa_decode_i8_params *p) {
  fa_decode_task t = FA_DECODE_TASK(p, 1);
  t.k_scale = p->k_scale, t.v_scale = p->v_scale;
  t.k_scale_stride = p->k_scale_stride, t.v_scale_stride = p->v_scale_stride;
  return t;
}

size_t fa_decode_i8_workspace_size(const fa_decode_i8_params *p, size_t nthreads) {
  const fa_decode_task t = task(p);
  return fa_decode_workspace(&t, qrow_bytes(p->d), nthreads);
}

fa_status fa_decode_i8(const fa_decode_i8_params *p, size_t index, size_t nthreads,
                       void *workspace, size_t workspace_size) {
  const fa_status s = p ? check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  fa_decode_task t = task(p);
  return fa_decode_run(&t, qrow_bytes(p->d), prep_row, fa_decode_i8_variants,
                       fa_decode_i8_nvariants, index, nthreads, workspace, workspace_size);
}
