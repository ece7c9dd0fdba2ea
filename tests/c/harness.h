/* What the variant-against-scalar harnesses share: the random source, the hash of the scalar
 * output, and the comparison of a variant's output with it. */
#ifndef FASTATTN_TESTS_HARNESS_H
#define FASTATTN_TESTS_HARNESS_H

#include <math.h>
#include <stddef.h>

static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (unsigned)rs; }

/* FNV-1a of the n floats' bits. */
static unsigned long long hash_floats(const float *x, size_t n) {
  unsigned long long h = 1469598103934665603ull;
  for (size_t i = 0; i < n * sizeof(float); i++)
    h = (h ^ ((const unsigned char *)x)[i]) * 1099511628211ull;
  return h;
}

/* max |out - ref| over max |ref|: a variant matches scalar when this is at most 1e-6. */
static double max_rel_error(const float *out, const float *ref, size_t n) {
  double maxrel = 0, scale = 1e-30;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
  for (size_t i = 0; i < n; i++) maxrel = fmax(maxrel, fabs(out[i] - ref[i]) / scale);
  return maxrel;
}

#endif
