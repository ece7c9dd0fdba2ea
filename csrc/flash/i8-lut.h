/* The scalar definitions of the int8 engine's softmax steps (flash/i8.h): z from a score
 * and the reference point, P from z through the fraction table and a shift, and a tile's
 * weight 2^(-d/256); reference/int8.py spells out the same arithmetic and every SIMD
 * version matches these bit for bit. */
#ifndef FASTATTN_FLASH_I8_LUT_H
#define FASTATTN_FLASH_I8_LUT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define FA_I8_ZMAX 4095.0f

/* The fraction table T[16h + l] = (A[h] * B[l] + 2^14) >> 15 with
 * A[h] = round(65024 * 2^(-h/16)), B[l] = round(32768 * 2^(-l/256)); A * B < 2^32. */
static const uint16_t fa_i8_exp_a[16] = {65024, 62267, 59627, 57099, 54678, 52360, 50140, 48015,
                                         45979, 44030, 42163, 40375, 38664, 37024, 35455, 33951};
static const uint16_t fa_i8_exp_b[16] = {32768, 32679, 32591, 32503, 32415, 32327, 32240, 32153,
                                         32066, 31979, 31893, 31806, 31720, 31635, 31549, 31464};

/* P for one z in [0, 4095]: the scalar definition every SIMD version matches. */
static inline uint32_t fa_i8_exp_lut1(int32_t z) {
  const uint32_t t = ((uint32_t)fa_i8_exp_a[(z >> 4) & 15] * fa_i8_exp_b[z & 15] + 16384u) >> 15;
  return ((t >> ((z >> 8) + 8)) + 1) >> 1;
}

/* rint(y) with round-half-even (the default mode), by the 1.5 * 2^23 trick, exact for
 * 0 <= y < 2^22. */
static inline int32_t fa_i8_rint1(float y) {
  const volatile float magic = 12582912.0f; /* volatile: never folded */
  return (int32_t)((y + magic) - magic);
}

/* z = clamp(rint(min((r - t) * 256, 4095)), 0) (the clamp at 0 before rounding gives the
 * same integer: rint of y in (-0.5, 0) is 0 too). */
static inline int32_t fa_i8_z1(float r, float t) {
  float y = (r - t) * 256.0f;
  y = y < FA_I8_ZMAX ? y : FA_I8_ZMAX;
  return fa_i8_rint1(y > 0.0f ? y : 0.0f);
}

/* A tile's weight beta = 2^(-d/256) for d in [0, 4095]: 2^(-(d >> 8)) times the float32
 * tables 2^(-h/16) and 2^(-l/256) (reference/int8.py: WEIGHT_A, WEIGHT_B, tile_weight). */
static const float fa_i8_weight_a[16] = {
    0x1p+0f, 0x1.ea4afap-1f, 0x1.d5818ep-1f, 0x1.c199bep-1f, 0x1.ae89fap-1f, 0x1.9c4918p-1f,
    0x1.8ace54p-1f, 0x1.7a1148p-1f, 0x1.6a09e6p-1f, 0x1.5ab07ep-1f, 0x1.4bfdaep-1f, 0x1.3dea64p-1f,
    0x1.306fep-1f, 0x1.2387a6p-1f, 0x1.172b84p-1f, 0x1.0b5586p-1f};
static const float fa_i8_weight_b[16] = {
    0x1p+0f, 0x1.fe9d96p-1f, 0x1.fd3c22p-1f, 0x1.fbdba4p-1f, 0x1.fa7c18p-1f, 0x1.f91d8p-1f,
    0x1.f7bfdap-1f, 0x1.f66328p-1f, 0x1.f50766p-1f, 0x1.f3ac94p-1f, 0x1.f252b4p-1f, 0x1.f0f9c2p-1f,
    0x1.efa1bep-1f, 0x1.ee4aaap-1f, 0x1.ecf482p-1f, 0x1.eb9f48p-1f};
#define FA_I8_DSKIP 4096 /* d of a tile that is skipped (its max 16 units below m) */

static inline float fa_i8_tile_weight(int32_t d) {
  const float frac = fa_i8_weight_a[(d >> 4) & 15] * fa_i8_weight_b[d & 15];
  const uint32_t bits = (uint32_t)(127 - (d >> 8)) << 23; /* 2^(-(d >> 8)), a normal float */
  float pow2;
  memcpy(&pow2, &bits, 4);
  return frac * pow2;
}

/* One row's step at a tile whose max is tile_max, with running max old (returned updated):
 * the old sums' factor alpha, the tile's weight beta (0: skipped) and its reference point ref,
 * as reference/int8.py (attend_row) defines them; magic = 1.5 * 2^23, kept opaque by the caller
 * ((y + magic) - magic = rint(y)). */
static inline float fa_i8_row_step(float old, float tile_max, float magic, float *alpha,
                                   float *beta, float *ref) {
  *alpha = 1.0f, *beta = 1.0f, *ref = old;
  if (tile_max > old) { /* the max grows: the tile is its own reference */
    *alpha = old == -INFINITY ? 0.0f : exp2f(old - tile_max);
    *ref = tile_max;
    return tile_max;
  }
  if (tile_max == -INFINITY) { /* nothing visible in the tile */
    *beta = 0.0f;
    return old;
  }
  const float y = (old - tile_max) * 256.0f;
  const int32_t dz = (int32_t)(((y < (float)FA_I8_DSKIP ? y : (float)FA_I8_DSKIP) + magic) - magic);
  if (dz == FA_I8_DSKIP) {
    *beta = 0.0f;
  } else {
    *beta = fa_i8_tile_weight(dz);
    *ref = old - (float)dz * (1.0f / 256);
  }
  return old;
}

#endif
