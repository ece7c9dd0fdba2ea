"""Block-sparse attention: one engine, a small layout object, and the classic patterns.

The engine visits, for each query block, only the key blocks its layout lists, with the
same tiles and online softmax as dense attention, so its cost scales with the number of
kept blocks. Token-level edges (an exact sliding window, causality, Longformer global
tokens) are applied inside the visited blocks.
"""

from __future__ import annotations

import math

import numpy as np

from fastattn import _core
from fastattn._dispatch import SPARSE_F32, SPARSE_I8, resolve_threads
from fastattn._inputs import Prepared, prepare, prepare_mask
from fastattn.int8 import QuantizedTensor, prepare_int8

_BAND_NONE = _core.BAND_NONE
PRECISIONS = ("fp32", "int8")


def _positive_int(x, name: str) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    if x < 1:
        raise ValueError(f"{name} must be >= 1, got {x}")
    return int(x)


def _nonneg_int(x, name: str) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {x}")
    return int(x)


def _check_bool(x, name: str) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(x).__name__}")
    return bool(x)


def _window(window) -> tuple | None:
    """None, an int w (|i - j| <= w) or a pair (left, right) (i - left <= j <= i + right)."""
    if window is None:
        return None
    if isinstance(window, (int, np.integer)) and not isinstance(window, (bool, np.bool_)):
        w = _nonneg_int(window, "window")
        return (w, w)
    try:
        left, right = window
    except (TypeError, ValueError):
        raise TypeError(f"window must be an int or a pair (left, right), got {window!r}") from None
    return (_nonneg_int(left, "window[0] (left)"), _nonneg_int(right, "window[1] (right)"))


def _block_pair(block) -> tuple:
    if isinstance(block, (int, np.integer)) and not isinstance(block, (bool, np.bool_)):
        b = _positive_int(block, "block")
        return (b, b)
    try:
        bq, bk = block
    except (TypeError, ValueError):
        raise TypeError(f"block must be an int or a pair (block_q, block_k), "
                        f"got {block!r}") from None
    return (_positive_int(bq, "block[0] (block_q)"), _positive_int(bk, "block[1] (block_k)"))


def _global_positions(tokens, lq: int, lk: int) -> np.ndarray:
    """Sorted unique global token positions, each in [0, max(Lq, Lk))."""
    if tokens is None:
        return np.zeros(0, dtype=np.int64)
    g = np.asarray(tokens)
    if g.size and g.dtype.kind not in "iu":
        raise TypeError(f"global_tokens must be integer positions, got dtype {g.dtype}")
    g = np.unique(g.astype(np.int64).ravel())
    longest = max(lq, lk)
    if g.size and (g[0] < 0 or g[-1] >= longest):
        bad = g[0] if g[0] < 0 else g[-1]
        raise ValueError(f"global token {bad} is outside [0, {longest})")
    return g


class BlockLayout:
    """Which key blocks each query block visits, plus token-level edges.

    A CSR over blocks: row ``r`` (queries ``r*block_q`` to ``(r+1)*block_q - 1``) of
    layout ``l`` lists the key blocks ``indices[indptr[l, r]:indptr[l, r+1]]``, strictly
    increasing. ``indptr`` may carry leading dims (one layout per head, or per batch and
    head) that broadcast against the leading dims ``(..., Hq)`` of the query. Inside the
    visited blocks, query ``i`` sees key ``j`` iff ``causal`` allows it
    (``j <= i + Lk - Lq``) and either the window does (``i - left <= j <= i + right``)
    or ``i`` or ``j`` is a global token.

    Parameters
    ----------
    indptr : array_like of int, shape (..., nqblocks + 1)
    indices : array_like of int, shape (nnz,)
    shape : (Lq, Lk)
        Sequence lengths the layout is for.
    block : int or (block_q, block_k)
    window : int or (left, right), optional
        Exact token-level band; None for none.
    causal : bool
    global_tokens : sequence of int, optional
        Positions that attend to every key and are attended by every query.
    meta : dict, optional
        Free-form facts about how the layout was made (pattern, routing time, ...).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> blocks = np.tri(4, dtype=bool)                       # block-causal, 4 x 4 blocks
    >>> layout = fastattn.BlockLayout.from_block_mask(blocks, shape=(256, 256), block=64)
    >>> layout.density, layout.to_dense_mask().shape
    (0.625, (256, 256))
    """

    def __init__(self, indptr, indices, shape, block, *, window=None, causal: bool = False,
                 global_tokens=None, meta: dict | None = None) -> None:
        try:
            lq, lk = (int(s) for s in shape)
        except (TypeError, ValueError):
            raise TypeError(f"shape must be a pair (Lq, Lk), got {shape!r}") from None
        if lq < 1 or lk < 1:
            raise ValueError(f"shape must be positive lengths (Lq, Lk), got {shape!r}")
        self.lq, self.lk = lq, lk
        self.block_q, self.block_k = _block_pair(block)
        self.nqblocks = -(-lq // self.block_q)
        self.nkblocks = -(-lk // self.block_k)
        self.window = _window(window)
        self.causal = _check_bool(causal, "causal")
        self.meta = dict(meta or {})
        self.indptr, self.indices = self._check_csr(indptr, indices)
        self.global_tokens = _global_positions(global_tokens, lq, lk)

    def _check_csr(self, indptr, indices) -> tuple:
        ptr = np.asarray(indptr)
        idx = np.asarray(indices)
        for name, a in (("indptr", ptr), ("indices", idx)):
            if a.dtype.kind not in "iu" and a.size > 0:
                raise TypeError(f"layout {name} must be integers, got dtype {a.dtype}")
        if ptr.ndim < 1 or ptr.shape[-1] != self.nqblocks + 1:
            raise ValueError(f"layout indptr must have shape (..., nqblocks + 1) = (..., "
                             f"{self.nqblocks + 1}) for Lq={self.lq}, block_q={self.block_q}; "
                             f"got {ptr.shape}")
        if idx.ndim != 1:
            raise ValueError(f"layout indices must be 1-d, got shape {idx.shape}")
        if idx.size >= 2**31:
            raise ValueError(f"layout has {idx.size} entries; at most 2**31 - 1 are supported")
        ptr = ptr.astype(np.int64)
        idx = idx.astype(np.int64)
        flat = ptr.reshape(-1, self.nqblocks + 1)
        if flat.size and (flat.min() < 0 or flat.max() > idx.size):
            bad = np.argwhere((flat < 0) | (flat > idx.size))[0]
            raise ValueError(f"layout indptr[{tuple(bad)}] = {flat[tuple(bad)]} is outside "
                             f"[0, nnz = {idx.size}]")
        steps = np.diff(flat, axis=-1)
        if steps.size and steps.min() < 0:
            lay, row = np.argwhere(steps < 0)[0]
            raise ValueError(f"layout indptr decreases in layout {lay} at query block {row}: "
                             f"{flat[lay, row]} -> {flat[lay, row + 1]}")
        starts, lengths = flat[:, :-1].ravel(), steps.ravel()
        total = int(lengths.sum())
        if total:
            first = np.repeat(np.cumsum(lengths) - lengths, lengths)
            pos = np.repeat(starts, lengths) + (np.arange(total) - first)
            vals = idx[pos]
            row_of = np.repeat(np.arange(lengths.size), lengths)
            bad = np.flatnonzero((vals < 0) | (vals >= self.nkblocks))
            if bad.size:
                e = bad[0]
                raise ValueError(f"layout indices[{pos[e]}] = {vals[e]} (query block "
                                 f"{row_of[e] % self.nqblocks}) is outside [0, nkblocks = "
                                 f"{self.nkblocks}) for Lk={self.lk}, block_k={self.block_k}")
            same_row = row_of[1:] == row_of[:-1]
            bad = np.flatnonzero(same_row & (vals[1:] <= vals[:-1]))
            if bad.size:
                e = bad[0] + 1
                raise ValueError(f"layout indices of query block {row_of[e] % self.nqblocks} "
                                 f"must be strictly increasing: {vals[e - 1]} then {vals[e]} "
                                 f"at indices[{pos[e]}]")
        return ptr.astype(np.int32), idx.astype(np.int32)

    @classmethod
    def from_block_mask(cls, block_mask, shape, block, **kwargs) -> BlockLayout:
        """A layout from a boolean (..., nqblocks, nkblocks) array (True = visit)."""
        m = np.asarray(block_mask)
        if m.dtype != np.bool_:
            raise TypeError(f"block_mask must be boolean, got dtype {m.dtype}")
        if m.ndim < 2:
            raise ValueError(f"block_mask must have shape (..., nqblocks, nkblocks), got {m.shape}")
        nq = m.shape[-2]
        counts = m.sum(axis=-1).reshape(-1, nq)
        ends = np.concatenate([[0], np.cumsum(counts.ravel())])
        indptr = ends[np.arange(counts.shape[0])[:, None] * nq + np.arange(nq + 1)[None, :]]
        indices = np.nonzero(m.reshape(-1, m.shape[-1]))[1]
        return cls(indptr.reshape(m.shape[:-2] + (m.shape[-2] + 1,)), indices, shape, block,
                   **kwargs)

    @property
    def lead_shape(self) -> tuple:
        """Leading dims of the layout (``()`` for one layout shared by every head)."""
        return self.indptr.shape[:-1]

    @property
    def nnz(self) -> int:
        """Number of (query block, key block) pairs visited, over every layout."""
        ptr = self.indptr.reshape(-1, self.nqblocks + 1)
        return int((ptr[:, -1] - ptr[:, 0]).sum())

    @property
    def density(self) -> float:
        """Fraction of the (query block, key block) pairs visited: the kernel's cost
        relative to dense attention."""
        layouts = max(1, math.prod(self.lead_shape))
        return self.nnz / (layouts * self.nqblocks * self.nkblocks)

    def block_mask(self) -> np.ndarray:
        """Boolean (..., nqblocks, nkblocks): True where a query block visits a key block."""
        ptr = self.indptr.reshape(-1, self.nqblocks + 1)
        out = np.zeros((ptr.shape[0], self.nqblocks, self.nkblocks), dtype=bool)
        for lay in range(ptr.shape[0]):
            counts = np.diff(ptr[lay])
            rows = np.repeat(np.arange(self.nqblocks), counts)
            cols = np.concatenate([self.indices[ptr[lay, r]:ptr[lay, r + 1]]
                                   for r in range(self.nqblocks)] or [np.zeros(0, np.int32)])
            out[lay, rows, cols] = True
        return out.reshape(self.lead_shape + (self.nqblocks, self.nkblocks))

    def to_dense_mask(self) -> np.ndarray:
        """Boolean (..., Lq, Lk): True where query i sees key j (O(Lq Lk) memory: for
        tests and plots)."""
        i = np.arange(self.lq)[:, None]
        j = np.arange(self.lk)[None, :]
        visible = self.block_mask()[..., i // self.block_q, j // self.block_k]
        near = np.ones((self.lq, self.lk), dtype=bool)
        if self.window is not None:
            near = (j >= i - self.window[0]) & (j <= i + self.window[1])
        if self.global_tokens.size:
            near = near | np.isin(i, self.global_tokens) | np.isin(j, self.global_tokens)
        if self.causal:
            near = near & (j <= i + self.lk - self.lq)
        return visible & near

    def __repr__(self) -> str:
        extras = ""
        if self.window is not None:
            extras += f", window={self.window}"
        if self.causal:
            extras += ", causal=True"
        if self.global_tokens.size:
            extras += f", global_tokens={self.global_tokens.size}"
        return (f"BlockLayout(shape=({self.lq}, {self.lk}), block=({self.block_q}, "
                f"{self.block_k}), layouts={self.lead_shape or 1}, nnz={self.nnz}, "
                f"density={self.density:.3f}{extras})")

    def _engine_args(self, prep: Prepared) -> dict:
        """The C engine's view: 2-d indptr, layout per (batch, head), band, global flags."""
        lq, lk = prep.lq, prep.lk
        if (lq, lk) != (self.lq, self.lk):
            raise ValueError(f"layout is for (Lq, Lk) = ({self.lq}, {self.lk}) but query and "
                             f"key have Lq={lq}, Lk={lk}")
        target = prep.batch + (prep.q.shape[1],)
        lead = self.lead_shape
        try:
            if len(lead) > len(target):
                raise ValueError
            ids = np.broadcast_to(np.arange(max(1, math.prod(lead)), dtype=np.int32).reshape(lead),
                                  target)
        except ValueError:
            raise ValueError(f"layout leading dims {lead} do not broadcast to the query's "
                             f"(..., Hq) = {target}") from None
        causal_hi = lk - lq if self.causal else _BAND_NONE
        band_lo, band_hi = -_BAND_NONE, causal_hi
        if self.window is not None:
            band_lo, band_hi = -self.window[0], min(self.window[1], causal_hi)
        if band_lo > band_hi:  # nothing in the band (global tokens may still see keys)
            band_lo = band_hi = -_BAND_NONE
        q_global = k_global = None
        if self.global_tokens.size:
            q_global = np.zeros(lq, dtype=np.uint8)
            k_global = np.zeros(lk, dtype=np.uint8)
            q_global[self.global_tokens[self.global_tokens < lq]] = 1
            k_global[self.global_tokens[self.global_tokens < lk]] = 1
        return dict(band_lo=band_lo, band_hi=band_hi,
                    indptr=np.ascontiguousarray(self.indptr.reshape(-1, self.nqblocks + 1)),
                    indices=self.indices, layout_of=np.ascontiguousarray(ids.reshape(-1)),
                    q_global=q_global, k_global=k_global, global_hi=causal_hi)


def block_sparse_attention(
    q,
    k,
    v,
    layout: BlockLayout,
    mask=None,
    scale: float | None = None,
    num_threads: int | None = None,
    variant: str | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Attention restricted to a block layout: each query block visits only its listed
    key blocks (cost proportional to ``layout.density``).

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        Shapes, dtypes and grouped-query attention as in :func:`fastattn.attention`;
        with ``precision="int8"``, ``k`` and ``v`` may also be `fastattn.quantize` results.
    layout : BlockLayout
        Built by a pattern (:func:`local_layout`, :func:`strided_layout`,
        :func:`fixed_layout`, :func:`bigbird_layout`, :func:`fastattn.route`) or by hand.
    mask : array_like, optional
        Boolean (True = attend) or additive mask broadcastable to ``(..., Hq, Lq, Lk)``,
        applied inside the visited blocks.
    scale, num_threads, variant
        As in :func:`fastattn.attention` (``variant`` names a sparse kernel, see
        ``fastattn.info()["ops"]["sparse-f32"]`` and ``["sparse-i8"]``).
    precision : {"fp32", "int8"}
        ``"int8"``: the int8 scheme of :func:`fastattn.attention` (see
        ``fastattn.reference.int8``) over the same layout; the listed key blocks are merged
        into ranges and each range is cut into key tiles of 128 from its first key (see
        ``fastattn.reference.sparse_int8``), so a full layout gives dense int8 attention.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)``; a query row that sees no key (an empty layout row) is zeros.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((8, 512, 64), dtype=np.float32)
    >>> layout = fastattn.local_layout(512, 512, window=64, block=64)
    >>> out = fastattn.block_sparse_attention(x, x, x, layout)
    >>> np.allclose(out, fastattn.attention(x, x, x, mask=layout.to_dense_mask()), atol=1e-5)
    True
    >>> out8 = fastattn.block_sparse_attention(x, x, x, layout, precision="int8")
    >>> float(np.linalg.norm(out8 - out) / np.linalg.norm(out)) < 0.05  # int8 error (4% here)
    True
    """
    if not isinstance(layout, BlockLayout):
        raise TypeError(f"layout must be a fastattn.BlockLayout, got {type(layout).__name__}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "int8":
        prep, k_scale, v_scale, qblock = prepare_int8(q, k, v, scale, gqa=True)
    else:
        for name, x in (("key", k), ("value", v)):
            if isinstance(x, QuantizedTensor):
                raise TypeError(f"{name} is a QuantizedTensor: pass precision='int8'")
        prep = prepare(q, k, v, scale=scale, gqa=True)
    m4 = prepare_mask(mask, prep, "mask")
    args = layout._engine_args(prep)
    threads = resolve_threads(num_threads)
    out, out4 = prep.new_output()
    common = (args["indptr"], args["indices"], args["layout_of"], layout.block_q, layout.block_k,
              args["q_global"], args["k_global"], args["global_hi"])
    if precision == "int8":
        kernel = SPARSE_I8.resolve(variant)
        _core.sparse_i8(prep.q, qblock, prep.k, k_scale, qblock, prep.v, v_scale, out4, m4,
                        prep.scale, args["band_lo"], args["band_hi"], *common, kernel.index,
                        threads)
    else:
        kernel = SPARSE_F32.resolve(variant)
        _core.sparse_f32(prep.q, prep.k, prep.v, out4, m4, prep.scale, args["band_lo"],
                         args["band_hi"], *common, kernel.index, threads)
    return prep.finish(out)


def _query_block_rows(lq: int, block: int) -> tuple:
    """First and last query row of every query block."""
    first = np.arange(0, lq, block)
    return first, np.minimum(first + block, lq) - 1


def _diagonal_blocks(lq: int, lk: int, block: int) -> np.ndarray:
    """For each query block, the key block holding its last row's own position
    (bottom-right alignment: query i sits at key position i + Lk - Lq)."""
    _, last = _query_block_rows(lq, block)
    nkb = -(-lk // block)
    return np.clip((last + lk - lq) // block, 0, nkb - 1)


def _causal_blocks(lq: int, lk: int, block: int) -> np.ndarray:
    """Boolean (nqblocks, nkblocks): key blocks holding a key some row may causally see."""
    _, last = _query_block_rows(lq, block)
    first_key = np.arange(0, lk, block)
    return first_key[None, :] <= (last + lk - lq)[:, None]


def local_layout(lq: int, lk: int, window, causal: bool = False, global_tokens=None,
                 block: int = 64) -> BlockLayout:
    """Sliding-window layout with exact token borders (Beltagy et al., 2020, Longformer;
    the local band of Child et al., 2019).

    ``window=w`` lets query ``i`` see keys ``|i - j| <= w``; ``window=(left, right)`` keys
    ``i - left <= j <= i + right``; a window wider than the sequence is simply dense.
    ``causal`` adds ``j <= i + Lk - Lq``. ``global_tokens`` (Longformer's global
    attention) are positions that see every key and are seen by every query.
    Only the key blocks the band (or a global token) reaches are listed.
    """
    win = _window(window)
    if win is None:
        raise ValueError("window must be given (an int or a pair (left, right))")
    block = _positive_int(block, "block")
    causal = _check_bool(causal, "causal")
    left, right = win
    first, last = _query_block_rows(lq, block)
    lo = np.maximum(first - left, 0)
    hi = np.minimum(last + right, lk - 1)
    if causal:
        hi = np.minimum(hi, last + lk - lq)
    kb = np.arange(-(-lk // block))
    blocks = (kb[None, :] >= (lo // block)[:, None]) & (kb[None, :] <= (hi // block)[:, None])
    blocks &= (lo <= hi)[:, None]
    g = _global_positions(global_tokens, lq, lk)
    if g.size:
        reach = _causal_blocks(lq, lk, block) if causal else np.ones_like(blocks)
        gq, gk = g[g < lq] // block, g[g < lk] // block
        blocks[gq, :] |= reach[gq, :]
        blocks[:, gk] |= reach[:, gk]
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, window=win, causal=causal,
                                       global_tokens=g, meta={"pattern": "local"})


def strided_layout(lq: int, lk: int, stride: int, local_blocks: int = 1, causal: bool = False,
                   block: int = 64) -> BlockLayout:
    """Strided (dilated) pattern of the Sparse Transformer (Child et al., 2019), at block
    granularity: query block ``r`` visits the key blocks within ``local_blocks - 1`` of
    its diagonal block ``d(r)`` and every key block ``c`` with ``(d(r) - c) % stride == 0``.
    """
    stride = _positive_int(stride, "stride")
    local_blocks = _positive_int(local_blocks, "local_blocks")
    block = _positive_int(block, "block")
    diag = _diagonal_blocks(lq, lk, block)[:, None]
    kb = np.arange(-(-lk // block))[None, :]
    blocks = (np.abs(diag - kb) < local_blocks) | ((diag - kb) % stride == 0)
    if _check_bool(causal, "causal"):
        blocks &= _causal_blocks(lq, lk, block)
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, causal=causal,
                                       meta={"pattern": "strided"})


def fixed_layout(lq: int, lk: int, chunk_blocks: int, summary_blocks: int = 1,
                 causal: bool = False, block: int = 64) -> BlockLayout:
    """Fixed factorised pattern of the Sparse Transformer (Child et al., 2019), at block
    granularity: the sequence is cut into chunks of ``chunk_blocks`` blocks; query block
    ``r`` visits every block of its own chunk and the last ``summary_blocks`` blocks of
    every chunk (the "summary" columns that carry information across chunks).
    """
    chunk = _positive_int(chunk_blocks, "chunk_blocks")
    summary = _nonneg_int(summary_blocks, "summary_blocks")
    if summary > chunk:
        raise ValueError(f"summary_blocks ({summary}) must not exceed chunk_blocks ({chunk})")
    block = _positive_int(block, "block")
    diag = _diagonal_blocks(lq, lk, block)[:, None]
    kb = np.arange(-(-lk // block))[None, :]
    blocks = (diag // chunk == kb // chunk) | (kb % chunk >= chunk - summary)
    if _check_bool(causal, "causal"):
        blocks &= _causal_blocks(lq, lk, block)
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, causal=causal,
                                       meta={"pattern": "fixed"})


def bigbird_layout(lq: int, lk: int, window_blocks: int = 3, global_blocks: int = 1,
                   random_blocks: int = 3, seed: int = 0, heads: int | None = None,
                   causal: bool = False, block: int = 64) -> BlockLayout:
    """BigBird's block pattern (Zaheer et al., 2020, ITC variant): a sliding window of
    ``window_blocks`` key blocks centred on the diagonal, the first ``global_blocks``
    blocks global (their queries see every key block and every query block sees them),
    and ``random_blocks`` more key blocks per query block, drawn without replacement
    from the rest with ``numpy.random.default_rng(seed)``: the same seed gives the same
    layout. ``heads=H`` draws one layout per head (leading dim H).
    """
    window_blocks = _positive_int(window_blocks, "window_blocks")
    global_blocks = _nonneg_int(global_blocks, "global_blocks")
    random_blocks = _nonneg_int(random_blocks, "random_blocks")
    block = _positive_int(block, "block")
    causal = _check_bool(causal, "causal")
    nheads = 1 if heads is None else _positive_int(heads, "heads")
    nkb = -(-lk // block)
    diag = _diagonal_blocks(lq, lk, block)[:, None]
    kb = np.arange(nkb)[None, :]
    half = window_blocks // 2
    fixed = (kb >= diag - half) & (kb <= diag - half + window_blocks - 1)
    fixed |= kb < global_blocks
    fixed[: global_blocks, :] = True
    reach = _causal_blocks(lq, lk, block) if causal else np.ones_like(fixed)
    fixed &= reach
    rng = np.random.default_rng(seed)
    blocks = np.repeat(fixed[None], nheads, axis=0)
    for h in range(nheads):
        for r in range(fixed.shape[0]):
            free = np.flatnonzero(reach[r] & ~fixed[r])
            if free.size and random_blocks:
                pick = rng.choice(free, size=min(random_blocks, free.size), replace=False)
                blocks[h, r, pick] = True
    if heads is None:
        blocks = blocks[0]
    return BlockLayout.from_block_mask(blocks, (lq, lk), block, causal=causal,
                                       meta={"pattern": "bigbird", "seed": seed})


def local_attention(
    q,
    k,
    v,
    window,
    causal: bool = False,
    global_tokens=None,
    mask=None,
    scale: float | None = None,
    num_threads: int | None = None,
    variant: str | None = None,
    block: int = 64,
    precision: str = "fp32",
) -> np.ndarray:
    """Sliding-window attention with exact borders (Beltagy et al., 2020, Longformer).

    ``window=w``: query ``i`` sees keys ``|i - j| <= w``; ``window=(left, right)``: keys
    ``i - left <= j <= i + right``. ``causal`` (bottom-right, as in
    :func:`fastattn.attention`) and ``global_tokens`` (positions that attend everywhere
    and are attended by all) combine with it. Cost O(Lq (left + right) D). Other
    arguments (``precision="int8"`` included) as in :func:`block_sparse_attention`.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.random.default_rng(0).standard_normal((4, 1024, 64), dtype=np.float32)
    >>> fastattn.local_attention(x, x, x, window=(128, 0), global_tokens=[0]).shape
    (4, 1024, 64)
    """
    lq, lk = np.shape(q)[-2], np.shape(k)[-2]
    layout = local_layout(lq, lk, window, causal=causal, global_tokens=global_tokens,
                          block=block)
    return block_sparse_attention(q, k, v, layout, mask=mask, scale=scale,
                                  num_threads=num_threads, variant=variant, precision=precision)
