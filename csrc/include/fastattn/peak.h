/* A tiny int8 multiply-accumulate loop at the best ISA of this CPU (vpdpbusd with
 * AVX-512 VNNI, vpmaddubsw + vpmaddwd on AVX2, SDOT or smull/sadalp on aarch64), for
 * measuring the peak: runs `iters` iterations and returns the number of MACs done (the
 * result itself is kept alive in *sink). One loop per ISA in csrc/peak/i8-<isa>.c. */
#ifndef FASTATTN_PEAK_H
#define FASTATTN_PEAK_H

#include <stdint.h>

uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink);

/* The same for float32 FMAs at the best ISA the float32 kernels use (AVX2 + FMA, NEON,
 * scalar): returns the floating-point operations done, 2 per FMA lane. One loop per ISA in
 * csrc/peak/f32-<isa>.c. */
uint64_t fa_f32_peak_loop(uint64_t iters, float *sink);

#endif
