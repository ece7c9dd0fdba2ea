/* fa_f32_peak_loop: the float32 FMA peak loop of the best ISA this CPU runs for float32
 * kernels, from one list (best first). Built with no ISA flags. */
#include <stddef.h>

#include "fastattn/cpu.h"
#include "fastattn/peak.h"

#define FA_PEAK_ISAS(X) FA_X86_64(X(avx2)) FA_AARCH64(X(neon)) X(scalar)

#define FA_PEAK_PROTO(isa) uint64_t fa_f32_peak__##isa(uint64_t iters, float *sink);
FA_PEAK_ISAS(FA_PEAK_PROTO)

static const struct {
  fa_isa isa;
  uint64_t (*loop)(uint64_t iters, float *sink);
} peaks[] = {
#define FA_PEAK_ENTRY(isa) {FA_ISA_##isa, fa_f32_peak__##isa},
    FA_PEAK_ISAS(FA_PEAK_ENTRY)
#undef FA_PEAK_ENTRY
};

uint64_t fa_f32_peak_loop(uint64_t iters, float *sink) {
  for (size_t i = 0; i < sizeof(peaks) / sizeof(peaks[0]); i++)
    if (fa_cpu_has(peaks[i].isa)) return peaks[i].loop(iters, sink);
  return 0;
}
