/* The ISAs (declared once in fastattn/isa.def), run-time CPU detection and the ISA cap. */
#ifndef FASTATTN_CPU_H
#define FASTATTN_CPU_H

typedef enum fa_isa {
#define FA_ISA(name, ...) FA_ISA_##name,
#include "fastattn/isa.def"
#undef FA_ISA
  FA_ISA_COUNT /* as a cap: no cap */
} fa_isa;

/* Architectures of isa.def's `arch` column, and the one this file is compiled for. */
typedef enum fa_arch { FA_ARCH_any, FA_ARCH_x86_64, FA_ARCH_aarch64 } fa_arch;
#if defined(__x86_64__) || defined(_M_X64)
#define FA_ARCH_HERE FA_ARCH_x86_64
#elif defined(__aarch64__)
#define FA_ARCH_HERE FA_ARCH_aarch64
#else
#define FA_ARCH_HERE FA_ARCH_any
#endif

/* FA_X86_64(...) and FA_AARCH64(...): their arguments on that architecture, else nothing
 * (for the lists of variants; common/variants.h checks each ISA's arch against isa.def). */
#if defined(__x86_64__) || defined(_M_X64)
#define FA_X86_64(...) __VA_ARGS__
#else
#define FA_X86_64(...)
#endif
#if defined(__aarch64__)
#define FA_AARCH64(...) __VA_ARGS__
#else
#define FA_AARCH64(...)
#endif

/* The arch of each ISA as a compile-time constant, FA_ISA_ARCH_<name>. */
enum {
#define FA_ISA(name, rank, arch, ...) FA_ISA_ARCH_##name = FA_ARCH_##arch,
#include "fastattn/isa.def"
#undef FA_ISA
};

/* Nonzero when this CPU and OS can run code of the given ISA (detected once, then cached). */
int fa_cpu_has(fa_isa isa);

/* Nonzero when this CPU runs `isa` and its rank is at most the rank of `cap`; a cap named
 * after the other architecture caps by rank. cap = FA_ISA_COUNT means no cap. */
int fa_isa_allowed(fa_isa isa, fa_isa cap);

/* Name, rank and arch ("any", "x86_64", "aarch64") of an ISA, as isa.def declares them. */
const char *fa_isa_name(fa_isa isa);
int fa_isa_rank(fa_isa isa);
const char *fa_isa_arch(fa_isa isa);

/* The ISA called `name`, or FA_ISA_COUNT when there is none (FASTATTN_ISA parsing). */
fa_isa fa_isa_from_name(const char *name);

#endif
