/* The float32 FMA peak loop of fa_f32_peak_loop (fastattn/peak.h): portable C. */
#include <stdint.h>

/* 8 independent multiply-add chains. */
uint64_t fa_f32_peak__scalar(uint64_t iters, float *sink) {
  float acc[8] = {0};
  const float a = 1.0f + 1e-7f, b = 1e-7f;
  for (uint64_t i = 0; i < iters; i++)
    for (int j = 0; j < 8; j++) acc[j] = acc[j] * a + b;
  *sink = acc[0] + acc[7];
  return iters * 8 * 2;
}
