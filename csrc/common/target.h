/* Per-file ISA targets for the <op>/<dtype>-<isa>.c files: after the file's #error guard,
 *   FA_TARGET_BEGIN("avx2,fma")  ...the includes and the code...  FA_TARGET_END
 * enables the ISA for everything in between (GCC: #pragma GCC target; clang, which ignores
 * that pragma: a pushed target attribute), so no ISA flag is ever given library-wide.
 * FA_EXACT_FP turns floating-point contraction off for the rest of the file: the int8 files
 * need it so that t, z and the row sums match the reference bit for bit. clang contracts
 * a * b + c within one statement by default (-ffp-contract=on), so in files with an FMA
 * target `rsum * alpha + sum` became one fma and the SIMD variants drifted an ulp from
 * i8-scalar (whose baseline target has no FMA): STDC FP_CONTRACT OFF, which gcc ignores. */
#ifndef FASTATTN_COMMON_TARGET_H
#define FASTATTN_COMMON_TARGET_H

#define FA_PRAGMA_(x) _Pragma(#x)

#if defined(__clang__)
#define FA_TARGET_BEGIN(isa) \
  FA_PRAGMA_(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define FA_TARGET_END FA_PRAGMA_(clang attribute pop)
#define FA_EXACT_FP FA_PRAGMA_(STDC FP_CONTRACT OFF)
#else
#define FA_TARGET_BEGIN(isa) FA_PRAGMA_(GCC target(isa))
#define FA_TARGET_END
#define FA_EXACT_FP FA_PRAGMA_(GCC optimize("fp-contract=off"))
#endif

#endif
