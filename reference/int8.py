"""int8 attention with a lookup-table softmax: the kernels' arithmetic, step by step.

This module defines the scheme; the C kernels (csrc/flash/i8.h) match it with
identical integer intermediates.

Quantisation (float32 arithmetic, round half to even):
- keys are smoothed: their mean over tokens (per batch and head) is subtracted
  (`smooth_keys` fixes how the mean is summed).
  ``q·(k - μ) = q·k - q·μ`` shifts every score of a query row by the same
  amount, so the softmax does not change, but an outlier channel shared by all
  keys no longer eats the int8 range;
- keys: symmetric int8 in [-127, 127] per block of ``block`` tokens, one
  float32 scale ``max|x| / 127`` per block (1 for an all-zero block);
- queries: the same per block, but 7-bit, in [-63, 63] with scale ``max|x| / 63``
  (`quantize_queries`): then ``(k + 128) · q`` pairs, at most 2 · 255 · 63 = 32,130,
  fit the int16 sums of x86's vpmaddubsw (u8 × s8), so AVX2 computes q·k with one
  vpmaddubsw + vpmaddwd per 32 products and no sign fix-up (with 8-bit q it
  would saturate at 2 · 255 · 127). Measured cost (mean row error vs float64,
  Gaussian, D = 64): 1.92% -> 2.48% at L = 2048, 2.03% -> 2.52% at L = 4096;
  the query quantiser is internal to the kernels, so no stored tensor changes;
- values: symmetric int8 per channel, one float32 scale per channel.

Attention, one query row i at a time over key tiles of 128 keys:
- ``s = Σ q_i k_j`` exactly in int32 (|s| <= 65535 · 63 · 127 < 2³¹ for D < 2¹⁶);
- ``t = (float(s) · qscale_i) · (kscale_j · c)`` in float32 with
  ``c = scale · log2(e)``: scores in base-2 units; ``t += mask · log2(e)``;
  keys outside the causal band get -inf;
- per tile: its max ``mt``; the running max ``m`` becomes ``max(m, mt)`` and the
  old sums are rescaled by ``alpha = 2^(m_old - m)`` when it grows;
- each tile's probabilities are taken against the tile's own reference point
  ``r = m - d / 256`` with ``d = rint(min((m - mt) · 256, 4096))`` (0 when the tile
  holds the max), so that every tile uses P's whole range; the tile's sums are then
  weighted by ``beta = 2^(-d / 256)`` (`tile_weight`, exact float32 tables); a tile
  with d = 4096 (its max more than 16 base-2 units below m) is skipped: its keys
  weigh less than 2^-16 each;
- ``z = clip(rint(min((r - t) · 256, 4095)), 0)``: 8 fractional bits, 4 integer bits;
- ``P = ((T[z & 255] >> ((z >> 8) + 8)) + 1) >> 1``: the fraction through a
  256-entry table ``T[f] ≈ 65024 · 2^(-f/256)``, the integer part by a shift
  (exponent arithmetic), rounded half up: ``P = round(127 · 2^(t - r))``, 7 bits.
  7-bit P makes u8 × s8 pairs fit int16, ``2 · 127 · 127 = 32,258``, so AVX2 forms
  P · v with vpmaddubsw like q · k (8-bit P would saturate it at 2 · 255 · 127), and
  NEON-dotprod takes P as signed bytes in SDOT. The per-tile reference point is what
  keeps 7 bits accurate at long L: against the running max alone, P's rounding error
  grows with L (simulated: mean row error 3.47 % at L = 4096, over the 3 % bound; with it 2.49 %;
  8-bit P against the running max gave 2.51 %);
- ``acc = Σ_j P_j · v_j`` in int32 per tile of 128 keys: |acc| <= 128 · 127 · 127
  = 2,064,512, far below 2³¹, because the accumulator is flushed to float every tile;
  ``o = o · alpha + float(acc) · beta``, ``l = l · alpha + float(Σ P) · beta``;
- ``out = o · (vscale / l)``; a row that sees no key is zeros.

The table ``T[16h + l] = (A[h] · B[l] + 2¹⁴) >> 15`` is the product of two
16-entry tables, ``A[h] = round(65024 · 2^(-h/16))`` and
``B[l] = round(32768 · 2^(-l/256))``, so SIMD code looks it up with two
16-entry shuffles (vpshufb on AVX2, tbl on NEON) and one multiply. Why 256
fraction steps (measured by `lut_error` over x in [-9, 0]): the largest error of
P against ``127 · 2^x`` is 0.50 for an exact exp (P's own rounding), 0.54 with 1024
steps, 0.64 with 256 (this table), 1.09 with 64 and 3.01 with 16; with 256 steps the
index error of 2^x (<= 0.14 %) stays well below P's rounding step at the top of its
range (1/127 = 0.79 %), while 64 steps (0.54 %) come close to it.
"""

from __future__ import annotations

import numpy as np

LOG2E = np.float32(1.4426950408889634)
QMAX = 127
QUERY_QMAX = 63
FRAC_BITS = 8
Z_MAX = 4095
KEY_TILE = 128
DEFAULT_BLOCK = 64
P_MAX = 127
D_SKIP = 4096  # a tile whose max is this many 1/256 steps below the running max is skipped

TABLE_A = np.round(2 * P_MAX * 256.0 * 2.0 ** (-np.arange(16) / 16.0)).astype(np.int64)
TABLE_B = np.round(32768.0 * 2.0 ** (-np.arange(16) / 256.0)).astype(np.int64)
# The 256-entry fraction table: T[f] for f = 16h + l.
TABLE = ((TABLE_A[:, None] * TABLE_B[None, :] + (1 << 14)) >> 15).reshape(256)
# The tile weights 2^(-d/256) = 2^(-(d >> 8)) · WEIGHT_A[(d >> 4) & 15] · WEIGHT_B[d & 15]:
# float32 (each value more than 0.04 float32 ulps from a rounding tie, so any libm's
# float64 power rounds to the same float32 as the C tables hold).
WEIGHT_A = np.float32(2.0 ** (-np.arange(16) / 16.0))
WEIGHT_B = np.float32(2.0 ** (-np.arange(16) / 256.0))


def exp_lut(z: np.ndarray) -> np.ndarray:
    """P = round(127 · 2^(-z/256)) through the table: z int in [0, 4095] -> int in [0, 127]."""
    z = np.asarray(z, dtype=np.int64)
    return ((TABLE[z & 255] >> ((z >> FRAC_BITS) + 8)) + 1) >> 1


def lut_error(frac_bits: int = FRAC_BITS) -> dict:
    """Measured error of P for a fraction table of 2**frac_bits steps, on a fine grid of x in
    [-9, 0]: the largest |P - 127·2^x| (in units of P) and the largest relative error of
    2^x before P is rounded to an integer."""
    steps = 1 << frac_bits
    x = -np.linspace(0.0, 9.0, 200001)
    z = np.minimum(np.rint(-x * steps), 16 * steps - 1).astype(np.int64)
    exact = P_MAX * np.exp2(x)
    if frac_bits == FRAC_BITS:  # the real (product) table
        p = exp_lut(z)
    else:
        frac = np.round(2 * P_MAX * 256.0 * np.exp2(-(z & (steps - 1)) / steps)).astype(np.int64)
        p = ((frac >> ((z >> frac_bits) + 8)) + 1) >> 1
    fine = 2.0 ** (-(z / steps))
    rel = np.abs(fine - np.exp2(x)) / np.exp2(x)
    return {"max_abs_p": float(np.max(np.abs(p - exact))), "max_rel_index": float(rel.max())}


def tile_weight(d: int) -> np.float32:
    """beta = 2^(-d/256) for an integer d in [0, 4095], in float32 as the kernels form it."""
    frac = WEIGHT_A[(d >> 4) & 15] * WEIGHT_B[d & 15]
    return np.float32(frac * np.float32(2.0 ** -(d >> 8)))


def quantize_blocks(x: np.ndarray, block: int, qmax: int = QMAX):
    """Symmetric int8 in [-qmax, qmax] per block of `block` tokens (axis -2): (int8 data,
    float32 scales max|x| / qmax)."""
    x = np.asarray(x, dtype=np.float32)
    length = x.shape[-2]
    nblocks = -(-length // block)
    padded = np.zeros(x.shape[:-2] + (nblocks * block, x.shape[-1]), dtype=np.float32)
    padded[..., :length, :] = x
    blocks = padded.reshape(x.shape[:-2] + (nblocks, block * x.shape[-1]))
    amax = np.abs(blocks).max(axis=-1)
    scale = np.where(amax == 0, np.float32(1.0), amax / np.float32(qmax)).astype(np.float32)
    per_token = np.repeat(scale, block, axis=-1)[..., :length, None]
    data = np.clip(np.rint(x / per_token), -qmax, qmax).astype(np.int8)
    return data, scale


def quantize_queries(q: np.ndarray, block: int):
    """The kernels' query quantisation: 7-bit, in [-63, 63], per block of `block` tokens."""
    return quantize_blocks(q, block, QUERY_QMAX)


def quantize_channels(x: np.ndarray):
    """Symmetric int8 per channel (over tokens, axis -2): (int8 data, float32 scales (..., D))."""
    x = np.asarray(x, dtype=np.float32)
    amax = np.abs(x).max(axis=-2)
    scale = np.where(amax == 0, np.float32(1.0), amax / np.float32(QMAX)).astype(np.float32)
    data = np.clip(np.rint(x / scale[..., None, :]), -QMAX, QMAX).astype(np.int8)
    return data, scale


def smooth_keys(k: np.ndarray):
    """(k - mean over tokens, the mean (..., 1, D)), float32. The mean is a float64 sum
    taken token after token (cumsum: a fixed order, which the C quantiser follows),
    divided by the length, rounded to float32."""
    k = np.asarray(k, dtype=np.float32)
    total = np.cumsum(k.astype(np.float64), axis=-2)[..., -1:, :]
    mean = (total / k.shape[-2]).astype(np.float32)
    return k - mean, mean


def attend_row(qi, qscale, ki, kscale, vi, vscale, c, additive, key_tile=KEY_TILE, tiles=None):
    """One query row: qi (D,) int8, qscale float32, ki (Lk, D) int8, kscale (Lk,) float32 per
    key, vi (Lk, Dv) int8, vscale (Dv,) float32, c = scale·log2(e), additive (Lk,) float32 in
    base-2 units (0 or -inf or mask · log2(e)). `tiles` lists the key tiles in the order
    they are visited, each as an index of its keys (a slice or an array of key numbers;
    default: slices of key_tile keys from 0; block-sparse attention passes the tiles of its
    listed keys, see reference/sparse_int8.py); keys in no tile are not seen. Returns the
    float32 output row and the ints (s, P per key) for inspection."""
    s = ki.astype(np.int64) @ qi.astype(np.int64)
    assert np.abs(s).max(initial=0) < 2**31
    t = (s.astype(np.float32) * qscale) * (kscale * c)
    t = (t + additive).astype(np.float32)
    m = np.float32(-np.inf)
    o = np.zeros(vi.shape[1], dtype=np.float32)
    total = np.float32(0.0)
    p_all = np.zeros(len(t), dtype=np.int64)
    if tiles is None:
        tiles = [slice(j0, j0 + key_tile) for j0 in range(0, len(t), key_tile)]
    for keys in tiles:
        tile = t[keys]
        tile_max = tile.max()
        if tile_max == -np.inf:
            continue
        alpha, beta, d = np.float32(1.0), np.float32(1.0), 0
        if tile_max > m:
            alpha = np.float32(0.0) if m == -np.inf else np.exp2(np.float32(m - tile_max))
            m = tile_max
        else:
            d = int(np.rint(min((m - tile_max) * np.float32(256.0), np.float32(D_SKIP))))
            if d == D_SKIP:
                continue
            beta = tile_weight(d)
        ref = np.float32(m - np.float32(d) * np.float32(1.0 / 256))
        z = np.rint(np.minimum((ref - tile) * np.float32(256.0), np.float32(Z_MAX)))
        p = exp_lut(np.maximum(z, 0).astype(np.int64))
        acc = p @ vi[keys].astype(np.int64)
        assert np.abs(acc).max(initial=0) < 2**31
        o = o * alpha + acc.astype(np.float32) * beta
        total = total * alpha + np.float32(p.sum()) * beta
        p_all[keys] = p
    if total == 0:
        return np.zeros(vi.shape[1], dtype=np.float32), s, p_all
    return o * (vscale / total), s, p_all


def additive_mask(mask, shape: tuple):
    """A boolean (True = attend) or additive mask as float32 broadcast to `shape`; None stays
    None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        mask = np.where(mask, np.float32(0.0), np.float32(-np.inf))
    return np.broadcast_to(mask.astype(np.float32), shape)


def attention_quantized(qi, qscale, q_block, ki, kscale, k_block, vi, vscale, mask=None,
                        causal: bool = False, scale=None, causal_offset=None):
    """int8 attention on quantised 4-d inputs: qi (B, Hq, Lq, D) int8 with qscale
    (B, Hq, ceil(Lq/q_block)), ki (B, Hkv, Lk, D) with kscale (B, Hkv, ceil(Lk/k_block)),
    vi (B, Hkv, Lk, Dv) with vscale (B, Hkv, Dv); mask additive (natural log) or boolean,
    broadcastable to (B, Hq, Lq, Lk). Returns float32 (B, Hq, Lq, Dv)."""
    b, hq, lq, d = qi.shape
    hkv, lk, dv = ki.shape[1], ki.shape[2], vi.shape[3]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    c = np.float32(scale) * LOG2E
    additive = np.zeros((lq, lk), dtype=np.float32)
    if causal:
        offset = lk - lq if causal_offset is None else causal_offset
        visible = np.arange(lk)[None, :] <= np.arange(lq)[:, None] + offset
        additive = np.where(visible, np.float32(0.0), np.float32(-np.inf))
    mask = additive_mask(mask, (b, hq, lq, lk))
    out = np.zeros((b, hq, lq, dv), dtype=np.float32)
    for bi in range(b):
        for h in range(hq):
            kh = h // (hq // hkv)
            kscale_tok = np.repeat(kscale[bi, kh], k_block)[:lk]
            for i in range(lq):
                add = additive[i]
                if mask is not None:
                    add = (add + mask[bi, h, i] * LOG2E).astype(np.float32)
                out[bi, h, i] = attend_row(qi[bi, h, i], qscale[bi, h, i // q_block], ki[bi, kh],
                                           kscale_tok, vi[bi, kh], vscale[bi, kh], c, add)[0]
    return out


def attention(q, k, v, mask=None, causal: bool = False, scale=None, causal_offset=None,
              block: int = DEFAULT_BLOCK, smooth: bool = True):
    """int8 attention of 4-d float inputs q (B, Hq, Lq, D), k (B, Hkv, Lk, D),
    v (B, Hkv, Lk, Dv): quantise as described above, then `attention_quantized`."""
    q = np.asarray(q, dtype=np.float32)
    k = np.asarray(k, dtype=np.float32)
    if smooth:
        k, _ = smooth_keys(k)
    qi, qs = quantize_queries(q, block)
    ki, ks = quantize_blocks(k, block)
    vi, vs = quantize_channels(v)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    return attention_quantized(qi, qs, block, ki, ks, block, vi, vs, mask, causal, scale,
                               causal_offset)
