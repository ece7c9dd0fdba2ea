/* The kernels' polynomials for 2^f, f in [-0.5, 0.5], in Horner order (highest degree
 * first). Each ISA writes out its Horner steps on fa_exp2_poly6[i] (constant indices
 * compile exactly as the literals did; a loop lets GCC schedule the code differently).
 * reference/decode_int8.py restates the degree-6 one (EXP2_POLY): the int8 decode kernels
 * match it bit for bit. Constants only: no ISA flags needed. */
#ifndef FASTATTN_COMMON_EXP2_H
#define FASTATTN_COMMON_EXP2_H

/* Degree 6, the Taylor coefficients ln(2)^i / i! (relative error < 2.2e-7 in float32
 * Horner): the flash engines, the AVX-512 low-rank exp2 and both decode engines. */
static const float fa_exp2_poly6[7] = {1.5403530e-4f, 1.3333558e-3f, 9.6181291e-3f,
                                       5.5504109e-2f, 2.4022651e-1f, 6.9314718e-1f, 1.0f};

/* Its six Horner steps on p (holding fa_exp2_poly6[0]) for any type with `*` and `+` by a
 * float: plain float and GCC vector types (the decode engines); the intrinsic ISAs write
 * theirs out. */
#define FA_EXP2_POLY6_STEPS(p, f)                                                             \
  do {                                                                                       \
    (p) = (p) * (f) + fa_exp2_poly6[1];                                                      \
    (p) = (p) * (f) + fa_exp2_poly6[2];                                                      \
    (p) = (p) * (f) + fa_exp2_poly6[3];                                                      \
    (p) = (p) * (f) + fa_exp2_poly6[4];                                                      \
    (p) = (p) * (f) + fa_exp2_poly6[5];                                                      \
    (p) = (p) * (f) + fa_exp2_poly6[6];                                                      \
  } while (0)

/* Degree 5, a near-minimax fit (Lawson's iteration on relative error), 2.1e-7 relative in
 * float32 Horner: as accurate as degree 6, one FMA fewer (the low-rank kernels' exp2 on
 * AVX2 and AVX-512). */
static const float fa_exp2_poly5[6] = {1.3276471e-3f, 9.6755419e-3f, 5.5507131e-2f,
                                       2.4022120e-1f, 6.9314694e-1f, 1.0000001f};

#endif
