/* A tiny int8 multiply-accumulate loop at the best ISA of this CPU (vpdpbusd with
 * AVX-512 VNNI, vpmaddubsw + vpmaddwd on AVX2, SDOT or smull/sadalp on aarch64), for
 * measuring the peak: runs `iters` iterations and returns the number of MACs done (the
 * result itself is kept alive in *sink). One loop per ISA in csrc/peak/i8-<isa>.c. */
#ifndef FASTATTN_PEAK_H
#define FASTATTN_PEAK_H

#include <stdint.h>

#include "fastattn/cpu.h"

uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink);

/* The same for float32 FMAs at the best ISA the float32 kernels use (AVX-512, AVX2 + FMA,
 * NEON, scalar): returns the floating-point operations done, 2 per FMA lane. One loop per
 * ISA in csrc/peak/f32-<isa>.c. */
uint64_t fa_f32_peak_loop(uint64_t iters, float *sink);

/* The float32 loop of one ISA (so a variant's rate is set against its own ISA's peak);
 * 0 when that ISA has no float32 loop or this CPU does not run it. */
uint64_t fa_f32_peak_loop_isa(fa_isa isa, uint64_t iters, float *sink);

#endif
