/* fa_f32_peak_loop and fa_i8_peak_loop (fastattn/peak.h): the peak loop of the best ISA this
 * CPU runs, from one list per dtype (best first, scalar last). Built with no ISA flags. */
#include <stddef.h>

#include "fastattn/cpu.h"
#include "fastattn/peak.h"

#define FA_PEAK_F32_ISAS(X) FA_X86_64(X(avx512) X(avx2)) FA_AARCH64(X(neon)) X(scalar)
#define FA_PEAK_I8_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)

#define FA_PEAK_F32_PROTO(isa) uint64_t fa_f32_peak__##isa(uint64_t iters, float *sink);
#define FA_PEAK_I8_PROTO(isa) uint64_t fa_i8_peak__##isa(uint64_t iters, int32_t *sink);
FA_PEAK_F32_ISAS(FA_PEAK_F32_PROTO)
FA_PEAK_I8_ISAS(FA_PEAK_I8_PROTO)

#define FA_PEAK_ISA(isa) FA_ISA_##isa,
#define FA_PEAK_F32_LOOP(isa) fa_f32_peak__##isa,
#define FA_PEAK_I8_LOOP(isa) fa_i8_peak__##isa,
static const fa_isa f32_isas[] = {FA_PEAK_F32_ISAS(FA_PEAK_ISA)};
static const fa_isa i8_isas[] = {FA_PEAK_I8_ISAS(FA_PEAK_ISA)};
static uint64_t (*const f32_loops[])(uint64_t, float *) = {FA_PEAK_F32_ISAS(FA_PEAK_F32_LOOP)};
static uint64_t (*const i8_loops[])(uint64_t, int32_t *) = {FA_PEAK_I8_ISAS(FA_PEAK_I8_LOOP)};

/* The index of the first ISA of the list this CPU has (the last, scalar, runs anywhere). */
static size_t best(const fa_isa *isas, size_t n) {
  for (size_t i = 0; i + 1 < n; i++)
    if (fa_cpu_has(isas[i])) return i;
  return n - 1;
}

uint64_t fa_f32_peak_loop(uint64_t iters, float *sink) {
  return f32_loops[best(f32_isas, sizeof f32_isas / sizeof f32_isas[0])](iters, sink);
}

uint64_t fa_f32_peak_loop_isa(fa_isa isa, uint64_t iters, float *sink) {
  for (size_t i = 0; i < sizeof f32_isas / sizeof f32_isas[0]; i++)
    if (f32_isas[i] == isa) return fa_cpu_has(isa) ? f32_loops[i](iters, sink) : 0;
  return 0;
}

uint64_t fa_i8_peak_loop(uint64_t iters, int32_t *sink) {
  return i8_loops[best(i8_isas, sizeof i8_isas / sizeof i8_isas[0])](iters, sink);
}
