/* Decode float32: its variants, checks, query preparation and entry point; decode/run.c
 * and the split-K driver (common/split.c) do the rest. Built with no ISA flags. */
#include "decode/run.h"
#include "fastattn/dense.h" /* fa_dense_f32_check */

#define FA_OP decode
#define FA_DTYPE f32
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

/* A prepared query row: q * scale * log2 e, zero-padded to a multiple of 16 floats. */
static size_t qrow_bytes(size_t d) { return fa_round_up(d, 16) * sizeof(float); }

static void prep_row(const float *src, size_t d, float c, char *dst) {
  float *row = (float *)(void *)dst;
  for (size_t x = 0; x < d; x++) row[x] = src[x] * c;
}

size_t fa_decode_f32_workspace_size(const fa_dense_f32_params *p, size_t nthreads) {
  const fa_decode_task t = FA_DECODE_TASK(p, sizeof(float));
  return fa_decode_workspace(&t, qrow_bytes(p->d), nthreads);
}

fa_status fa_decode_f32(const fa_dense_f32_params *p, size_t index, size_t nthreads,
                        void *workspace, size_t workspace_size) {
  const fa_status s = p ? fa_dense_f32_check(p) : FA_ERR_NULL;
  if (s != FA_OK) return s;
  fa_decode_task t = FA_DECODE_TASK(p, sizeof(float));
  return fa_decode_run(&t, qrow_bytes(p->d), prep_row, fa_decode_f32_variants,
                       fa_decode_f32_nvariants, index, nthreads, workspace, workspace_size);
}
