"""Routed (adaptive block-sparse) attention, float64 inside.

A cheap router decides, for each query block, which key blocks are worth computing;
attention then runs only over them (block-sparse). This is the content-based block
routing of Routing Transformers (Roy et al., 2021) and of block-selection attention
such as MoBA (Lu et al., 2025) and NSA's selection branch (Yuan et al., 2025), with a
mean-pooled block summary as the scorer:

1. pool: each query block and each key block is summarised by the mean of its rows,
   optionally projected to r dims by a matrix P (D x r): qbar_r = mean(q_block_r) P,
   kbar_c = mean(k_block_c) P;
2. score: s[r, c] = qbar_r . kbar_c for every pair of blocks;
3. select: per query block, the local blocks (key blocks within local_blocks - 1 of the
   block on its diagonal) and the sink blocks (the first sink_blocks key blocks) are
   always kept; the rest of the budget goes to the highest scores (ties: lower block
   index first). The budget is top_k blocks, or round(density * n) blocks where n is the
   number of key blocks the query block may see (all, or the causally visible ones);
4. attend: dense attention restricted to the kept blocks (and causal inside them).

Causal uses the bottom-right alignment of fastattn.attention: query i sits at key
position i + Lk - Lq, and its block's diagonal key block is the one holding the last
row's position.
"""

from __future__ import annotations

import numpy as np

from .dense import attention as dense_attention
from .dense import expand_kv_heads


def block_means(x: np.ndarray, block: int) -> np.ndarray:
    """(..., ceil(L / block), D): the mean of every block of rows (the last one may be short)."""
    length = x.shape[-2]
    return np.stack([x[..., s:s + block, :].mean(axis=-2) for s in range(0, length, block)],
                    axis=-2)


def route_one(q: np.ndarray, k: np.ndarray, block: int, top_k=None, density=None,
              local_blocks: int = 1, sink_blocks: int = 1, causal: bool = False,
              proj=None) -> np.ndarray:
    """Boolean (nqblocks, nkblocks) selection for one head: q (Lq, D), k (Lk, D)."""
    lq, lk = q.shape[0], k.shape[0]
    qbar, kbar = block_means(q, block), block_means(k, block)
    if proj is not None:
        qbar, kbar = qbar @ proj, kbar @ proj
    nq, nk = qbar.shape[0], kbar.shape[0]
    keep = np.zeros((nq, nk), dtype=bool)
    for r in range(nq):
        last_row = min(r * block + block, lq) - 1
        diag = min(max((last_row + lk - lq) // block, 0), nk - 1)
        visible = [c for c in range(nk) if not causal or c * block <= last_row + lk - lq]
        forced = [c for c in visible if abs(c - diag) <= local_blocks - 1 or c < sink_blocks]
        budget = top_k if top_k is not None else int(round(density * len(visible)))
        budget = min(max(budget, 1), len(visible))
        scores = {c: float(qbar[r] @ kbar[c]) for c in visible}
        ranked = sorted((c for c in visible if c not in forced), key=lambda c: (-scores[c], c))
        for c in forced + ranked[:max(0, budget - len(forced))]:
            keep[r, c] = True
    return keep


def route(q, k, block: int = 64, top_k=None, density=None, local_blocks: int = 1,
          sink_blocks: int = 1, causal: bool = False, proj=None) -> np.ndarray:
    """Boolean (..., Hq, nqblocks, nkblocks) block selection for every head (grouped-query
    attention: query head h routes against key head h // (Hq // Hkv))."""
    q = np.asarray(q, dtype=np.float64)
    k = expand_kv_heads(q, np.asarray(k, dtype=np.float64))
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    qf = np.broadcast_to(q, lead + q.shape[-2:]).reshape((-1,) + q.shape[-2:])
    kf = np.broadcast_to(k, lead + k.shape[-2:]).reshape((-1,) + k.shape[-2:])
    p = None if proj is None else np.asarray(proj, dtype=np.float64)
    masks = [route_one(a, b, block, top_k, density, local_blocks, sink_blocks, causal, p)
             for a, b in zip(qf, kf)]
    return np.stack(masks).reshape(lead + masks[0].shape)


def routed_attention(q, k, v, block: int = 64, top_k=None, density=None,
                     local_blocks: int = 1, sink_blocks: int = 1, causal: bool = False,
                     proj=None, scale=None):
    """Route, then attend over the kept blocks; float64 (..., Hq, Lq, Dv)."""
    keep = route(q, k, block, top_k, density, local_blocks, sink_blocks, causal, proj)
    return attention_over_blocks(q, k, v, keep, block, causal, scale)


def attention_over_blocks(q, k, v, keep: np.ndarray, block: int, causal: bool = False,
                          scale=None):
    """Dense attention restricted to a boolean (..., nqblocks, nkblocks) block selection."""
    lq, lk = np.shape(q)[-2], np.shape(k)[-2]
    i = np.arange(lq)[:, None]
    j = np.arange(lk)[None, :]
    visible = keep[..., i // block, j // block]
    if causal:
        visible = visible & (j <= i + lk - lq)
    return dense_attention(q, k, v, mask=visible, scale=scale)
