/* The project's driver for /work/shared/tools/armcount (its run.sh uses this file when
 * present): runs one kernel variant, by name, `calls` times on a (1, heads, L, L, 64)
 * problem, single-threaded, so that an instruction counter sees only that kernel:
 *   armcount_driver [OP:]VARIANT[,...] L HEADS CALLS
 * OP is dense (the default: VARIANT f32-neon, i8-neondot, ...), linear, linear-causal
 * (elu+1 features), performer, performer-causal (FA_DRIVER_M random features) or linformer
 * (FA_DRIVER_R projected rows, or L if fewer), each with its f32-* variants, e.g. performer:f32-neon,
 * or decode: one query row per head against L cached keys (f32-* on float K/V, i8-* on the int8
 * cache's grouped layouts), e.g. decode:i8-neondot; count its cost per key row, not per pair.
 * A comma-separated list runs each in turn (tests/c/run.sh does, in CI).
 * Exits 0 when every call returned FA_OK. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fastattn/decode.h"
#include "fastattn/dense.h"
#include "fastattn/dense_i8.h"
#include "fastattn/linear.h"
#include "fastattn/linformer.h"
#include "fastattn/performer.h"

#define FA_DRIVER_D 64
#define FA_DRIVER_M 256 /* Performer features (the API's default num_features) */
#define FA_DRIVER_R 256 /* Linformer rows */

static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (unsigned)rs; }
static float uniform(float divisor) { return (float)((int)(rnd() % 2001) - 1000) / divisor; }

typedef struct inputs {
  size_t L, H, n;
  float *q, *k, *v, *out, *ks, *vs, *features, *proj;
  float *token_ks, *token_vs; /* per-token scales of the int8 cache (decode) */
  int8_t *k8, *v8;
} inputs;

static size_t find(const fa_variant *table, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(table[i].name, name) == 0) return i;
  fprintf(stderr, "no variant %s\n", name);
  exit(2);
}

static void *scratch(size_t bytes) {
  void *w = malloc(bytes + 1);
  if (!w) { fprintf(stderr, "out of memory\n"); exit(2); }
  return w;
}

static void make_inputs(inputs *in, size_t L, size_t H) {
  const size_t D = FA_DRIVER_D, n = H * L * D, nkb = (L + 63) / 64;
  in->L = L, in->H = H, in->n = n;
  in->q = scratch(n * 4), in->k = scratch(n * 4), in->v = scratch(n * 4), in->out = scratch(n * 4);
  in->k8 = scratch(n), in->v8 = scratch(n);
  in->ks = scratch(H * nkb * 4), in->vs = scratch(H * D * 4);
  in->token_ks = scratch(H * L * 4), in->token_vs = scratch(H * L * 4);
  in->features = scratch(FA_DRIVER_M * D * 4), in->proj = scratch(FA_DRIVER_R * L * 4);
  for (size_t i = 0; i < n; i++) {
    in->q[i] = uniform(500.0f), in->k[i] = uniform(500.0f), in->v[i] = uniform(1000.0f);
    in->k8[i] = (int8_t)(rnd() % 255 - 127), in->v8[i] = (int8_t)(rnd() % 255 - 127);
  }
  for (size_t i = 0; i < H * nkb; i++) in->ks[i] = 0.016f;
  for (size_t i = 0; i < H * D; i++) in->vs[i] = 0.008f;
  for (size_t i = 0; i < H * L; i++) in->token_ks[i] = 0.016f, in->token_vs[i] = 0.008f;
  for (size_t i = 0; i < FA_DRIVER_M * D; i++) /* about N(0, 1): a sum of three uniforms */
    in->features[i] = uniform(1000.0f) + uniform(1000.0f) + uniform(1000.0f);
  for (size_t i = 0; i < FA_DRIVER_R * L; i++) in->proj[i] = uniform(500.0f * (float)L);
}

/* `calls` calls of an op's entry point on one thread (the wrappers give every op one type). */
typedef fa_status (*entry_fn)(const void *p, size_t index, void *w, size_t ws);
static fa_status repeat(entry_fn fn, const void *p, size_t index, size_t ws, int calls) {
  void *w = scratch(ws);
  fa_status s = FA_OK;
  for (int c = 0; c < calls && s == FA_OK; c++) s = fn(p, index, w, ws);
  free(w);
  return s;
}
static fa_status call_dense_f32(const void *p, size_t i, void *w, size_t ws) {
  return fa_dense_f32((const fa_dense_f32_params *)p, i, 1, w, ws);
}
static fa_status call_dense_i8(const void *p, size_t i, void *w, size_t ws) {
  return fa_dense_i8((const fa_dense_i8_params *)p, i, 1, w, ws);
}
static fa_status call_decode_f32(const void *p, size_t i, void *w, size_t ws) {
  return fa_decode_f32((const fa_dense_f32_params *)p, i, 1, w, ws);
}
static fa_status call_decode_i8(const void *p, size_t i, void *w, size_t ws) {
  return fa_decode_i8((const fa_decode_i8_params *)p, i, 1, w, ws);
}
static fa_status call_linear(const void *p, size_t i, void *w, size_t ws) {
  return fa_linear_f32((const fa_linear_f32_params *)p, i, 1, w, ws);
}
static fa_status call_performer(const void *p, size_t i, void *w, size_t ws) {
  return fa_performer_f32((const fa_performer_f32_params *)p, i, 1, w, ws);
}
static fa_status call_linformer(const void *p, size_t i, void *w, size_t ws) {
  return fa_linformer_f32((const fa_linformer_f32_params *)p, i, 1, w, ws);
}

/* The attention fields every op shares: one batch, H heads on H kv heads, L x L, D = 64;
 * causal: bottom-right (Lq = Lk, so the diagonal). */
static void attn_fields(fa_dense_f32_params *p, const inputs *in, int causal) {
  const size_t L = in->L, H = in->H, D = FA_DRIVER_D;
  const ptrdiff_t st[3] = {(ptrdiff_t)(H * L * D), (ptrdiff_t)(L * D), (ptrdiff_t)D};
  p->q = in->q, p->k = in->k, p->v = in->v, p->out = in->out;
  p->q_len = p->k_len = p->v_len = p->out_len = in->n;
  p->batch = 1, p->heads = H, p->kv_heads = H, p->lq = L, p->lk = L, p->d = D, p->dv = D;
  memcpy(p->q_stride, st, sizeof st), memcpy(p->k_stride, st, sizeof st);
  memcpy(p->v_stride, st, sizeof st), memcpy(p->out_stride, st, sizeof st);
  p->scale = 0.125f, p->band_lo = -FA_BAND_NONE, p->band_hi = causal ? 0 : FA_BAND_NONE;
}

static fa_status run_dense_f32(const char *name, const inputs *in, int calls) {
  fa_dense_f32_params p;
  memset(&p, 0, sizeof p);
  attn_fields(&p, in, 0);
  return repeat(call_dense_f32, &p, find(fa_dense_f32_variants, fa_dense_f32_nvariants, name),
                fa_dense_f32_workspace_size(&p), calls);
}

static fa_status run_dense_i8(const char *name, const inputs *in, int calls) {
  const size_t L = in->L, H = in->H, D = FA_DRIVER_D, nkb = (L + 63) / 64;
  const ptrdiff_t st[3] = {(ptrdiff_t)(H * L * D), (ptrdiff_t)(L * D), (ptrdiff_t)D};
  fa_dense_i8_params p;
  memset(&p, 0, sizeof p);
  p.q = in->q, p.k = in->k8, p.v = in->v8, p.k_scale = in->ks, p.v_scale = in->vs, p.out = in->out;
  p.q_len = p.k_len = p.v_len = p.out_len = in->n, p.k_scale_len = H * nkb, p.v_scale_len = H * D;
  p.batch = 1, p.heads = H, p.kv_heads = H, p.lq = L, p.lk = L, p.d = D, p.dv = D;
  p.q_block = 64, p.k_block = 64;
  memcpy(p.q_stride, st, sizeof st), memcpy(p.k_stride, st, sizeof st);
  memcpy(p.v_stride, st, sizeof st), memcpy(p.out_stride, st, sizeof st);
  p.k_scale_stride[0] = (ptrdiff_t)(H * nkb), p.k_scale_stride[1] = (ptrdiff_t)nkb;
  p.v_scale_stride[0] = (ptrdiff_t)(H * D), p.v_scale_stride[1] = (ptrdiff_t)D;
  p.scale = 0.125f, p.band_lo = -FA_BAND_NONE, p.band_hi = FA_BAND_NONE;
  return repeat(call_dense_i8, &p, find(fa_dense_i8_variants, fa_dense_i8_nvariants, name),
                fa_dense_i8_workspace_size(&p), calls);
}

/* Decode: the last query row of each head (Lq = 1) against all L keys. */
static fa_status run_decode_f32(const char *name, const inputs *in, int calls) {
  fa_dense_f32_params p;
  memset(&p, 0, sizeof p);
  attn_fields(&p, in, 0);
  p.lq = 1, p.q_stride[0] = (ptrdiff_t)(in->H * FA_DRIVER_D), p.q_stride[1] = FA_DRIVER_D;
  p.out_stride[0] = p.q_stride[0], p.out_stride[1] = p.q_stride[1];
  return repeat(call_decode_f32, &p, find(fa_decode_f32_variants, fa_decode_f32_nvariants, name),
                fa_decode_f32_workspace_size(&p, 1), calls);
}

/* Decode on the int8 cache: k8 and v8 read as the grouped layouts of fastattn/decode.h (keys
 * in groups of 16 tokens x 64 features, values in groups of 4 tokens x 64 channels, so a
 * head's L x 64 bytes either way for L a multiple of 16), per-token scales from ks / vs. */
static fa_status run_decode_i8(const char *name, const inputs *in, int calls) {
  const size_t L = in->L, H = in->H, D = FA_DRIVER_D;
  fa_decode_i8_params p;
  memset(&p, 0, sizeof p);
  p.q = in->q, p.k = in->k8, p.v = in->v8, p.k_scale = in->token_ks, p.v_scale = in->token_vs;
  p.out = in->out, p.q_len = p.out_len = H * D, p.k_len = p.v_len = in->n, p.k_scale_len = p.v_scale_len = H * L;
  p.batch = 1, p.heads = H, p.kv_heads = H, p.lq = 1, p.lk = L, p.d = D, p.dv = D;
  p.q_stride[0] = p.out_stride[0] = (ptrdiff_t)(H * D), p.q_stride[1] = p.out_stride[1] = D;
  p.k_stride[0] = p.v_stride[0] = (ptrdiff_t)(H * L * D), p.k_stride[1] = p.v_stride[1] = (ptrdiff_t)(L * D);
  p.k_stride[2] = 16 * D, p.v_stride[2] = 4 * D;
  p.k_scale_stride[0] = p.v_scale_stride[0] = (ptrdiff_t)(H * L);
  p.k_scale_stride[1] = p.v_scale_stride[1] = (ptrdiff_t)L;
  p.scale = 0.125f, p.band_lo = -FA_BAND_NONE, p.band_hi = FA_BAND_NONE;
  return repeat(call_decode_i8, &p, find(fa_decode_i8_variants, fa_decode_i8_nvariants, name),
                fa_decode_i8_workspace_size(&p, 1), calls);
}

static fa_status run_linear(const char *name, const inputs *in, int causal, int calls) {
  fa_linear_f32_params p;
  memset(&p, 0, sizeof p);
  attn_fields(&p.attn, in, causal);
  p.feature_map = FA_FEATURE_ELU1;
  return repeat(call_linear, &p, find(fa_linear_f32_variants, fa_linear_f32_nvariants, name),
                fa_linear_f32_workspace_size(&p), calls);
}

static fa_status run_performer(const char *name, const inputs *in, int causal, int calls) {
  fa_performer_f32_params p;
  memset(&p, 0, sizeof p);
  attn_fields(&p.attn, in, causal);
  p.features = in->features, p.features_len = FA_DRIVER_M * FA_DRIVER_D;
  p.features_rs = FA_DRIVER_D, p.m = FA_DRIVER_M;
  return repeat(call_performer, &p, find(fa_performer_f32_variants, fa_performer_f32_nvariants, name),
                fa_performer_f32_workspace_size(&p), calls);
}

static fa_status run_linformer(const char *name, const inputs *in, int calls) {
  fa_linformer_f32_params p;
  memset(&p, 0, sizeof p);
  attn_fields(&p.attn, in, 0);
  p.proj_k = p.proj_v = in->proj, p.proj_k_len = p.proj_v_len = FA_DRIVER_R * in->L;
  p.proj_k_rs = p.proj_v_rs = (ptrdiff_t)in->L, p.r = in->L < FA_DRIVER_R ? in->L : FA_DRIVER_R;
  return repeat(call_linformer, &p, find(fa_linformer_f32_variants, fa_linformer_f32_nvariants, name),
                fa_linformer_f32_workspace_size(&p), calls);
}

/* One [OP:]VARIANT; exits 2 for an unknown op or variant. */
static fa_status run(const char *spec, const inputs *in, int calls) {
  const char *colon = strchr(spec, ':');
  const char *name = colon ? colon + 1 : spec;
  const size_t oplen = colon ? (size_t)(colon - spec) : 0;
  char op[32] = "dense";
  if (colon) {
    if (oplen >= sizeof op) { fprintf(stderr, "no op %s\n", spec); exit(2); }
    memcpy(op, spec, oplen), op[oplen] = 0;
  }
  if (strcmp(op, "dense") == 0)
    return strncmp(name, "f32-", 4) == 0 ? run_dense_f32(name, in, calls)
                                         : run_dense_i8(name, in, calls);
  if (strcmp(op, "linear") == 0 || strcmp(op, "linear-causal") == 0)
    return run_linear(name, in, op[6] != 0, calls);
  if (strcmp(op, "performer") == 0 || strcmp(op, "performer-causal") == 0)
    return run_performer(name, in, op[9] != 0, calls);
  if (strcmp(op, "linformer") == 0) return run_linformer(name, in, calls);
  if (strcmp(op, "decode") == 0)
    return strncmp(name, "f32-", 4) == 0 ? run_decode_f32(name, in, calls)
                                         : run_decode_i8(name, in, calls);
  fprintf(stderr, "no op %s\n", op);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: driver [OP:]VARIANT[,...] L HEADS CALLS\n"); return 2; }
  const size_t L = strtoul(argv[2], 0, 10), H = strtoul(argv[3], 0, 10);
  const int calls = atoi(argv[4]);
  inputs in;
  make_inputs(&in, L, H);
  char specs[256];
  snprintf(specs, sizeof specs, "%s", argv[1]);
  for (char *spec = strtok(specs, ","); spec; spec = strtok(NULL, ",")) {
    memset(in.out, 0, in.n * 4);
    const fa_status status = run(spec, &in, calls);
    if (status != FA_OK) {
      fprintf(stderr, "%s: kernel failed: %s\n", spec, fa_status_name(status));
      return 1;
    }
    double s = 0;
    for (size_t i = 0; i < in.n; i++) s += in.out[i];
    printf("%s L=%zu H=%zu calls=%d checksum %.6f\n", spec, L, H, calls, s);
  }
  void *all[] = {in.q,  in.k,        in.v,    in.out,  in.ks,       in.vs,
                 in.features, in.proj, in.k8, in.v8, in.token_ks, in.token_vs};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
  return 0;
}
