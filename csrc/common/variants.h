/* An op's variant table, generated from its one list. In <op>/dispatch-<dtype>.c:
 *   #define FA_OP dense
 *   #define FA_DTYPE i8
 *   #define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
 *   #include "common/variants.h"
 * declares the job function fa_<op>_<dtype>__<isa>() of every listed ISA (each defined in
 * <op>/<dtype>-<isa>.c) and defines fa_<op>_<dtype>_variants[] (best first, scalar last)
 * and fa_<op>_<dtype>_nvariants, and fa_drive_variants(), the op's entry point after its
 * checks. An ISA listed under the wrong architecture fails to compile (its arch comes from
 * fastattn/isa.def). */
#include "common/driver.h"
#include "fastattn/variant.h"

#define FA_VJOIN_(op, dtype, isa) fa_##op##_##dtype##__##isa
#define FA_VJOIN(op, dtype, isa) FA_VJOIN_(op, dtype, isa)
#define FA_VTABLE_(op, dtype, what) fa_##op##_##dtype##_##what
#define FA_VTABLE(op, dtype, what) FA_VTABLE_(op, dtype, what)
#define FA_VSTR_(x) #x
#define FA_VSTR(x) FA_VSTR_(x)

#define FA_VARIANT_PROTO(isa)                                                         \
  _Static_assert((int)FA_ISA_ARCH_##isa == FA_ARCH_any || (int)FA_ISA_ARCH_##isa == FA_ARCH_HERE, \
                 #isa " is listed under the wrong architecture (see fastattn/isa.def)"); \
  fa_status FA_VJOIN(FA_OP, FA_DTYPE, isa)(const void *params, const fa_job *job, void *workspace);
#define FA_VARIANT_ENTRY(isa) {FA_VSTR(FA_DTYPE) "-" #isa, FA_ISA_##isa, FA_VJOIN(FA_OP, FA_DTYPE, isa)},

FA_ISAS(FA_VARIANT_PROTO)

const fa_variant FA_VTABLE(FA_OP, FA_DTYPE, variants)[] = {FA_ISAS(FA_VARIANT_ENTRY)};
const size_t FA_VTABLE(FA_OP, FA_DTYPE, nvariants) =
    sizeof(FA_VTABLE(FA_OP, FA_DTYPE, variants)) / sizeof(fa_variant);

/* The end of the op's entry point: `checked` (the status of its checks) when it is not FA_OK,
 * else fa_drive of `run` on this op's table. The run may be filled before the checks (it is
 * arithmetic on the params' fields) since it is only used when they pass. */
static inline fa_status fa_drive_variants(fa_status checked, const fa_run *run, size_t index,
                                          size_t nthreads, void *workspace, size_t workspace_size) {
  if (checked != FA_OK) return checked;
  return fa_drive(run, FA_VTABLE(FA_OP, FA_DTYPE, variants), FA_VTABLE(FA_OP, FA_DTYPE, nvariants),
                  index, nthreads, workspace, workspace_size);
}
