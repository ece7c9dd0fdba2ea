"""The classic sparse-attention patterns as `BlockLayout` constructors: sliding window
(Longformer), strided and fixed (Sparse Transformer), BigBird.

Each takes the sequence lengths ``lq, lk`` and its defining size positionally and every
option keyword-only. Two options mean the same in each: ``block``, the tokens per block
(queries and keys, default 64), and ``causal``, only causally visible keys with bottom-right
alignment (``j <= i + Lk - Lq``) as in :func:`fastattn.attention` (default False). Each
returns a `BlockLayout` whose ``meta["pattern"]`` names the pattern.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _validate
from fastattn.layouts import BlockLayout, global_positions, window_pair

DEFAULT_BLOCK = 64


def query_block_rows(lq: int, block: int) -> tuple:
    """First and last query row of every query block."""
    first = np.arange(0, lq, block)
    return first, np.minimum(first + block, lq) - 1


def diagonal_blocks(lq: int, lk: int, block: int) -> np.ndarray:
    """For each query block, the key block holding its last row's own position
    (bottom-right alignment: query i sits at key position i + Lk - Lq)."""
    _, last = query_block_rows(lq, block)
    nkb = -(-lk // block)
    return np.clip((last + lk - lq) // block, 0, nkb - 1)


def causal_blocks(lq: int, lk: int, block: int) -> np.ndarray:
    """Boolean (nqblocks, nkblocks): key blocks holding a key some row may causally see."""
    _, last = query_block_rows(lq, block)
    first_key = np.arange(0, lk, block)
    return first_key[None, :] <= (last + lk - lq)[:, None]


def _sizes(lq, lk, block) -> tuple:
    return (_validate.positive_int(lq, "lq"), _validate.positive_int(lk, "lk"),
            _validate.positive_int(block, "block"))


def _grid(lq: int, lk: int, block: int) -> tuple:
    """(diagonal key block per query block as a column, key block indices as a row)."""
    return diagonal_blocks(lq, lk, block)[:, None], np.arange(-(-lk // block))[None, :]


def _layout(blocks, lq: int, lk: int, block: int, causal, pattern: str, **meta) -> BlockLayout:
    """The layout of `blocks`, cut to the causally reachable blocks when `causal`."""
    causal = _validate.boolean(causal, "causal")
    if causal:
        blocks = blocks & causal_blocks(lq, lk, block)
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, causal=causal,
                                       meta=dict(pattern=pattern, **meta))


def local_layout(lq: int, lk: int, window: int | tuple[int, int], *, causal: bool = False,
                 global_tokens: ArrayLike | None = None,
                 block: int = DEFAULT_BLOCK) -> BlockLayout:
    """Sliding-window layout with exact token borders (Beltagy et al., 2020, Longformer;
    the local band of Child et al., 2019).

    Only the key blocks the band (or a global token) reaches are listed; inside them the
    window is applied token by token.

    Parameters
    ----------
    lq, lk : int
        Query and key sequence lengths.
    window : int or (left, right)
        ``w``: query ``i`` sees keys ``|i - j| <= w``; ``(left, right)``: keys
        ``i - left <= j <= i + right``. A window wider than the sequence is simply dense.
    causal, block
        As for every pattern (see `fastattn.patterns`); the window applies inside blocks.
    global_tokens : sequence of int, optional
        Longformer's global attention: positions that see every key and are seen by every
        query.

    Returns
    -------
    BlockLayout
        With the window and global tokens applied token by token inside the listed blocks.

    Examples
    --------
    >>> import fastattn
    >>> layout = fastattn.local_layout(1024, 1024, 128, causal=True, global_tokens=[0])
    >>> layout.window, round(layout.density, 3)
    ((128, 128), 0.227)
    """
    lq, lk, block = _sizes(lq, lk, block)
    win = window_pair(window, lq, lk)
    if win is None:
        raise ValueError("window must be given (an int or a pair (left, right))")
    causal = _validate.boolean(causal, "causal")
    left, right = win
    first, last = query_block_rows(lq, block)
    lo = np.maximum(first - left, 0)
    hi = np.minimum(last + right, lk - 1)
    if causal:
        hi = np.minimum(hi, last + lk - lq)
    kb = np.arange(-(-lk // block))
    blocks = (kb[None, :] >= (lo // block)[:, None]) & (kb[None, :] <= (hi // block)[:, None])
    blocks &= (lo <= hi)[:, None]
    g = global_positions(global_tokens, lq, lk)
    if g.size:
        reach = causal_blocks(lq, lk, block) if causal else np.ones_like(blocks)
        gq, gk = g[g < lq] // block, g[g < lk] // block
        blocks[gq, :] |= reach[gq, :]
        blocks[:, gk] |= reach[:, gk]
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, window=win, causal=causal,
                                       global_tokens=g, meta={"pattern": "local"})


def strided_layout(lq: int, lk: int, stride: int, *, local_blocks: int = 1,
                   causal: bool = False, block: int = DEFAULT_BLOCK) -> BlockLayout:
    """Strided (dilated) pattern of the Sparse Transformer (Child et al., 2019), at block
    granularity.

    Parameters
    ----------
    lq, lk : int
        Query and key sequence lengths.
    stride : int
        Query block ``r`` visits every key block ``c`` with ``(d(r) - c) % stride == 0``,
        ``d(r)`` its diagonal block.
    local_blocks : int
        ... and the key blocks within ``local_blocks - 1`` of ``d(r)``.
    causal, block
        As for every pattern (see `fastattn.patterns`).

    Returns
    -------
    BlockLayout
        Whole blocks (no token-level window), ``meta["pattern"] == "strided"``.

    Examples
    --------
    >>> import fastattn
    >>> fastattn.strided_layout(512, 512, 4, causal=True).block_mask().sum(axis=-1)
    array([1, 1, 1, 1, 2, 2, 2, 2])
    """
    lq, lk, block = _sizes(lq, lk, block)
    stride = _validate.positive_int(stride, "stride")
    local_blocks = _validate.positive_int(local_blocks, "local_blocks")
    diag, kb = _grid(lq, lk, block)
    blocks = (np.abs(diag - kb) < local_blocks) | ((diag - kb) % stride == 0)
    return _layout(blocks, lq, lk, block, causal, "strided")


def fixed_layout(lq: int, lk: int, chunk_blocks: int, *, summary_blocks: int = 1,
                 causal: bool = False, block: int = DEFAULT_BLOCK) -> BlockLayout:
    """Fixed factorised pattern of the Sparse Transformer (Child et al., 2019), at block
    granularity: local chunks plus summary columns.

    Parameters
    ----------
    lq, lk : int
        Query and key sequence lengths.
    chunk_blocks : int
        The sequence is cut into chunks of this many blocks, and query block ``r`` visits
        every block of its own chunk ...
    summary_blocks : int
        ... and the last ``summary_blocks`` blocks of every chunk (the "summary" columns
        that carry information across chunks); at most ``chunk_blocks``.
    causal, block
        As for every pattern (see `fastattn.patterns`).

    Returns
    -------
    BlockLayout
        Whole blocks, ``meta["pattern"] == "fixed"``.

    Examples
    --------
    >>> import fastattn
    >>> fastattn.fixed_layout(512, 512, 4).block_mask()[0].astype(int)
    array([1, 1, 1, 1, 0, 0, 0, 1])
    """
    lq, lk, block = _sizes(lq, lk, block)
    chunk = _validate.positive_int(chunk_blocks, "chunk_blocks")
    summary = _validate.nonneg_int(summary_blocks, "summary_blocks")
    if summary > chunk:
        raise ValueError(f"summary_blocks ({summary}) must not exceed chunk_blocks ({chunk})")
    diag, kb = _grid(lq, lk, block)
    blocks = (diag // chunk == kb // chunk) | (kb % chunk >= chunk - summary)
    return _layout(blocks, lq, lk, block, causal, "fixed")


def bigbird_layout(lq: int, lk: int, *, window_blocks: int = 3, global_blocks: int = 1,
                   random_blocks: int = 3, seed: int = 0, heads: int | None = None,
                   causal: bool = False, block: int = DEFAULT_BLOCK) -> BlockLayout:
    """BigBird's block pattern (Zaheer et al., 2020, ITC variant).

    Parameters
    ----------
    lq, lk : int
        Query and key sequence lengths.
    window_blocks : int
        A sliding window of this many key blocks centred on the diagonal.
    global_blocks : int
        The first ``global_blocks`` blocks are global: their queries see every key block
        and every query block sees them.
    random_blocks : int
        More key blocks per query block, drawn without replacement from the rest with
        ``numpy.random.default_rng(seed)``.
    seed : int
        The same seed gives the same layout.
    heads : int, optional
        Draw one layout per head (leading dim ``heads``); default one shared layout.
    causal, block
        As for every pattern (see `fastattn.patterns`).

    Returns
    -------
    BlockLayout
        Whole blocks, ``meta`` holding the pattern and the seed.

    Examples
    --------
    >>> import fastattn
    >>> layout = fastattn.bigbird_layout(1024, 1024, heads=4, seed=0)
    >>> layout.lead_shape, layout.nqblocks, layout.nkblocks
    ((4,), 16, 16)
    """
    lq, lk, block = _sizes(lq, lk, block)
    window_blocks = _validate.positive_int(window_blocks, "window_blocks")
    global_blocks = _validate.nonneg_int(global_blocks, "global_blocks")
    random_blocks = _validate.nonneg_int(random_blocks, "random_blocks")
    causal = _validate.boolean(causal, "causal")
    nheads = 1 if heads is None else _validate.positive_int(heads, "heads")
    diag, kb = _grid(lq, lk, block)
    half = window_blocks // 2
    fixed = (kb >= diag - half) & (kb <= diag - half + window_blocks - 1)
    fixed |= kb < global_blocks
    fixed[: global_blocks, :] = True
    reach = causal_blocks(lq, lk, block) if causal else np.ones_like(fixed)
    fixed &= reach
    rng = np.random.default_rng(_validate.seed(seed))
    blocks = np.repeat(fixed[None], nheads, axis=0)
    for h in range(nheads):
        for r in range(fixed.shape[0]):
            free = np.flatnonzero(reach[r] & ~fixed[r])
            if free.size and random_blocks:
                pick = rng.choice(free, size=min(random_blocks, free.size), replace=False)
                blocks[h, r, pick] = True
    return _layout(blocks if heads is not None else blocks[0], lq, lk, block, causal, "bigbird",
                   seed=seed)


__all__ = ["bigbird_layout", "causal_blocks", "diagonal_blocks", "fixed_layout",
           "local_layout", "query_block_rows", "strided_layout"]
