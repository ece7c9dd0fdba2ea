/* Run-time CPU feature detection and the ISA cap (FASTATTN_ISA). */
#ifndef FASTATTN_CPU_H
#define FASTATTN_CPU_H

/* The closed ISA set. Values are stable (appended, never renumbered); the order of
 * preference within an architecture is the rank chain of fa_isa_allowed. */
typedef enum fa_isa {
  FA_ISA_SCALAR = 0,
  FA_ISA_AVX2 = 1,       /* x86-64: AVX2 + FMA, OS-enabled YMM state */
  FA_ISA_NEON = 2,       /* aarch64: Advanced SIMD (baseline of the architecture) */
  FA_ISA_NEONDOT = 3,    /* aarch64: Advanced SIMD + SDOT/UDOT (FEAT_DotProd) */
  FA_ISA_AVX512VNNI = 4, /* x86-64: AVX2 + FMA + AVX512F/BW/VL + AVX512_VNNI (vpdpbusd),
                            OS-enabled opmask and ZMM state */
  FA_ISA_COUNT = 5       /* as a cap: no cap */
} fa_isa;

/* Nonzero when this CPU and OS can run code of the given ISA. */
int fa_cpu_has(fa_isa isa);

/* Nonzero when this CPU runs `isa` and its rank is at most the rank of `cap`; ranks
 * follow each architecture's chain (scalar 0 < avx2 1 < avx512vnni 2; scalar 0 < neon 1
 * < neondot 2), so a cap named after the other architecture caps by rank.
 * cap = FA_ISA_COUNT means no cap. */
int fa_isa_allowed(fa_isa isa, fa_isa cap);

/* Name of an ISA: "scalar", "avx2", "neon", "neondot", "avx512vnni". */
const char *fa_isa_name(fa_isa isa);

#endif
