/* CPU feature detection. Built with no ISA flags, so it runs on any CPU of the
 * architecture; uses cpuid/xgetbv and getauxval rather than
 * __builtin_cpu_supports, which some toolchains (zig) leave always false. */
#include "fastattn/cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static unsigned long long fa_xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

static int fa_x86_has_avx2_fma(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const unsigned int fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
  if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
  if ((fa_xgetbv0() & 0x6) != 0x6) return 0; /* XMM and YMM state saved by the OS */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & (1u << 5)) != 0; /* AVX2 */
}

/* AVX-512 VNNI as the avx512vnni kernels use it: AVX2 + FMA, AVX512F, BW, VL and
 * AVX512_VNNI, with XMM, YMM, opmask, ZMM_Hi256 and Hi16_ZMM state saved by the OS. */
static int fa_x86_has_avx512vnni(void) {
  if (!fa_x86_has_avx2_fma()) return 0;
  if ((fa_xgetbv0() & 0xE6) != 0xE6) return 0;
  unsigned int a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  const unsigned int f = 1u << 16, bw = 1u << 30, vl = 1u << 31, vnni = 1u << 11;
  return (b & (f | bw | vl)) == (f | bw | vl) && (c & vnni) != 0;
}
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
static int fa_apple_sysctl_flag(const char *name) {
  int value = 0;
  size_t size = sizeof(value);
  if (sysctlbyname(name, &value, &size, 0, 0) != 0) return 0;
  return value != 0;
}
#endif

int fa_cpu_has(fa_isa isa) {
  switch (isa) {
    case FA_ISA_SCALAR: return 1;
#if defined(__x86_64__) || defined(_M_X64)
    case FA_ISA_AVX2: return fa_x86_has_avx2_fma();
    case FA_ISA_AVX512VNNI: return fa_x86_has_avx512vnni();
#endif
#if defined(__aarch64__) && defined(__linux__)
    case FA_ISA_NEON: return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    case FA_ISA_NEONDOT: return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__aarch64__) && defined(__APPLE__)
    case FA_ISA_NEON: return 1;
    case FA_ISA_NEONDOT: return fa_apple_sysctl_flag("hw.optional.arm.FEAT_DotProd");
#endif
    default: return 0;
  }
}

const char *fa_isa_name(fa_isa isa) {
  switch (isa) {
    case FA_ISA_SCALAR: return "scalar";
    case FA_ISA_AVX2: return "avx2";
    case FA_ISA_NEON: return "neon";
    case FA_ISA_NEONDOT: return "neondot";
    case FA_ISA_AVX512VNNI: return "avx512vnni";
    default: return "unknown";
  }
}

/* Rank in the architecture's chain; anything else (FA_ISA_COUNT: no cap) ranks above all. */
static int fa_isa_rank(fa_isa isa) {
  switch (isa) {
    case FA_ISA_SCALAR: return 0;
    case FA_ISA_AVX2: return 1;
    case FA_ISA_AVX512VNNI: return 2;
    case FA_ISA_NEON: return 1;
    case FA_ISA_NEONDOT: return 2;
    default: return 3;
  }
}

int fa_isa_allowed(fa_isa isa, fa_isa cap) {
  return isa < FA_ISA_COUNT && fa_isa_rank(isa) <= fa_isa_rank(cap) && fa_cpu_has(isa);
}
