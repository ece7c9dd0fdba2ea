/* Every compiled dense int8 variant against i8-scalar on random and extreme data, in C
 * alone, so aarch64 kernels can be checked under qemu-user without Python; plus the C
 * checks (lengths of every array, the quantiser's included; no keys gives zeros).
 * Built and run by tests/c/run.sh (natively, and cross-built for aarch64 under qemu
 * -cpu cortex-a72 / cortex-a76). Exit status 0 = all equal. The "scalar output hash" lines
 * are equal on machines with the same libm (x86-64 glibc and aarch64 glibc agree; a static
 * musl build differs, its exp2f rounds differently), which ties the aarch64 kernels to the
 * tested x86 ones. */
/* Inputs are single rounded operations (no a * b + c), so that no compiler can fuse
 * them and every machine feeds the kernels the same bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "fastattn/dense_i8.h"
#include "fastattn/peak.h"
#include "fastattn/quant_i8.h"

static int run_case(size_t B, size_t H, size_t HK, size_t lq, size_t lk, size_t d, size_t dv,
                    int causal, int use_mask, int extreme, size_t blk) {
  size_t nq = B * H * lq * d, nk = B * HK * lk * d, nv = B * HK * lk * dv, no = B * H * lq * dv;
  size_t nkb = (lk + blk - 1) / blk;
  int8_t *k = malloc(nk), *v = malloc(nv);
  float *q = malloc(nq * 4), *ks = malloc(B * HK * nkb * 4), *vs = malloc(B * HK * dv * 4);
  float *mask = malloc(B * H * lq * lk * 4);
  for (size_t i = 0; i < nq; i++) q[i] = extreme ? (rnd() & 1 ? 1e30f : -1e30f) : (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
  for (size_t i = 0; i < nk; i++) k[i] = extreme ? 127 : (int8_t)(rnd() % 255 - 127);
  for (size_t i = 0; i < nv; i++) v[i] = extreme ? 127 : (int8_t)(rnd() % 255 - 127);
  for (size_t i = 0; i < B * HK * nkb; i++) ks[i] = extreme ? 1.0f : (float)(100 + rnd() % 100) / 10000.0f;
  for (size_t i = 0; i < B * HK * dv; i++) vs[i] = (float)(100 + rnd() % 100) / 10000.0f;
  for (size_t i = 0; i < B * H * lq * lk; i++) mask[i] = (rnd() % 7 == 0) ? -INFINITY : (float)((int)(rnd() % 100) - 50) / 100.0f;
  fa_dense_i8_params p;
  memset(&p, 0, sizeof p);
  p.q = q, p.k = k, p.v = v, p.k_scale = ks, p.v_scale = vs;
  p.mask = use_mask ? mask : NULL;
  p.batch = B, p.heads = H, p.kv_heads = HK, p.lq = lq, p.lk = lk, p.d = d, p.dv = dv;
  p.q_block = blk, p.k_block = blk;
  p.q_stride[0] = H * lq * d, p.q_stride[1] = lq * d, p.q_stride[2] = d;
  p.k_stride[0] = HK * lk * d, p.k_stride[1] = lk * d, p.k_stride[2] = d;
  p.v_stride[0] = HK * lk * dv, p.v_stride[1] = lk * dv, p.v_stride[2] = dv;
  p.out_stride[0] = H * lq * dv, p.out_stride[1] = lq * dv, p.out_stride[2] = dv;
  p.mask_stride[0] = H * lq * lk, p.mask_stride[1] = lq * lk, p.mask_stride[2] = lk;
  p.k_scale_stride[0] = HK * nkb, p.k_scale_stride[1] = nkb;
  p.v_scale_stride[0] = HK * dv, p.v_scale_stride[1] = dv;
  p.q_len = nq, p.k_len = nk, p.v_len = nv, p.out_len = no, p.mask_len = B * H * lq * lk;
  p.k_scale_len = B * HK * nkb, p.v_scale_len = B * HK * dv;
  p.scale = 1.0f / sqrtf((float)d);
  p.band_lo = -FA_BAND_NONE, p.band_hi = causal ? (ptrdiff_t)lk - (ptrdiff_t)lq : FA_BAND_NONE;
  size_t ws_size = fa_dense_i8_workspace_size(&p) * 2;
  void *ws = malloc(ws_size);
  float *ref = malloc(no * 4), *out = malloc(no * 4);
  size_t scalar = fa_dense_i8_nvariants - 1;
  int bad = 0;
  p.out = ref;
  if (fa_dense_i8(&p, scalar, 2, ws, ws_size) != FA_OK) { printf("scalar failed\n"); return 1; }
  const unsigned long long h = hash_floats(ref, no); /* FNV-1a of the scalar output bits */
  printf("  scalar output hash %016llx (equal on every machine: same integers, same floats)\n", h);
  for (size_t vi = 0; vi < fa_dense_i8_nvariants; vi++) {
    if (!fa_cpu_has(fa_dense_i8_variants[vi].isa)) {
      bad |= fa_dense_i8(&p, vi, 2, ws, ws_size) != FA_ERR_UNSUPPORTED;
      printf("  %s: not on this CPU\n", fa_dense_i8_variants[vi].name);
      continue;
    }
    p.out = out;
    fa_status st = fa_dense_i8(&p, vi, 2, ws, ws_size);
    const double maxrel = max_rel_error(out, ref, no);
    int ok = st == FA_OK && maxrel == 0; /* bit for bit, under gcc and clang alike */
    bad |= !ok;
    printf("  %-10s lq=%zu lk=%zu d=%zu dv=%zu causal=%d mask=%d extreme=%d: status %d max rel %.2e %s\n",
           fa_dense_i8_variants[vi].name, lq, lk, d, dv, causal, use_mask, extreme, st, maxrel,
           ok ? "ok" : "MISMATCH");
  }
  /* The lengths are checked: one scale short of the key blocks, one float short of out. */
  p.k_scale_len--;
  bad |= fa_dense_i8(&p, scalar, 2, ws, ws_size) != FA_ERR_BOUNDS;
  p.k_scale_len++, p.out_len--;
  bad |= fa_dense_i8(&p, scalar, 2, ws, ws_size) != FA_ERR_BOUNDS;
  p.out_len++;
  free(q), free(k), free(v), free(ks), free(vs), free(mask), free(ws), free(ref), free(out);
  return bad;
}

/* No keys: every output row is zeros (and no key or scale is read). */
static int run_empty_keys(void) {
  float q[2 * 8], out[2 * 4], vs[4] = {1, 1, 1, 1};
  for (size_t i = 0; i < 16; i++) q[i] = 1.0f;
  for (size_t i = 0; i < 8; i++) out[i] = 99.0f;
  fa_dense_i8_params p;
  memset(&p, 0, sizeof p);
  p.q = q, p.out = out, p.v_scale = vs, p.q_len = 16, p.out_len = 8, p.v_scale_len = 4;
  p.batch = 1, p.heads = 1, p.kv_heads = 1, p.lq = 2, p.lk = 0, p.d = 8, p.dv = 4;
  p.q_block = 64, p.k_block = 64;
  p.q_stride[1] = 16, p.q_stride[2] = 8, p.out_stride[1] = 8, p.out_stride[2] = 4;
  p.v_scale_stride[1] = 4;
  p.band_lo = -FA_BAND_NONE, p.band_hi = FA_BAND_NONE;
  int bad = 0;
  for (size_t vi = 0; vi < fa_dense_i8_nvariants; vi++) {
    if (!fa_cpu_has(fa_dense_i8_variants[vi].isa)) continue;
    char ws[64];
    bad |= fa_dense_i8(&p, vi, 1, ws, sizeof ws) != FA_OK;
    for (size_t i = 0; i < 8; i++) bad |= out[i] != 0.0f;
  }
  printf("  lk=0: %s\n", bad ? "MISMATCH (rows not zeroed)" : "zeros ok");
  return bad;
}

int main(void) {
  int bad = 0;
  int32_t sink;
  printf("peak loop: %llu MACs\n", (unsigned long long)fa_i8_peak_loop(1000, &sink));
  bad |= run_empty_keys();
  {
    float x[3 * 4] = {1, -2, 3, 4, 5, -6, 7, 8, 9, 10, -11, 12}, scale[4];
    int8_t codes[12];
    const size_t qs = fa_quant_i8_nvariants - 1; /* the scalar quantiser */
    const int ok = fa_i8_quantize_values(x, 12, 1, 3, 4, codes, 12, scale, 4, qs, 1) == FA_OK;
    const int short_codes =
        fa_i8_quantize_values(x, 12, 1, 3, 4, codes, 11, scale, 4, qs, 1) == FA_ERR_BOUNDS;
    const int short_x =
        fa_i8_quantize_keys(x, 11, 1, 3, 4, 2, 0, codes, 12, scale, 2, NULL, 0, qs, 1) == FA_ERR_BOUNDS;
    printf("  quantiser length checks: %s\n", ok && short_codes && short_x ? "ok" : "MISMATCH");
    bad |= !(ok && short_codes && short_x);
  }
  bad |= run_case(1, 2, 1, 70, 130, 24, 20, 0, 0, 0, 16);
  bad |= run_case(1, 2, 1, 70, 130, 24, 20, 1, 0, 0, 16);
  bad |= run_case(2, 4, 2, 129, 200, 64, 64, 1, 1, 0, 64);
  bad |= run_case(1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1);
  bad |= run_case(1, 2, 2, 65, 300, 80, 48, 0, 1, 0, 32);
  bad |= run_case(1, 1, 1, 64, 4096, 64, 64, 0, 0, 1, 64);
  bad |= run_case(1, 2, 1, 300, 520, 64, 64, 1, 1, 0, 64); /* jobs of 256 rows, full tiles */
  bad |= run_case(2, 2, 2, 257, 256, 32, 32, 0, 0, 0, 16);
  bad |= run_case(1, 1, 1, 33, 1000, 64, 64, 1, 0, 1, 64);
  printf(bad ? "FAILED\n" : "all ok\n");
  return bad;
}
