"""Block-sparse attention (Child et al., 2019; Beltagy et al., 2020; Zaheer et al., 2020),
float64 inside: dense attention with the mask a block layout stands for.

A layout is given as a CSR over blocks: query block r (queries r*block_q ... r*block_q +
block_q - 1) visits the key blocks indices[indptr[r]:indptr[r + 1]] (key block c holds
keys c*block_k ... c*block_k + block_k - 1). indptr may have leading dims (one layout per
head, say), which broadcast against the leading dims of q (..., Hq). Inside the visited
blocks, token-level edges decide which keys query i sees:

    visible(i, j) = in_block(i, j) and causal(i, j) and (window(i, j) or global(i, j))

- window = (left, right): i - left <= j <= i + right (None: every key);
- causal: j <= i + (Lk - Lq), bottom-right alignment, as in fastattn.attention;
- global tokens (Longformer): positions t whose query attends to every key and whose key
  is attended by every query, regardless of the window (causal still applies).

A query row that sees no key returns zeros.
"""

from __future__ import annotations

import numpy as np

from .dense import attention as dense_attention


def block_mask(indptr, indices, nkblocks: int) -> np.ndarray:
    """Boolean (..., nqblocks, nkblocks): True where a query block visits a key block."""
    indptr = np.asarray(indptr)
    lead, nq = indptr.shape[:-1], indptr.shape[-1] - 1
    flat = indptr.reshape(-1, nq + 1)
    out = np.zeros((flat.shape[0], nq, nkblocks), dtype=bool)
    for layout in range(flat.shape[0]):
        for r in range(nq):
            for e in range(flat[layout, r], flat[layout, r + 1]):
                out[layout, r, indices[e]] = True
    return out.reshape(lead + (nq, nkblocks))


def token_mask(indptr, indices, lq: int, lk: int, block_q: int, block_k: int, window=None,
               causal: bool = False, global_tokens=None) -> np.ndarray:
    """Boolean (..., Lq, Lk): True where query i sees key j (see the module docstring)."""
    nkblocks = -(-lk // block_k)
    blocks = block_mask(indptr, indices, nkblocks)
    i = np.arange(lq)[:, None]
    j = np.arange(lk)[None, :]
    in_block = blocks[..., i // block_q, j // block_k]
    near = np.ones((lq, lk), dtype=bool)
    if window is not None:
        left, right = window
        near = (j >= i - left) & (j <= i + right)
    if global_tokens is not None and len(global_tokens) > 0:
        g = np.asarray(global_tokens)
        near = near | np.isin(i, g) | np.isin(j, g)
    if causal:
        near = near & (j <= i + (lk - lq))
    return in_block & near


def block_sparse_attention(q, k, v, indptr, indices, block_q: int, block_k: int, window=None,
                           causal: bool = False, global_tokens=None, mask=None, scale=None):
    """Attention restricted to a block layout (plus an optional user mask, boolean or
    additive); float64 of shape (..., Hq, Lq, Dv)."""
    lq, lk = np.shape(q)[-2], np.shape(k)[-2]
    visible = token_mask(indptr, indices, lq, lk, block_q, block_k, window, causal,
                         global_tokens)
    additive = np.where(visible, 0.0, -np.inf)
    if mask is not None:
        mask = np.asarray(mask)
        additive = additive + (np.where(mask, 0.0, -np.inf) if mask.dtype == np.bool_
                               else mask.astype(np.float64))
    return dense_attention(q, k, v, mask=additive, scale=scale)
