"""Routed attention: a cheap router picks, for each query block, the key blocks worth
computing; the block-sparse engine then attends over only those."""

from __future__ import annotations

import math
import time

import numpy as np

from fastattn._inputs import prepare
from fastattn.int8 import QuantizedTensor
from fastattn.sparse import (
    BlockLayout,
    _check_bool,
    _nonneg_int,
    _positive_int,
    block_sparse_attention,
)


def _budget(top_k, density, visible: np.ndarray) -> np.ndarray:
    """Key blocks to keep per query block (before the always-kept ones are added)."""
    if top_k is not None and density is not None:
        raise ValueError("give top_k or density, not both")
    if top_k is not None:
        k = _positive_int(top_k, "top_k")
        return np.minimum(k, visible)
    if density is None:
        density = 0.125
    if isinstance(density, (bool, np.bool_)) or not isinstance(density, (int, float, np.number)):
        raise TypeError(f"density must be a number in (0, 1], got {density!r}")
    density = float(density)
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return np.minimum(np.maximum(np.round(density * visible).astype(np.int64), 1), visible)


def _block_means(x: np.ndarray, block: int) -> np.ndarray:
    """(B, H, nblocks, D) float64 means of every block of rows of a (B, H, L, D) array."""
    b, h, length, d = x.shape
    full = length // block
    parts = [x[:, :, :full * block].reshape(b, h, full, block, d).sum(axis=3, dtype=np.float64)
             / block]
    if length % block:
        parts.append(x[:, :, full * block:].mean(axis=2, keepdims=True, dtype=np.float64))
    return np.concatenate(parts, axis=2) if len(parts) > 1 else parts[0]


def route(
    q,
    k,
    block: int = 64,
    top_k: int | None = None,
    density: float | None = None,
    local_blocks: int = 1,
    sink_blocks: int = 1,
    causal: bool = False,
    proj=None,
) -> BlockLayout:
    """Choose, per query block and head, the key blocks worth attending to.

    Each query block and key block is summarised by the mean of its rows (optionally
    projected to ``r`` dims by ``proj``, a ``(D, r)`` matrix), every pair of summaries
    is scored by a dot product, and each query block keeps its highest-scoring key
    blocks, always including its local blocks (within ``local_blocks - 1`` of the key
    block on its diagonal) and the first ``sink_blocks`` key blocks. Content-based block
    routing as in Routing Transformers (Roy et al., 2021) and MoBA (Lu et al., 2025).

    Cost: pooling O((Lq + Lk) D), scoring O(nq nk r) with ``nq = Lq / block``,
    ``nk = Lk / block``, ``r = D`` (or the projection's width), selection
    O(nq nk log nk), per head: for L = 8192, block = 64 that is 16 k block pairs against
    the 67 M query-key pairs of dense attention. The measured time is in
    ``layout.meta["routing_seconds"]``.

    Parameters
    ----------
    q, k : array_like
        As in :func:`fastattn.attention` (grouped-query attention: query head ``h`` routes
        against key head ``h // (Hq // Hkv)``).
    block : int
        Block size in tokens (queries and keys).
    top_k : int, optional
        Key blocks kept per query block, the always-kept ones included.
    density : float, optional
        Instead of ``top_k``: keep ``round(density * n)`` key blocks per query block, ``n``
        the key blocks it may see (all, or the causally visible ones). Default 0.125.
    local_blocks, sink_blocks : int
        Always-kept blocks (see above); ``sink_blocks=0`` disables sinks.
    causal : bool
        Bottom-right causal alignment as in :func:`fastattn.attention`, applied both to
        the choice of blocks and, token by token, inside them.
    proj : array_like, optional
        ``(D, r)`` projection of the block summaries (e.g. learned, or random with
        ``r << D`` for cheaper scoring).

    Returns
    -------
    BlockLayout
        One layout per head, leading dims ``(..., Hq)``.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((2, 1024, 64), dtype=np.float32)
    >>> layout = fastattn.route(x, x, block=64, top_k=4)
    >>> layout.lead_shape, layout.density
    ((2,), 0.25)
    """
    start = time.perf_counter()
    block = _positive_int(block, "block")
    local_blocks = _positive_int(local_blocks, "local_blocks")
    sink_blocks = _nonneg_int(sink_blocks, "sink_blocks")
    causal = _check_bool(causal, "causal")
    prep = prepare(q, k, k, gqa=True)
    lq, lk = prep.lq, prep.lk
    qbar = _block_means(prep.q, block)
    kbar = _block_means(prep.k, block)
    if proj is not None:
        p = np.asarray(proj, dtype=np.float64)
        if p.ndim != 2 or p.shape[0] != prep.q.shape[-1]:
            raise ValueError(f"proj must have shape (D, r) = ({prep.q.shape[-1]}, r), "
                             f"got {p.shape}")
        qbar, kbar = qbar @ p, kbar @ p
    group = prep.q.shape[1] // prep.k.shape[1]
    if group > 1:
        kbar = np.repeat(kbar, group, axis=1)
    scores = qbar @ np.swapaxes(kbar, -1, -2)  # (B, Hq, nq, nk)
    nq, nk = scores.shape[-2:]

    last_row = np.minimum(np.arange(nq) * block + block, lq) - 1
    diag = np.clip((last_row + lk - lq) // block, 0, nk - 1)
    kb = np.arange(nk)
    visible = np.ones((nq, nk), dtype=bool)
    if causal:
        visible = kb[None, :] * block <= (last_row + lk - lq)[:, None]
    forced = visible & ((np.abs(kb[None, :] - diag[:, None]) <= local_blocks - 1)
                        | (kb[None, :] < sink_blocks))
    budget = np.maximum(_budget(top_k, density, visible.sum(axis=1)), forced.sum(axis=1))
    # Forced blocks first, then visible ones by score (ties: lower index), never the rest.
    key = np.negative(scores, out=scores)
    key[..., ~visible] = np.inf
    key[..., forced] = -np.inf
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(kb, order.shape), axis=-1)
    keep = (rank < budget[:, None]) & visible
    keep = keep.reshape(prep.batch + (prep.q.shape[1], nq, nk))
    layout = BlockLayout.from_block_mask(keep, (lq, lk), block, causal=causal)
    layout.meta.update(pattern="routed", routing_seconds=time.perf_counter() - start,
                       block_pairs_scored=int(math.prod(scores.shape)))
    return layout


def routed_attention(
    q,
    k,
    v,
    block: int = 64,
    top_k: int | None = None,
    density: float | None = None,
    local_blocks: int = 1,
    sink_blocks: int = 1,
    causal: bool = False,
    proj=None,
    mask=None,
    scale: float | None = None,
    return_layout: bool = False,
    num_threads: int | None = None,
    variant: str | None = None,
    precision: str = "fp32",
):
    """Adaptive block-sparse attention: :func:`route` picks the key blocks, then
    :func:`fastattn.block_sparse_attention` attends over only those.

    Arguments as in :func:`route` and :func:`fastattn.block_sparse_attention`. With
    ``return_layout=True`` returns ``(out, layout)``; ``layout.meta`` holds
    ``routing_seconds`` and ``attention_seconds``, and ``layout.density`` the fraction
    of block pairs computed. ``top_k`` equal to the number of key blocks gives dense
    attention.

    ``precision="int8"`` runs the int8 block-sparse kernel (see
    :func:`fastattn.block_sparse_attention`) over the router's layout; ``k`` and ``v``
    may then be `fastattn.quantize` results, and the router scores the dequantised keys
    (the float keys when given: then the layout is the float path's).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((2, 1024, 64), dtype=np.float32)
    >>> out, layout = fastattn.routed_attention(x, x, x, density=0.25, return_layout=True)
    >>> out.shape, round(layout.density, 2)
    ((2, 1024, 64), 0.25)
    """
    return_layout = _check_bool(return_layout, "return_layout")
    keys = k.dequantize() if isinstance(k, QuantizedTensor) else k
    layout = route(q, keys, block=block, top_k=top_k, density=density,
                   local_blocks=local_blocks, sink_blocks=sink_blocks, causal=causal, proj=proj)
    start = time.perf_counter()
    out = block_sparse_attention(q, k, v, layout, mask=mask, scale=scale,
                                 num_threads=num_threads, variant=variant, precision=precision)
    layout.meta["attention_seconds"] = time.perf_counter() - start
    return (out, layout) if return_layout else out
