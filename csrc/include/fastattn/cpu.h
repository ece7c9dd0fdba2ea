/* Run-time CPU feature detection and the ISA cap (FASTATTN_ISA). */
#ifndef FASTATTN_CPU_H
#define FASTATTN_CPU_H

/* The closed ISA set, in increasing order of preference within an architecture. */
typedef enum fa_isa {
  FA_ISA_SCALAR = 0,
  FA_ISA_AVX2 = 1,    /* x86-64: AVX2 + FMA, OS-enabled YMM state */
  FA_ISA_NEON = 2,    /* aarch64: Advanced SIMD (baseline of the architecture) */
  FA_ISA_NEONDOT = 3, /* aarch64: Advanced SIMD + SDOT/UDOT (FEAT_DotProd) */
  FA_ISA_COUNT = 4
} fa_isa;

/* Nonzero when this CPU and OS can run code of the given ISA. */
int fa_cpu_has(fa_isa isa);

/* Nonzero when `isa` is at or below `cap` in its architecture's chain
 * (scalar < avx2; scalar < neon < neondot) and this CPU runs it. */
int fa_isa_allowed(fa_isa isa, fa_isa cap);

/* Name of an ISA: "scalar", "avx2", "neon", "neondot". */
const char *fa_isa_name(fa_isa isa);

#endif
