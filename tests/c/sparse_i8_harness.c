/* Every compiled sparse int8 variant against i8-scalar on random block layouts, in C
 * alone, so aarch64 kernels can be checked under qemu-user without Python; plus the
 * layout's length checks. Built and run by tests/c/run.sh (natively, and cross-built for
 * aarch64 under qemu). Exit status 0 = all equal. The "scalar output hash" lines are equal
 * on machines with the same libm (see dense_i8_harness.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "fastattn/sparse.h"

typedef struct shape {
  size_t B, H, HK, lq, lk, d, dv, bq, bk, qblk;
  int causal, use_mask, extreme, nglobal;
  ptrdiff_t left, right; /* window; -1: none */
  unsigned keep_pct;     /* chance a block is listed, in percent */
} shape;

static int run_case(const shape *c) {
  const size_t B = c->B, H = c->H, HK = c->HK, lq = c->lq, lk = c->lk, d = c->d, dv = c->dv;
  const size_t nq = B * H * lq * d, nk = B * HK * lk * d, nv = B * HK * lk * dv;
  const size_t no = B * H * lq * dv, nkb = (lk + c->qblk - 1) / c->qblk;
  const size_t nqb = (lq + c->bq - 1) / c->bq, nkblk = (lk + c->bk - 1) / c->bk;
  int8_t *k = malloc(nk), *v = malloc(nv);
  float *q = malloc(nq * 4), *ks = malloc(B * HK * nkb * 4), *vs = malloc(B * HK * dv * 4);
  float *mask = malloc(B * H * lq * lk * 4);
  for (size_t i = 0; i < nq; i++) q[i] = c->extreme ? (rnd() & 1 ? 1e30f : -1e30f) : (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
  for (size_t i = 0; i < nk; i++) k[i] = c->extreme ? (rnd() & 1 ? 127 : -127) : (int8_t)(rnd() % 255 - 127);
  for (size_t i = 0; i < nv; i++) v[i] = c->extreme ? 127 : (int8_t)(rnd() % 255 - 127);
  for (size_t i = 0; i < B * HK * nkb; i++) ks[i] = c->extreme ? 1.0f : (float)(100 + rnd() % 100) / 10000.0f;
  for (size_t i = 0; i < B * HK * dv; i++) vs[i] = (float)(100 + rnd() % 100) / 10000.0f;
  for (size_t i = 0; i < B * H * lq * lk; i++) mask[i] = (rnd() % 7 == 0) ? -INFINITY : (float)((int)(rnd() % 100) - 50) / 100.0f;

  /* One layout per head (layout_of[b * H + h] = h), blocks drawn at random. */
  int32_t *indptr = malloc(H * (nqb + 1) * 4), *indices = malloc(H * nqb * nkblk * 4 + 4);
  int32_t *layout_of = malloc(B * H * 4);
  size_t nnz = 0;
  for (size_t h = 0; h < H; h++) {
    indptr[h * (nqb + 1)] = (int32_t)nnz;
    for (size_t r = 0; r < nqb; r++) {
      for (size_t cb = 0; cb < nkblk; cb++)
        if (rnd() % 100 < c->keep_pct) indices[nnz++] = (int32_t)cb;
      indptr[h * (nqb + 1) + r + 1] = (int32_t)nnz;
    }
  }
  for (size_t i = 0; i < B * H; i++) layout_of[i] = (int32_t)(i % H);
  unsigned char *qg = calloc(lq, 1), *kg = calloc(lk, 1);
  for (int g = 0; g < c->nglobal; g++) qg[rnd() % lq] = 1, kg[rnd() % lk] = 1;

  fa_sparse_i8_params p;
  memset(&p, 0, sizeof p);
  fa_dense_i8_params *a = &p.attn;
  a->q = q, a->k = k, a->v = v, a->k_scale = ks, a->v_scale = vs;
  a->mask = c->use_mask ? mask : NULL;
  a->batch = B, a->heads = H, a->kv_heads = HK, a->lq = lq, a->lk = lk, a->d = d, a->dv = dv;
  a->q_block = c->qblk, a->k_block = c->qblk;
  a->q_stride[0] = H * lq * d, a->q_stride[1] = lq * d, a->q_stride[2] = d;
  a->k_stride[0] = HK * lk * d, a->k_stride[1] = lk * d, a->k_stride[2] = d;
  a->v_stride[0] = HK * lk * dv, a->v_stride[1] = lk * dv, a->v_stride[2] = dv;
  a->out_stride[0] = H * lq * dv, a->out_stride[1] = lq * dv, a->out_stride[2] = dv;
  a->mask_stride[0] = H * lq * lk, a->mask_stride[1] = lq * lk, a->mask_stride[2] = lk;
  a->k_scale_stride[0] = HK * nkb, a->k_scale_stride[1] = nkb;
  a->v_scale_stride[0] = HK * dv, a->v_scale_stride[1] = dv;
  a->q_len = nq, a->k_len = nk, a->v_len = nv, a->out_len = no, a->mask_len = B * H * lq * lk;
  a->k_scale_len = B * HK * nkb, a->v_scale_len = B * HK * dv;
  a->scale = 1.0f / sqrtf((float)d);
  const ptrdiff_t causal_hi = c->causal ? (ptrdiff_t)lk - (ptrdiff_t)lq : FA_BAND_NONE;
  a->band_lo = c->left >= 0 ? -c->left : -FA_BAND_NONE;
  a->band_hi = c->right >= 0 && c->right < causal_hi ? c->right : causal_hi;
  fa_sparse_layout *l = &p.layout;
  l->nlayouts = H, l->block_q = c->bq, l->block_k = c->bk, l->nqblocks = nqb, l->nkblocks = nkblk;
  l->indptr = indptr, l->indices = indices, l->nnz = nnz, l->layout_of = layout_of;
  l->indptr_len = H * (nqb + 1), l->layout_of_len = B * H, l->q_global_len = lq, l->k_global_len = lk;
  l->q_global = c->nglobal ? qg : NULL, l->k_global = c->nglobal ? kg : NULL;
  l->global_hi = causal_hi;

  size_t ws_size = fa_sparse_i8_workspace_size(&p) * 2;
  void *ws = malloc(ws_size);
  float *ref = malloc(no * 4), *out = malloc(no * 4);
  size_t scalar = fa_sparse_i8_nvariants - 1;
  int bad = 0;
  a->out = ref;
  if (fa_sparse_i8(&p, scalar, 2, ws, ws_size) != FA_OK) { printf("scalar failed\n"); return 1; }
  const unsigned long long hash = hash_floats(ref, no); /* FNV-1a of the scalar output bits */
  printf("  scalar output hash %016llx (nnz %zu)\n", hash, nnz);
  for (size_t vi = 0; vi < fa_sparse_i8_nvariants; vi++) {
    if (!fa_cpu_has(fa_sparse_i8_variants[vi].isa)) {
      printf("  %s: not on this CPU\n", fa_sparse_i8_variants[vi].name);
      continue;
    }
    a->out = out;
    fa_status st = fa_sparse_i8(&p, vi, 2, ws, ws_size);
    const double maxrel = max_rel_error(out, ref, no);
    int ok = st == FA_OK && maxrel == 0; /* bit for bit, under gcc and clang alike */
    bad |= !ok;
    printf("  %-10s lq=%zu lk=%zu d=%zu blocks=%zux%zu causal=%d mask=%d globals=%d "
           "extreme=%d: status %d max rel %.2e %s\n", fa_sparse_i8_variants[vi].name, lq, lk, d,
           c->bq, c->bk, c->causal, c->use_mask, c->nglobal, c->extreme, st, maxrel,
           ok ? "ok" : "MISMATCH");
  }
  l->layout_of_len--; /* a layout table one (b, h) short is refused */
  bad |= fa_sparse_i8(&p, scalar, 2, ws, ws_size) != FA_ERR_BOUNDS;
  l->layout_of_len++;
  free(q), free(k), free(v), free(ks), free(vs), free(mask), free(ws), free(ref), free(out);
  free(indptr), free(indices), free(layout_of), free(qg), free(kg);
  return bad;
}

int main(void) {
  /* B H HK lq lk d dv bq bk qblk causal mask extreme nglobal left right keep% */
  const shape cases[] = {
      {1, 2, 1, 70, 130, 24, 20, 16, 16, 16, 0, 0, 0, 0, -1, -1, 50},
      {1, 2, 1, 70, 130, 24, 20, 32, 16, 16, 1, 0, 0, 2, -1, -1, 60},
      {2, 4, 2, 129, 400, 64, 64, 64, 64, 64, 1, 1, 0, 0, -1, -1, 70},
      {1, 2, 2, 200, 520, 32, 48, 100, 65, 32, 0, 1, 0, 3, 40, 90, 80},
      {1, 4, 2, 300, 300, 64, 64, 64, 64, 64, 1, 0, 0, 2, 70, 0, 100},
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, -1, -1, 100},
      {1, 2, 1, 130, 200, 16, 8, 64, 64, 64, 0, 0, 0, 0, -1, -1, 0},
      {1, 1, 1, 64, 2048, 64, 64, 64, 128, 64, 0, 0, 1, 0, -1, -1, 90},
      {1, 1, 1, 33, 1000, 256, 64, 64, 64, 64, 1, 0, 1, 1, -1, -1, 100},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) bad |= run_case(&cases[i]);
  printf(bad ? "FAILED\n" : "all ok\n");
  return bad;
}
