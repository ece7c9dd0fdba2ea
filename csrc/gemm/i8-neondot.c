/* int8 GEMM, aarch64 Advanced SIMD + dotprod (SDOT): 4 rows x 16 channels per tile.
 * A panel group of 4 inputs is 4 vectors of 4 channels x 4 inputs; 16 bytes of a row
 * (4 groups) are loaded once and SDOT by lane multiplies each group with its vectors. */
#if !defined(__aarch64__)
#error "i8-neondot.c is for aarch64 only"
#endif

#include "common/target.h"
FA_EXACT_FP
FA_TARGET_BEGIN("arch=armv8.2-a+dotprod")

#include <arm_neon.h>
#include "gemm/epilogue-neon.h"

#define MR 4

#define FA_SDOT_GROUP(LANE)                                                      \
  do {                                                                           \
    const int8_t *wg = t->w + (g + LANE) * 64;                                   \
    const int8x16_t w0 = vld1q_s8(wg), w1 = vld1q_s8(wg + 16);                   \
    const int8x16_t w2 = vld1q_s8(wg + 32), w3 = vld1q_s8(wg + 48);              \
    for (size_t r = 0; r < MR; r++) {                                            \
      acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, xv[r], LANE);                   \
      acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, xv[r], LANE);                   \
      acc[r][2] = vdotq_laneq_s32(acc[r][2], w2, xv[r], LANE);                   \
      acc[r][3] = vdotq_laneq_s32(acc[r][3], w3, xv[r], LANE);                   \
    }                                                                            \
  } while (0)

__attribute__((noinline)) static void tile_neondot(const fa_gemm_i8_tile *t, float *dst,
                                                   ptrdiff_t ds) {
  int32x4_t acc[MR][4];
  for (size_t r = 0; r < MR; r++)
    for (size_t i = 0; i < 4; i++) acc[r][i] = vdupq_n_s32(0);
  for (size_t g = 0; g < t->kp / 4; g += 4) { /* kp is a multiple of 16 */
    int8x16_t xv[MR];
    for (size_t r = 0; r < MR; r++) xv[r] = vld1q_s8(t->x[r] + 4 * g);
    FA_SDOT_GROUP(0);
    FA_SDOT_GROUP(1);
    FA_SDOT_GROUP(2);
    FA_SDOT_GROUP(3);
  }
  fa_gemm_i8_store_neon(t, acc, dst, ds);
}

fa_status fa_gemm_i8__neondot(const void *params, const fa_job *job, void *workspace) {
  return fa_gemm_i8_job(tile_neondot, MR, params, job, workspace);
}

FA_TARGET_END
