/* CPU feature detection, from the rows of fastattn/isa.def, done once and cached. Built
 * with no ISA flags, so it runs on any CPU of the architecture; uses cpuid/xgetbv and
 * getauxval rather than __builtin_cpu_supports, which some toolchains (zig) leave always
 * false. */
#include <stdatomic.h>
#include <string.h>

#include "fastattn/cpu.h"

/* The feature bits isa.def names. */
#define FA_X86_FMA (1u << 12)     /* cpuid(1).ecx */
#define FA_X86_OSXSAVE (1u << 27) /* cpuid(1).ecx: xgetbv usable */
#define FA_X86_AVX (1u << 28)     /* cpuid(1).ecx */
#define FA_X86_AVX2 (1u << 5)     /* cpuid(7,0).ebx */
#define FA_X86_AVX512F (1u << 16)
#define FA_X86_AVX512DQ (1u << 17)
#define FA_X86_AVX512BW (1u << 30)
#define FA_X86_AVX512VL (1u << 31)
#define FA_X86_AVX512VNNI (1u << 11) /* cpuid(7,0).ecx */
#define FA_XCR0_YMM 0x6u             /* XMM and YMM state saved by the OS */
#define FA_XCR0_ZMM 0xE0u            /* opmask, ZMM_Hi256 and Hi16_ZMM state */
#define FA_HWCAP_ASIMD (1ul << 1)
#define FA_HWCAP_ASIMDDP (1ul << 20)

typedef struct fa_isa_row {
  const char *name, *arch_name;
  int rank;
  fa_arch arch;
  unsigned ecx1, ebx7, ecx7, xcr0;
  unsigned long hwcap;
  const char *sysctl;
} fa_isa_row;

static const fa_isa_row rows[FA_ISA_COUNT] = {
#define FA_ISA(name, rank, arch, ecx1, ebx7, ecx7, xcr0, hwcap, sysctl) \
  {#name, #arch, rank, FA_ARCH_##arch, ecx1, ebx7, ecx7, xcr0, hwcap, sysctl},
#include "fastattn/isa.def"
#undef FA_ISA
};

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

typedef struct fa_x86_regs {
  unsigned ecx1, ebx7, ecx7, xcr0;
} fa_x86_regs;

static fa_x86_regs fa_x86_read(void) {
  fa_x86_regs r = {0, 0, 0, 0};
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) r.ecx1 = c;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) r.ebx7 = b, r.ecx7 = c;
  if (r.ecx1 & FA_X86_OSXSAVE) { /* else xgetbv faults */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    r.xcr0 = lo;
  }
  return r;
}

static int fa_row_runs(const fa_isa_row *row) {
  const fa_x86_regs r = fa_x86_read();
  return (r.ecx1 & row->ecx1) == row->ecx1 && (r.ebx7 & row->ebx7) == row->ebx7 &&
         (r.ecx7 & row->ecx7) == row->ecx7 && (r.xcr0 & row->xcr0) == row->xcr0;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
static int fa_row_runs(const fa_isa_row *row) {
  return (getauxval(AT_HWCAP) & row->hwcap) == row->hwcap;
}
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
static int fa_row_runs(const fa_isa_row *row) {
  int value = 0;
  size_t size = sizeof(value);
  if (!row->sysctl) return 1;
  return sysctlbyname(row->sysctl, &value, &size, 0, 0) == 0 && value != 0;
}
#else
static int fa_row_runs(const fa_isa_row *row) { return row->arch == FA_ARCH_any; }
#endif

/* Bit i: this CPU runs ISA i; bit 31: detection done. Racing first calls compute the
 * same value. */
static atomic_uint fa_features;

int fa_cpu_has(fa_isa isa) {
  unsigned f = atomic_load_explicit(&fa_features, memory_order_relaxed);
  if (!(f & (1u << 31))) {
    f = 1u << 31;
    for (int i = 0; i < FA_ISA_COUNT; i++) {
      const fa_isa_row *row = &rows[i];
      if ((row->arch == FA_ARCH_any || row->arch == FA_ARCH_HERE) && fa_row_runs(row)) f |= 1u << i;
    }
    atomic_store_explicit(&fa_features, f, memory_order_relaxed);
  }
  return isa >= 0 && isa < FA_ISA_COUNT && (f >> isa & 1u);
}

const char *fa_isa_name(fa_isa isa) {
  return isa >= 0 && isa < FA_ISA_COUNT ? rows[isa].name : "unknown";
}

const char *fa_isa_arch(fa_isa isa) {
  return isa >= 0 && isa < FA_ISA_COUNT ? rows[isa].arch_name : "unknown";
}

/* Rank in the architecture's chain; anything else (FA_ISA_COUNT: no cap) ranks above all. */
int fa_isa_rank(fa_isa isa) {
  return isa >= 0 && isa < FA_ISA_COUNT ? rows[isa].rank : 1 << 30;
}

int fa_isa_allowed(fa_isa isa, fa_isa cap) {
  return isa >= 0 && isa < FA_ISA_COUNT && fa_isa_rank(isa) <= fa_isa_rank(cap) &&
         fa_cpu_has(isa);
}

fa_isa fa_isa_from_name(const char *name) {
  for (int i = 0; name && i < FA_ISA_COUNT; i++)
    if (strcmp(rows[i].name, name) == 0) return (fa_isa)i;
  return FA_ISA_COUNT;
}
