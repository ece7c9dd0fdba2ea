/* The shared half of the decode entry points (see decode/run.h). */
#include "common/target.h"
FA_EXACT_FP /* the merge is part of the int8 arithmetic, bit for bit */

#include "decode/run.h"

#include <math.h>
#include <string.h>

#include "common/split.h"
#include "fastattn/pool.h" /* FA_MAX_THREADS */

typedef struct plan {
  size_t per_thread, qprep_off, partials_off, total, nsplits, rows, part_stride;
} plan;

static plan make_plan(const fa_decode_task *t, size_t qrow_bytes, size_t nthreads) {
  plan l;
  l.rows = t->heads / t->kv_heads * t->lq;
  l.nsplits = fa_split_count(t->lk, FA_DECODE_SPLIT);
  l.part_stride = t->dv + 2;
  l.per_thread = fa_round_up(fa_decode_thread_bytes(l.rows, t->dv), 64);
  l.qprep_off = fa_split_workspace(&(fa_split_run){.batch = t->batch, .groups = t->kv_heads,
                                                   .workspace = l.per_thread},
                                   nthreads);
  l.partials_off = fa_round_up(l.qprep_off + t->batch * t->heads * t->lq * qrow_bytes, 64);
  const size_t parts =
      l.nsplits > 1 ? t->batch * t->kv_heads * l.nsplits * l.rows * l.part_stride : 0;
  l.total = l.partials_off + parts * sizeof(float) + 64; /* 64: room to align the base */
  return l;
}

size_t fa_decode_workspace(const fa_decode_task *t, size_t qrow_bytes, size_t nthreads) {
  return make_plan(t, qrow_bytes, nthreads).total;
}

/* out row = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s over the splits s. */
static void merge(const void *params, size_t b, size_t kh) {
  const fa_decode_task *t = (const fa_decode_task *)params;
  const size_t ps = t->part_stride, split_stride = t->rows * ps;
  for (size_t r = 0; r < t->rows; r++) {
    const size_t h = kh * t->group + r / t->lq, i = r % t->lq;
    float *orow = t->out + (ptrdiff_t)b * t->out_stride[0] + (ptrdiff_t)h * t->out_stride[1] +
                  (ptrdiff_t)i * t->out_stride[2];
    const float *first = t->partials + (b * t->kv_heads + kh) * t->nsplits * split_stride + r * ps;
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
      const float w = fa_decode_exp2(part[0] - top);
      total += w * part[1];
      for (size_t x = 0; x < t->dv; x++) orow[x] += w * part[2 + x];
    }
    const float inv = 1.0f / total;
    for (size_t x = 0; x < t->dv; x++) orow[x] *= inv;
  }
}

fa_status fa_decode_run(fa_decode_task *t, size_t qrow_bytes, fa_decode_prep_fn prep,
                        const fa_variant *table, size_t nvariants, size_t index,
                        size_t nthreads, void *workspace, size_t workspace_size) {
  if (nthreads == 0 || nthreads > FA_MAX_THREADS) return FA_ERR_THREADS;
  if (t->batch == 0 || t->heads == 0 || t->lq == 0) return FA_OK;
  const plan l = make_plan(t, qrow_bytes, nthreads);
  if (!workspace || workspace_size < l.total) return FA_ERR_WORKSPACE;
  char *base = (char *)(((size_t)workspace + 63) & ~(size_t)63);
  char *dst = base + l.qprep_off;
  memset(dst, 0, t->batch * t->heads * t->lq * qrow_bytes);
  for (size_t b = 0; b < t->batch; b++)
    for (size_t h = 0; h < t->heads; h++)
      for (size_t i = 0; i < t->lq; i++, dst += qrow_bytes)
        prep(t->q + (ptrdiff_t)b * t->q_stride[0] + (ptrdiff_t)h * t->q_stride[1] +
                 (ptrdiff_t)i * t->q_stride[2],
             t->d, t->scale * FA_LOG2E, dst);
  t->nsplits = l.nsplits;
  t->rows = l.rows;
  t->group = t->heads / t->kv_heads;
  t->part_stride = l.part_stride;
  t->qrow_bytes = qrow_bytes;
  t->qprep = base + l.qprep_off;
  t->partials = l.nsplits > 1 ? (float *)(void *)(base + l.partials_off) : NULL;
  const fa_split_run run = {t, t->batch, t->kv_heads, t->lk, FA_DECODE_SPLIT, l.per_thread,
                            merge};
  return fa_drive_split(&run, table, nvariants, index, nthreads, base, l.qprep_off);
}
