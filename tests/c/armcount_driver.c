/* The project's driver for /work/shared/tools/armcount (its run.sh uses this file when
 * present): runs one dense attention kernel variant, by name, `calls` times on a
 * (1, heads, L, L, 64) problem, single-threaded, so that an instruction counter sees only
 * that kernel:
 *   armcount_driver VARIANT L HEADS CALLS      (VARIANT: f32-neon, i8-neondot, ...)
 * Exits 0 when every call returned FA_OK. tests/c/run.sh also builds and runs it in CI. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fastattn/dense.h"
#include "fastattn/dense_i8.h"

static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (unsigned)rs; }

static size_t find(const fa_variant *table, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(table[i].name, name) == 0) return i;
  fprintf(stderr, "no variant %s\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: driver VARIANT L HEADS CALLS\n"); return 2; }
  const char *name = argv[1];
  const size_t L = strtoul(argv[2], 0, 10), H = strtoul(argv[3], 0, 10), D = 64;
  const int calls = atoi(argv[4]);
  const size_t n = H * L * D, nkb = (L + 63) / 64;
  float *q = malloc(n * 4), *kf = malloc(n * 4), *vf = malloc(n * 4), *out = malloc(n * 4);
  int8_t *k8 = malloc(n), *v8 = malloc(n);
  float *ks = malloc(H * nkb * 4), *vs = malloc(H * D * 4);
  for (size_t i = 0; i < n; i++) {
    q[i] = (float)((int)(rnd() % 2001) - 1000) / 500.0f;
    kf[i] = (float)((int)(rnd() % 2001) - 1000) / 500.0f;
    vf[i] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
    k8[i] = (int8_t)(rnd() % 255 - 127), v8[i] = (int8_t)(rnd() % 255 - 127);
  }
  for (size_t i = 0; i < H * nkb; i++) ks[i] = 0.016f;
  for (size_t i = 0; i < H * D; i++) vs[i] = 0.008f;
  const ptrdiff_t st[3] = {(ptrdiff_t)(H * L * D), (ptrdiff_t)(L * D), (ptrdiff_t)D};
  fa_status status = FA_OK;
  if (strncmp(name, "f32-", 4) == 0) {
    fa_dense_f32_params p;
    memset(&p, 0, sizeof p);
    p.q = q, p.k = kf, p.v = vf, p.out = out;
    p.q_len = p.k_len = p.v_len = p.out_len = n;
    p.batch = 1, p.heads = H, p.kv_heads = H, p.lq = L, p.lk = L, p.d = D, p.dv = D;
    memcpy(p.q_stride, st, sizeof st), memcpy(p.k_stride, st, sizeof st);
    memcpy(p.v_stride, st, sizeof st), memcpy(p.out_stride, st, sizeof st);
    p.scale = 0.125f, p.band_lo = -FA_BAND_NONE, p.band_hi = FA_BAND_NONE;
    const size_t vi = find(fa_dense_f32_variants, fa_dense_f32_nvariants, name);
    const size_t ws = fa_dense_f32_workspace_size(&p);
    void *w = malloc(ws);
    for (int c = 0; c < calls && status == FA_OK; c++) status = fa_dense_f32(&p, vi, 1, w, ws);
  } else {
    fa_dense_i8_params p;
    memset(&p, 0, sizeof p);
    p.q = q, p.k = k8, p.v = v8, p.k_scale = ks, p.v_scale = vs, p.out = out;
    p.q_len = p.k_len = p.v_len = p.out_len = n, p.k_scale_len = H * nkb, p.v_scale_len = H * D;
    p.batch = 1, p.heads = H, p.kv_heads = H, p.lq = L, p.lk = L, p.d = D, p.dv = D;
    p.q_block = 64, p.k_block = 64;
    memcpy(p.q_stride, st, sizeof st), memcpy(p.k_stride, st, sizeof st);
    memcpy(p.v_stride, st, sizeof st), memcpy(p.out_stride, st, sizeof st);
    p.k_scale_stride[0] = (ptrdiff_t)(H * nkb), p.k_scale_stride[1] = (ptrdiff_t)nkb;
    p.v_scale_stride[0] = (ptrdiff_t)(H * D), p.v_scale_stride[1] = (ptrdiff_t)D;
    p.scale = 0.125f, p.band_lo = -FA_BAND_NONE, p.band_hi = FA_BAND_NONE;
    const size_t vi = find(fa_dense_i8_variants, fa_dense_i8_nvariants, name);
    const size_t ws = fa_dense_i8_workspace_size(&p);
    void *w = malloc(ws);
    for (int c = 0; c < calls && status == FA_OK; c++) status = fa_dense_i8(&p, vi, 1, w, ws);
  }
  if (status != FA_OK) {
    fprintf(stderr, "kernel failed: %s\n", fa_status_name(status));
    return 1;
  }
  double s = 0;
  for (size_t i = 0; i < n; i++) s += out[i];
  printf("%s L=%zu H=%zu calls=%d checksum %.6f\n", name, L, H, calls, s);
  return 0;
}
