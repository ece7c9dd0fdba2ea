"""Block layouts: which key blocks each query block visits, plus token-level edges."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _validate


def window_pair(window, lq: int, lk: int) -> tuple | None:
    """None, an int w (|i - j| <= w) or a pair (left, right) (i - left <= j <= i + right),
    each side clamped to max(Lq, Lk): any wider window is the same (dense) window."""
    if window is None:
        return None
    left, right = _validate.int_pair(window, "window", ("left", "right"), 0, None)
    longest = max(lq, lk)
    return (min(left, longest), min(right, longest))


def global_positions(tokens, lq: int, lk: int) -> np.ndarray:
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

    A layout is immutable once built (its arrays are read-only views, its attributes
    cannot be set), so what was checked here is what the kernels read. A window side wider
    than max(Lq, Lk) is stored as max(Lq, Lk): the same, dense, window.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> blocks = np.tri(4, dtype=bool)                       # block-causal, 4 x 4 blocks
    >>> layout = fastattn.BlockLayout.from_block_mask(blocks, shape=(256, 256), block=64)
    >>> layout.density, layout.to_dense_mask().shape
    (0.625, (256, 256))
    """

    def __init__(self, indptr: ArrayLike, indices: ArrayLike, shape: tuple[int, int],
                 block: int | tuple[int, int], *, window: int | tuple[int, int] | None = None,
                 causal: bool = False, global_tokens: ArrayLike | None = None,
                 meta: dict | None = None) -> None:
        try:
            lq, lk = shape
        except (TypeError, ValueError):
            raise TypeError(f"shape must be a pair (Lq, Lk), got {shape!r}") from None
        if not (_validate.is_int(lq) and _validate.is_int(lk)):
            raise TypeError(f"shape must be a pair of ints (Lq, Lk), got {shape!r}")
        if not (1 <= lq <= _validate.MAX_SIZE and 1 <= lk <= _validate.MAX_SIZE):
            raise ValueError(f"shape must be lengths (Lq, Lk) in [1, {_validate.MAX_SIZE}], "
                             f"got {shape!r}")
        lq, lk = int(lq), int(lk)
        block_q, block_k = _validate.int_pair(block, "block", ("block_q", "block_k"), 1)
        fields = dict(lq=lq, lk=lk, block_q=block_q, block_k=block_k,
                      nqblocks=-(-lq // block_q), nkblocks=-(-lk // block_k),
                      window=window_pair(window, lq, lk),
                      causal=_validate.boolean(causal, "causal"), meta=dict(meta or {}))
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        ptr, idx = self._check_csr(indptr, indices)
        tokens = global_positions(global_tokens, lq, lk)
        for name, value in (("_indptr", ptr), ("_indices", idx), ("_global_tokens", tokens)):
            value.flags.writeable = False  # fresh arrays, checked above: the kernels read these
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value) -> None:
        raise AttributeError(f"BlockLayout is immutable: cannot set {name!r} (build a new "
                             "layout; `meta` is a free-form dict you may update)")

    __delattr__ = __setattr__

    @property
    def indptr(self) -> np.ndarray:
        """int32 (..., nqblocks + 1), read-only."""
        return self._indptr.view()

    @property
    def indices(self) -> np.ndarray:
        """int32 (nnz,), read-only."""
        return self._indices.view()

    @property
    def global_tokens(self) -> np.ndarray:
        """Sorted unique int64 global token positions, read-only."""
        return self._global_tokens.view()

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
    def from_block_mask(cls, block_mask: ArrayLike, shape: tuple[int, int],
                        block: int | tuple[int, int], *,
                        window: int | tuple[int, int] | None = None, causal: bool = False,
                        global_tokens: ArrayLike | None = None,
                        meta: dict | None = None) -> BlockLayout:
        """A layout from a boolean (..., nqblocks, nkblocks) array (True = visit); the other
        arguments as in the constructor."""
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
                   window=window, causal=causal, global_tokens=global_tokens, meta=meta)

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


__all__ = ["BlockLayout", "global_positions", "window_pair"]
