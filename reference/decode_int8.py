"""The int8 key/value cache for decoding: its quantisation and attention, step by step.

The decode kernels (csrc/decode/) and `fastattn.KVCache(precision="int8")` follow this
module, bit for bit: `attention` below does the kernels' float32 and integer arithmetic
in their order. Float decoding against a float32 cache is plain attention
(``reference/dense.py``, causal bottom-right); this module covers only the int8 cache,
whose scheme differs from the dense int8 one (``reference/int8.py``) because a cache
grows one token at a time: nothing may depend on tokens that have not arrived, and
appending a token must cost O(head_dim) work.

Cache (at append time, float32 arithmetic, round half to even):
- the key mean ``μ`` (per batch and kv head) is the mean of the keys of the *first*
  append (typically the prompt): a float64 sum over those tokens divided by their
  count, rounded to float32, then frozen. Later keys are smoothed with the same μ.
  ``q·(k - μ) = q·k - q·μ`` shifts every score of a query row by the same amount, so
  the softmax is unchanged, as long as μ is the same for every key of the row;
- every key token ``x = k - μ`` and every value token ``x = v`` gets its own scale
  ``max|x| / 127`` (1 for an all-zero token) and int8 data
  ``clamp(rint(x / scale), -127, 127)``: one float32 per token and kv head beside
  head_dim bytes, and no block to re-quantise when a token arrives. (The cache stores
  values in groups of 4 tokens, channel-major inside a group, for the integer P·V; that
  is layout only.)

Attention, per query row:
- the query row is quantised the same way (its own scale ``qs``), and
  ``qc = qs · (scale · log2 e)`` in float32;
- ``s = Σ q_i k_j`` exactly in int32 (|s| <= head_dim · 127² < 2³¹ for head_dim < 2¹⁶);
- ``t_j = (float(s) · qc) · kscale_j`` in float32, the score in base-2 units;
  ``t_j += mask_j · log2 e``; keys the row may not see get -inf (causal: the Lq queries
  are the last Lq positions of the cache);
- the keys are cut into splits of SPLIT keys, each split into tiles of TILE keys, each
  tile into blocks of BLOCK keys. Per split and row, an online softmax over its tiles
  (running max ``m``, sum ``l``, output ``o``, all float32): for a tile with max
  ``m_t > -inf``: ``m' = max(m, m_t)``, ``α = exp2(m - m')`` (0 while ``m = -inf``),
  ``p_j = exp2(t_j - m')``, ``l = l·α + float(Σ_j rint(p_j · 2^18)) · 2^-18`` (the tile's
  sum in integers, so its order cannot matter), ``o = o·α``; then per block of BLOCK
  keys: the weights ``w_j = p_j · vscale_j``, their max ``w_max`` (a block with
  ``w_max = 0`` adds nothing), ``W_j = clamp(rint(w_j · (127 / w_max)), 0, 127)`` (7 bits,
  so x86's u8 x s8 pair sums and Arm's signed dot products take them as they are),
  ``acc = Σ_j W_j · v_j`` exactly in int32 (<= BLOCK · 127², far below 2³¹) and
  ``o = o + float(acc) · (w_max · float32(1 / 127))``;
- one split: ``out = o · (1 / l)``. Several: ``M = max`` of the splits' ``m``,
  ``L = Σ exp2(m_s - M) · l_s`` and ``O = Σ exp2(m_s - M) · o_s`` in split order,
  ``out = O · (1 / L)``. A row that sees no key is zeros.
- ``exp2`` is the kernels' own: for x <= 0, ``n = rint(x)`` (x clamped to >= -126 first),
  ``f = x - n``, a degree-6 polynomial in f by Horner's rule (separate multiplies and
  adds, no fused multiply-add), times ``2^n`` by adding n to the exponent bits; 0 below
  -125 (so exp2(-inf) = 0).
"""

from __future__ import annotations

import numpy as np

LOG2E = np.float32(1.4426950408889634)
QMAX = 127
WMAX = 127  # integer weights of P·V: 0..127
SPLIT, TILE, BLOCK = 256, 64, 16  # keys per split (one job), softmax tile, weight block
SUM_BITS = 18  # a tile's probabilities are summed as integers p · 2^18 (64 · 2^18 = 2^24)
# csrc/common/exp2.h's fa_exp2_poly6, Horner order (tests/test_csrc.py checks they agree)
EXP2_POLY = tuple(np.float32(c) for c in (1.5403530e-4, 1.3333558e-3, 9.6181291e-3,
                                          5.5504109e-2, 2.4022651e-1, 6.9314718e-1, 1.0))


def key_mean(k_first: np.ndarray) -> np.ndarray:
    """The frozen smoothing mean from the keys of the first append, (..., n, D) ->
    (..., 1, D) float32: a float64 sum over the tokens divided by n."""
    k64 = np.ascontiguousarray(k_first, dtype=np.float64)
    return (k64.sum(axis=-2, keepdims=True) / k64.shape[-2]).astype(np.float32)


def quantize_tokens(x: np.ndarray):
    """Symmetric int8 per token (row of axis -1): (int8 data, float32 scales (..., L))."""
    x = np.asarray(x, dtype=np.float32)
    amax = np.abs(x).max(axis=-1)
    scale = np.where(amax == 0, np.float32(1.0), amax / np.float32(QMAX)).astype(np.float32)
    data = np.clip(np.rint(x / scale[..., None]), -QMAX, QMAX).astype(np.int8)
    return data, scale


def quantize_cache(k: np.ndarray, v: np.ndarray, first: int):
    """The cache's content after appending k, v (B, Hkv, L, D) whose first `first` tokens
    came in the first append: (k data, k scales, mean, v data, v scales)."""
    k = np.asarray(k, dtype=np.float32)
    mean = key_mean(k[..., :first, :])
    kq, ks = quantize_tokens(k - mean)
    vq, vs = quantize_tokens(v)
    return kq, ks, mean, vq, vs


def quantize_query(q: np.ndarray, scale: float):
    """Query rows (..., D): (int8 data, qc = q_scale · scale · log2 e as float32 (...,))."""
    qi, qs = quantize_tokens(q)
    c = np.float32(scale) * LOG2E
    return qi, (qs * c).astype(np.float32)


def scores(q, kq, ks, scale: float) -> np.ndarray:
    """t (B, Hq, Lq, L) float32 in base-2 units, for q (B, Hq, Lq, D) float and the
    cache's keys kq (B, Hkv, L, D) int8 with scales ks (B, Hkv, L) (GQA by head groups)."""
    group = q.shape[1] // kq.shape[1]
    qi, qc = quantize_query(q, scale)
    kq_h = np.repeat(kq, group, axis=1).astype(np.int64)
    s = np.einsum("bhid,bhjd->bhij", qi.astype(np.int64), kq_h)
    assert np.abs(s).max(initial=0) < 2**31
    ks_h = np.repeat(ks, group, axis=1)[:, :, None, :]
    return (s.astype(np.float32) * qc[..., None]) * ks_h


def exp2(x) -> np.ndarray:
    """The kernels' 2^x for float32 x <= 0 (or -inf), bit for bit."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0:  # array arithmetic wraps uint32 silently, scalar arithmetic warns
        return exp2(x.reshape(1))[0]
    xc = np.maximum(x, np.float32(-126.0))
    n = np.rint(xc)
    f = xc - n
    p = np.full_like(f, EXP2_POLY[0])
    for c in EXP2_POLY[1:]:
        p = p * f + c
    bits = p.view(np.uint32) + (n.astype(np.int32).view(np.uint32) << np.uint32(23))
    return np.where(x >= np.float32(-125.0), bits.view(np.float32), np.float32(0.0))


def _tile(t, values, vs, m, total_p, o):
    """One softmax tile for every row at once: t (R, n) float32, values (R, n, Dv) int64,
    vs (R, n) float32; updates and returns the running m (R,), total_p (R,), o (R, Dv)."""
    m_tile = t.max(axis=-1)
    live = m_tile > -np.inf  # rows that see a key of this tile
    m_new = np.where(live, np.maximum(m, m_tile), m)
    safe = np.where(live, m_new, np.float32(0.0))
    alpha = np.where(m == -np.inf, np.float32(0.0), exp2(m - safe))
    alpha = np.where(live, alpha, np.float32(1.0))
    p = exp2(t - safe[:, None])
    total = np.rint(p * np.float32(2.0**SUM_BITS)).astype(np.int64).sum(axis=-1)
    total_p = total_p * alpha + total.astype(np.float32) * np.float32(2.0**-SUM_BITS)
    o = o * alpha[:, None]
    for c0 in range(0, t.shape[1], BLOCK):
        w = p[:, c0:c0 + BLOCK] * vs[:, c0:c0 + BLOCK]
        w_max = w.max(axis=-1)
        used = live & (w_max > 0)
        safe_max = np.where(used, w_max, np.float32(1.0))
        r = np.float32(WMAX) / safe_max
        weights = np.clip(np.rint(w * r[:, None]), 0, WMAX).astype(np.int64)
        acc = np.einsum("rj,rjx->rx", weights, values[:, c0:c0 + BLOCK])
        assert np.abs(acc).max(initial=0) < 2**31
        g = safe_max * np.float32(1.0 / WMAX)
        o = np.where(used[:, None], o + acc.astype(np.float32) * g[:, None], o)
    return m_new, total_p, o


def attention(q, kq, ks, vq, vs, mask=None, causal: bool = True, scale=None) -> np.ndarray:
    """Attention of q (B, Hq, Lq, D) to an int8 cache (kq, ks, vq, vs as from
    `quantize_cache`), Lq <= L; causal aligns the queries with the last Lq positions;
    mask boolean (True = attend) or additive float broadcastable to (B, Hq, Lq, L).
    Returns float32 (B, Hq, Lq, Dv), equal to the kernels' output."""
    q = np.asarray(q, dtype=np.float32)
    b, hq, lq, _ = q.shape
    length, dv = kq.shape[2], vq.shape[3]
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    t = scores(q, kq, ks, scale)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype == np.bool_:
            mask = np.where(mask, np.float32(0.0), np.float32(-np.inf))
        add = np.broadcast_to(mask.astype(np.float32), t.shape) * LOG2E
        t = np.where(np.isneginf(add), np.float32(-np.inf), t + add)
    if causal:
        visible = np.arange(length)[None, :] <= np.arange(lq)[:, None] + (length - lq)
        t = np.where(visible, t, np.float32(-np.inf))
    group = hq // kq.shape[1]
    rows = b * hq * lq
    t = t.astype(np.float32).reshape(rows, length)
    values = np.broadcast_to(np.repeat(vq, group, axis=1)[:, :, None],
                             (b, hq, lq, length, dv)).reshape(rows, length, dv).astype(np.int64)
    scales = np.broadcast_to(np.repeat(vs, group, axis=1)[:, :, None],
                             (b, hq, lq, length)).reshape(rows, length)
    parts = []
    for s0 in range(0, max(length, 1), SPLIT):
        m = np.full(rows, -np.inf, np.float32)
        total_p = np.zeros(rows, np.float32)
        o = np.zeros((rows, dv), np.float32)
        for j0 in range(s0, min(s0 + SPLIT, length), TILE):
            j1 = min(j0 + TILE, length)
            m, total_p, o = _tile(t[:, j0:j1], values[:, j0:j1], scales[:, j0:j1], m, total_p, o)
        parts.append((m, total_p, o))
    if len(parts) == 1:
        m, total_p, o = parts[0]
        seen = total_p != 0
        inv = np.float32(1.0) / np.where(seen, total_p, np.float32(1.0))
        out = np.where(seen[:, None], o * inv[:, None], np.float32(0.0))
    else:
        top = np.max([m for m, _, _ in parts], axis=0)
        seen = top > -np.inf
        safe_top = np.where(seen, top, np.float32(0.0))
        total = np.zeros(rows, np.float32)
        out = np.zeros((rows, dv), np.float32)
        for m, total_p, o in parts:
            live = m > -np.inf
            w = exp2(np.where(live, m - safe_top, np.float32(0.0)))
            total = np.where(live, total + w * total_p, total)
            out = np.where(live[:, None], out + w[:, None] * o, out)
        inv = np.float32(1.0) / np.where(seen, total, np.float32(1.0))
        out = np.where(seen[:, None], out * inv[:, None], np.float32(0.0))
    return out.astype(np.float32).reshape(b, hq, lq, dv)
