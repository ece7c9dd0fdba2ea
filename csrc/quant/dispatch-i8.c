/* The int8 quantiser: its variants, checks and entry points (fastattn/quant_i8.h);
 * common/driver.c runs one job per matrix (or token ranges, see run()). Built with no ISA
 * flags. */
#include "common/driver.h"
#include "fastattn/quant_i8.h"

#define FA_OP quant
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#include "common/variants.h"

/* FA_OK when arrays of the given lengths hold outer x len x d inputs and codes, `nscales`
 * scales per matrix and (when mean_len is needed) outer x d means. */
static fa_status fits(size_t outer, size_t len, size_t d, size_t nscales, size_t x_len,
                      size_t data_len, size_t scale_len, size_t mean_need, size_t mean_len) {
  size_t n, ns;
  if (__builtin_mul_overflow(outer, len, &n) || __builtin_mul_overflow(n, d, &n) ||
      __builtin_mul_overflow(outer, nscales, &ns))
    return FA_ERR_OVERFLOW;
  return x_len < n || data_len < n || scale_len < ns || mean_len < mean_need ? FA_ERR_BOUNDS
                                                                             : FA_OK;
}

/* Input elements of the smallest token range worth a job of its own. */
#define FA_QUANT_I8_MIN_SPLIT 16384

/* One job per matrix, all its tokens; the jobs need no workspace. With fewer matrices than
 * threads, a large matrix becomes ranges of whole blocks (about two jobs per thread, none
 * under FA_QUANT_I8_MIN_SPLIT elements), after one job per matrix for what needs every
 * token (the keys' mean, the values' channel scales). The bytes are the same either way. */
static fa_status run(const fa_quant_i8_params *p, size_t outer, size_t index, size_t nthreads) {
  static char none;
  const size_t len = p->len, step = p->block ? p->block : 1;
  size_t rows = len;
  if (outer && outer < nthreads && step < len) {
    const size_t ranges = (2 * nthreads + outer - 1) / outer;
    const size_t least = FA_QUANT_I8_MIN_SPLIT / p->d;
    size_t r = (len + ranges - 1) / ranges;
    r = (r < least ? least : r) + step - 1;
    r -= r % step;
    if (r < len) rows = r;
  }
  fa_quant_i8_params q = *p;
  q.stage = rows < len ? FA_QUANT_I8_ROWS : FA_QUANT_I8_ALL;
  if (rows < len && (p->block == 0 || p->smooth)) {
    fa_quant_i8_params first = *p;
    first.stage = FA_QUANT_I8_PREPARE;
    const fa_run r = {&first, outer, 1, 1, 1, 1, 0, NULL, NULL, 0};
    const fa_status s = fa_drive_variants(FA_OK, &r, index, nthreads, &none, 0);
    if (s != FA_OK) return s;
  }
  const fa_run r = {&q, outer, 1, len, len, rows, 0, NULL, NULL, 0};
  return fa_drive_variants(FA_OK, &r, index, nthreads, &none, 0);
}

fa_status fa_i8_quantize_keys(const float *x, size_t x_len, size_t outer, size_t len, size_t d,
                              size_t block, int smooth, int8_t *data, size_t data_len,
                              float *scale, size_t scale_len, float *mean, size_t mean_len,
                              size_t index, size_t nthreads) {
  if (!x || !data || !scale || (smooth && !mean)) return FA_ERR_NULL;
  if (block == 0 || len == 0 || d == 0) return FA_ERR_SHAPE;
  size_t mean_need;
  if (__builtin_mul_overflow(outer, d, &mean_need)) return FA_ERR_OVERFLOW;
  const fa_status s = fits(outer, len, d, (len + block - 1) / block, x_len, data_len, scale_len,
                           smooth ? mean_need : 0, mean_len);
  if (s != FA_OK) return s;
  const fa_quant_i8_params p = {x, len, d, block, smooth != 0, data, scale, smooth ? mean : NULL};
  return run(&p, outer, index, nthreads);
}

fa_status fa_i8_quantize_values(const float *x, size_t x_len, size_t outer, size_t len, size_t d,
                                int8_t *data, size_t data_len, float *scale, size_t scale_len,
                                size_t index, size_t nthreads) {
  if (!x || !data || !scale) return FA_ERR_NULL;
  if (len == 0 || d == 0) return FA_ERR_SHAPE;
  const fa_status s = fits(outer, len, d, d, x_len, data_len, scale_len, 0, 0);
  if (s != FA_OK) return s;
  const fa_quant_i8_params p = {x, len, d, 0, 0, data, scale, NULL};
  return run(&p, outer, index, nthreads);
}
