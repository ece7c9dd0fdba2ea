/* Block-sparse int8: its variants; its checks and entry point are FA_SPARSE_ENTRY's
 * (sparse/op.h), and common/driver.c does the rest (one job per query block of the layout).
 * Built with no ISA flags. */
#include "common/driver.h"
#include "fastattn/sparse.h"
#include "flash/i8.h"
#include "sparse/op.h"

#define FA_OP sparse
#define FA_DTYPE i8
#define FA_ISAS(X) FA_X86_64(X(avx512vnni) X(avx2)) FA_AARCH64(X(neondot) X(neon)) X(scalar)
#include "common/variants.h"

FA_SPARSE_ENTRY(i8)
