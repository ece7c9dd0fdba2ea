"""Routed attention: a cheap router picks, for each query block, the key blocks worth
computing; the block-sparse engine then attends over only those."""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _validate
from fastattn._inputs import prepare
from fastattn.layouts import BlockLayout
from fastattn.patterns import DEFAULT_BLOCK, diagonal_blocks, query_block_rows
from fastattn.quantized import QuantizedTensor
from fastattn.sparse import block_sparse_attention


def _budget(top_k, density, visible: np.ndarray) -> np.ndarray:
    """Key blocks to keep per query block (before the always-kept ones are added)."""
    if top_k is not None and density is not None:
        raise ValueError("give top_k or density, not both")
    if top_k is not None:
        return np.minimum(_validate.positive_int(top_k, "top_k"), visible)
    density = _validate.fraction(0.125 if density is None else density, "density")
    return np.minimum(np.maximum(np.round(density * visible).astype(np.int64), 1), visible)


def _block_means(x: np.ndarray, block: int) -> np.ndarray:
    """(B, H, nblocks, D) float64 means of every block of rows of a (B, H, L, D) float32
    array, summed in C (csrc/sparse/pool.c) in one pass over x."""
    b, h, length, d = x.shape
    out = np.empty((b, h, -(-length // block), d), dtype=np.float64)
    _core.block_means(x, block, out)
    return out


def route(q: ArrayLike, k: ArrayLike | QuantizedTensor, *, block: int = DEFAULT_BLOCK,
          top_k: int | None = None, density: float | None = None, local_blocks: int = 1,
          sink_blocks: int = 1, causal: bool = False,
          proj: ArrayLike | None = None) -> BlockLayout:
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
        against key head ``h // (Hq // Hkv)``). ``k`` may be a `QuantizedTensor`: the
        router then scores its dequantised keys.
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
    block = _validate.positive_int(block, "block")
    local_blocks = _validate.positive_int(local_blocks, "local_blocks")
    sink_blocks = _validate.nonneg_int(sink_blocks, "sink_blocks")
    causal = _validate.boolean(causal, "causal")
    if isinstance(k, QuantizedTensor):
        k = k.dequantize()
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
    diag = diagonal_blocks(lq, lk, block)
    if causal:  # the visible key blocks are a prefix of each row
        _, last = query_block_rows(lq, block)
        nvisible = np.clip((last + lk - lq) // block + 1, 0, nk)
    else:
        nvisible = np.full(nq, nk, dtype=np.int64)
    budget = _budget(top_k, density, nvisible).astype(np.int64)
    # Forced blocks first, then visible ones by score (NaN last, ties: lower index), never the
    # rest, as a CSR straight from C (csrc/sparse/route.c).
    groups = math.prod(scores.shape[:-2])
    forced = min(nk, 2 * local_blocks - 1 + sink_blocks)
    indptr = np.empty((groups, nq + 1), dtype=np.int32)
    indices = np.empty(groups * int(np.minimum(nvisible, budget + forced).sum()), dtype=np.int32)
    nnz = _core.route_select(np.ascontiguousarray(scores).reshape(groups, nq, nk),
                             nvisible.astype(np.int64), diag.astype(np.int64), budget,
                             local_blocks, sink_blocks, indptr, indices,
                             np.empty(2 * nk, dtype=np.float64))
    layout = BlockLayout(indptr.reshape(prep.batch + (prep.q.shape[1], nq + 1)),
                         indices[:nnz], (lq, lk), block, causal=causal)
    layout.meta.update(pattern="routed", routing_seconds=time.perf_counter() - start,
                       block_pairs_scored=int(math.prod(scores.shape)))
    return layout


def routed_attention(q: ArrayLike, k: ArrayLike | QuantizedTensor, v: ArrayLike | QuantizedTensor,
                     *, block: int = DEFAULT_BLOCK, top_k: int | None = None,
                     density: float | None = None, local_blocks: int = 1, sink_blocks: int = 1,
                     causal: bool = False, proj: ArrayLike | None = None,
                     mask: ArrayLike | None = None, scale: float | None = None,
                     precision: str = "fp32", variant: str | None = None,
                     num_threads: int | None = None) -> np.ndarray:
    """Adaptive block-sparse attention: :func:`fastattn.route` picks the key blocks, then
    :func:`fastattn.block_sparse_attention` attends over only those.

    The same as ``block_sparse_attention(q, k, v, route(q, k, ...), ...)``; call those two
    to keep the layout (its ``density``, ``meta["routing_seconds"]``).

    Parameters
    ----------
    q, k, v : array_like
        As in :func:`fastattn.block_sparse_attention` (``k`` and ``v`` may be
        `QuantizedTensor` with ``precision="int8"``; the router scores the dequantised keys).
    block, top_k, density, local_blocks, sink_blocks, causal, proj
        The router's options, as in :func:`fastattn.route`. ``top_k`` equal to the number
        of key blocks gives dense attention.
    mask, scale, precision, variant, num_threads
        As in :func:`fastattn.block_sparse_attention`.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)``: exact attention restricted to the keys of the chosen blocks.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((2, 1024, 64), dtype=np.float32)
    >>> fastattn.routed_attention(x, x, x, density=0.25).shape
    (2, 1024, 64)
    >>> layout = fastattn.route(x, x, density=0.25)
    >>> out = fastattn.block_sparse_attention(x, x, x, layout)
    >>> round(layout.density, 2), bool(np.array_equal(out, fastattn.routed_attention(
    ...     x, x, x, density=0.25)))
    (0.25, True)
    """
    layout = route(q, k, block=block, top_k=top_k, density=density, local_blocks=local_blocks,
                   sink_blocks=sink_blocks, causal=causal, proj=proj)
    return block_sparse_attention(q, k, v, layout, mask=mask, scale=scale, precision=precision,
                                  variant=variant, num_threads=num_threads)
