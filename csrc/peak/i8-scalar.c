/* The int8 multiply-accumulate peak loop of fa_i8_peak_loop (fastattn/peak.h):
 * portable C. */
#include <stdint.h>

uint64_t fa_i8_peak__scalar(uint64_t iters, int32_t *sink) {
  int32_t acc[4] = {0, 0, 0, 0};
  int8_t a[4] = {3, -5, 7, 11}, b[4] = {13, 17, -19, 23};
  for (uint64_t it = 0; it < iters; it++)
    for (int u = 0; u < 4; u++) {
      acc[u] += a[u] * b[u];
      b[u] = (int8_t)(b[u] ^ (int8_t)acc[u]);
    }
  *sink = acc[0] + acc[1] + acc[2] + acc[3];
  return iters * 4;
}
