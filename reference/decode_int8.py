"""The int8 key/value cache for decoding: its quantisation and attention, step by step.

The decode kernels (csrc/decode/) and `fastattn.KVCache(precision="int8")` follow this
module. Float decoding against a float32 cache is plain attention
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
  head_dim bytes, and no block to re-quantise when a token arrives.

Attention, per query row (float32 arithmetic where the kernel is exact):
- the query row is quantised the same way (its own scale ``qs``), and
  ``qc = qs · (scale · log2 e)`` in float32;
- ``s = Σ q_i k_j`` exactly in int32 (|s| <= head_dim · 127² < 2³¹ for head_dim < 2¹⁶);
- ``t_j = (float(s) · qc) · kscale_j`` in float32: the score in base-2 units;
- then a float softmax: ``w_j = 2^(t_j + mask_j·log2 e - max)`` over the visible keys
  (causal: the Lq queries are the last Lq positions of the cache), and
  ``out = Σ w_j · vscale_j · v_j / Σ w_j``; a row that sees no key is zeros.
The kernels compute the softmax in float32 with an online max over tiles of keys and
merge splits of keys exactly; this reference computes it in float64 (the maths).
"""

from __future__ import annotations

import numpy as np

LOG2E = np.float32(1.4426950408889634)
QMAX = 127


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


def attention(q, kq, ks, vq, vs, mask=None, causal: bool = True, scale=None) -> np.ndarray:
    """Attention of q (B, Hq, Lq, D) to an int8 cache (kq, ks, vq, vs as from
    `quantize_cache`), Lq <= L; causal aligns the queries with the last Lq positions;
    mask boolean (True = attend) or additive float broadcastable to (B, Hq, Lq, L).
    Returns float64 (B, Hq, Lq, Dv)."""
    q = np.asarray(q, dtype=np.float32)
    lq, length = q.shape[2], kq.shape[2]
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    t = scores(q, kq, ks, scale).astype(np.float64)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype == np.bool_:
            mask = np.where(mask, 0.0, -np.inf)
        t = t + mask.astype(np.float32).astype(np.float64) * np.float64(LOG2E)
    if causal:
        visible = np.arange(length)[None, :] <= np.arange(lq)[:, None] + (length - lq)
        t = np.where(visible, t, -np.inf)
    group = q.shape[1] // kq.shape[1]
    values = np.repeat(vq.astype(np.float64) * vs[..., None], group, axis=1)
    top = t.max(axis=-1, keepdims=True)
    seen = np.isfinite(top)
    w = np.where(seen, np.exp2(t - np.where(seen, top, 0.0)), 0.0)
    total = w.sum(axis=-1, keepdims=True)
    out = np.einsum("bhij,bhjd->bhid", w, values)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.0)
