"""Scaled dot-product attention (Vaswani et al., 2017), float64 inside.

    out = softmax(q kᵀ · scale + mask) v

Conventions (the same as fastattn.attention):
- shapes q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv), leading dims broadcast;
  grouped-query attention when q has g times as many heads (axis -3) as k and v:
  query head h reads key/value head h // g;
- mask: boolean (True = attend) or additive float, broadcastable to (..., Hq, Lq, Lk);
- causal: query i sees keys j <= i + causal_offset; the default offset Lk - Lq is
  bottom-right alignment (equal to PyTorch's top-left one when Lq == Lk);
- a query row that sees no key returns zeros.
"""

from __future__ import annotations

import numpy as np


def expand_kv_heads(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Repeat key/value heads so that x has as many heads as q (grouped-query attention)."""
    if q.ndim < 3 or x.ndim < 3:
        return x
    hq, hkv = q.shape[-3], x.shape[-3]
    if hq != hkv and hkv != 1 and hq % hkv == 0:
        x = np.repeat(x, hq // hkv, axis=-3)
    return x


def attention_mask(lq: int, lk: int, mask=None, causal: bool = False, causal_offset=None):
    """The additive float64 mask of shape broadcastable to (..., Lq, Lk): 0 = attend, -inf = not."""
    additive = np.zeros((lq, lk))
    if causal:
        offset = lk - lq if causal_offset is None else causal_offset
        i = np.arange(lq)[:, None]
        j = np.arange(lk)[None, :]
        additive = np.where(j <= i + offset, 0.0, -np.inf)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype == np.bool_:
            mask = np.where(mask, 0.0, -np.inf)
        additive = additive + mask.astype(np.float64)
    return additive


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, with rows that are all -inf giving zeros."""
    row_max = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(row_max)
    shifted = scores - np.where(empty, 0.0, row_max)
    weights = np.exp(shifted)
    total = weights.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(empty, 0.0, weights / np.where(empty, 1.0, total))


def attention(q, k, v, mask=None, causal: bool = False, scale=None, causal_offset=None):
    """Dense attention in float64; returns float64 of shape (..., Hq, Lq, Dv)."""
    q = np.asarray(q, dtype=np.float64)
    k = expand_kv_heads(q, np.asarray(k, dtype=np.float64))
    v = expand_kv_heads(q, np.asarray(v, dtype=np.float64))
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    scores = scores + attention_mask(q.shape[-2], k.shape[-2], mask, causal, causal_offset)
    return np.matmul(softmax_rows(scores), v)
