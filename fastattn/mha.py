"""A multi-head attention inference block: fused projections, head pruning, any variant."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn.varlen import ATTENTIONS, varlen_attention

WEIGHTS = ("fp32",)


def _weight(w, name: str, shape: tuple | None = None) -> np.ndarray:
    a = np.asarray(w)
    if a.dtype.type not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-d (out_features, in_features), got shape {a.shape}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return np.array(a, dtype=np.float32)


def _bias(b, name: str, n: int) -> np.ndarray:
    if b is None:
        return np.zeros(n, dtype=np.float32)
    a = np.asarray(b)
    if a.dtype.type not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    return np.array(a, dtype=np.float32)


class MultiHeadAttention:
    """Multi-head attention for inference, ``out = concat_h(attn(x Wq_hᵀ, c Wk_hᵀ, c Wv_hᵀ)) Woᵀ``.

    Parameters
    ----------
    wq, wk, wv : array_like, float
        Projection weights in the (out_features, in_features) layout of ``torch.nn.Linear``:
        ``wq (H·Dh, d_model)``, ``wk`` and ``wv (H·Dh, d_context)``; ``d_context`` may
        differ from ``d_model`` (cross-attention only then).
    wo : array_like, float
        ``(d_out, H·Dh)``.
    bq, bk, bv, bo : array_like, optional
        Biases (zeros when omitted).
    num_heads : int
        ``H``; ``Dh = wq.shape[0] // H``.
    fused : bool
        Self-attention projects q, k and v with one GEMM over the concatenated weights
        ``[Wq; Wk; Wv]`` (cross-attention: q alone, k and v fused); ``False`` runs three
        GEMMs (for comparison). float32 GEMMs run through NumPy's BLAS.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> w = [rng.standard_normal((64, 64), dtype=np.float32) / 8 for _ in range(4)]
    >>> block = fastattn.MultiHeadAttention(*w, num_heads=4)
    >>> x = rng.standard_normal((2, 10, 64), dtype=np.float32)
    >>> block(x).shape
    (2, 10, 64)
    >>> block.prune_heads([1, 3]).num_heads, block(x).shape
    (2, (2, 10, 64))
    """

    def __init__(self, wq: ArrayLike, wk: ArrayLike, wv: ArrayLike, wo: ArrayLike,
                 bq: ArrayLike | None = None, bk: ArrayLike | None = None,
                 bv: ArrayLike | None = None, bo: ArrayLike | None = None, *,
                 num_heads: int, fused: bool = True) -> None:
        if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) \
                or num_heads < 1:
            raise ValueError(f"num_heads must be a positive int, got {num_heads!r}")
        wq = _weight(wq, "wq")
        inner, d_model = wq.shape
        if inner % num_heads:
            raise ValueError(f"wq has {inner} output rows, not a multiple of num_heads="
                             f"{num_heads}")
        wk = _weight(wk, "wk")
        if wk.shape[0] != inner:
            raise ValueError(f"wk must have {inner} output rows like wq, got shape {wk.shape}")
        wv = _weight(wv, "wv", wk.shape)
        wo = _weight(wo, "wo")
        if wo.shape[1] != inner:
            raise ValueError(f"wo must have {inner} input columns (H·Dh), got shape {wo.shape}")
        self.head_dim = inner // int(num_heads)
        self.fused = bool(fused)
        self._w = {"q": wq, "k": wk, "v": wv, "o": wo}
        self._b = {"q": _bias(bq, "bq", inner), "k": _bias(bk, "bk", inner),
                   "v": _bias(bv, "bv", inner), "o": _bias(bo, "bo", wo.shape[0])}
        self.kept_heads = np.arange(int(num_heads))
        self._build()

    @property
    def num_heads(self) -> int:
        return int(self.kept_heads.size)

    @property
    def d_model(self) -> int:
        return self._w["q"].shape[1]

    @property
    def d_context(self) -> int:
        return self._w["k"].shape[1]

    @property
    def d_out(self) -> int:
        return self._w["o"].shape[0]

    def _build(self) -> None:
        """The GEMM operands: transposed (in, out) float32 weights, q/k/v fused."""
        w, b = self._w, self._b
        self._qkv = None
        if self.d_model == self.d_context:
            self._qkv = (np.ascontiguousarray(np.concatenate([w["q"], w["k"], w["v"]]).T),
                         np.concatenate([b["q"], b["k"], b["v"]]))
        self._q = (np.ascontiguousarray(w["q"].T), b["q"])
        self._kv = (np.ascontiguousarray(np.concatenate([w["k"], w["v"]]).T),
                    np.concatenate([b["k"], b["v"]]))
        self._sep = {n: (np.ascontiguousarray(w[n].T), b[n]) for n in "kv"}
        self._o = (np.ascontiguousarray(w["o"].T), b["o"])

    # projections -----------------------------------------------------------------------

    def _tokens(self, x, name: str, dim: int) -> np.ndarray:
        a = np.asarray(x)
        if a.dtype.type not in (np.float16, np.float32, np.float64):
            raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
        if a.ndim < 1 or a.shape[-1] != dim:
            raise ValueError(f"{name} must have last dim {dim}, got shape {a.shape}")
        return np.ascontiguousarray(a.reshape(-1, dim), dtype=np.float32)

    def project(self, x2, c2=None) -> tuple:
        """(q, k, v) as (N, H, Dh) views for tokens x2 (N, d_model) and, for
        cross-attention, context tokens c2 (M, d_context)."""
        h, dh = self.num_heads, self.head_dim
        if c2 is None and self._qkv is not None and self.fused:
            qkv = x2 @ self._qkv[0]
            qkv += self._qkv[1]
            qkv = qkv.reshape(-1, 3, h, dh)
            return qkv[:, 0], qkv[:, 1], qkv[:, 2]
        c2 = x2 if c2 is None else c2
        q = (x2 @ self._q[0] + self._q[1]).reshape(-1, h, dh)
        if self.fused:
            kv = (c2 @ self._kv[0] + self._kv[1]).reshape(-1, 2, h, dh)
            return q, kv[:, 0], kv[:, 1]
        k, v = ((c2 @ w + b).reshape(-1, h, dh) for w, b in (self._sep["k"], self._sep["v"]))
        return q, k, v

    def _out(self, o) -> np.ndarray:
        y = np.ascontiguousarray(o).reshape(o.shape[0], -1) @ self._o[0]
        y += self._o[1]
        return y

    # forward ---------------------------------------------------------------------------

    def __call__(self, x, context=None, *, mask=None, causal: bool = False,
                 attention: str = "dense", precision: str = "fp32",
                 num_threads: int | None = None, **options) -> np.ndarray:
        """The block on ``x (L, d_model)`` or ``(B, L, d_model)``; ``context (Lk, d_context)``
        or ``(B, Lk, d_context)`` for cross-attention (default: self-attention).

        ``attention`` picks the variant (``"dense"``, ``"local"``, ``"routed"``, with
        their ``**options`` such as ``window=`` or ``density=``), ``precision`` its
        arithmetic (``"fp32"`` or ``"int8"``); ``mask`` and ``causal`` as in
        :func:`fastattn.attention`. Returns ``(..., L, d_out)`` float32.
        """
        o, lead = self._attend(x, context, mask=mask, causal=causal, attention=attention,
                               precision=precision, num_threads=num_threads, **options)
        return self._out(o).reshape(lead + (-1, self.d_out))

    def _attend(self, x, context, *, mask, attention, **options) -> tuple:
        """Per-head attention outputs (N, H, Dh) of the tokens of x, and x's batch dims."""
        x = np.asarray(x)
        if x.ndim not in (2, 3):
            raise ValueError(f"x must be (L, d_model) or (B, L, d_model), got shape {x.shape}")
        lead = x.shape[:-2]
        x2 = self._tokens(x, "x", self.d_model)
        c2 = None
        if context is not None:
            c = np.asarray(context)
            if c.ndim != x.ndim or c.shape[:-2] != lead:
                raise ValueError(f"context must have x's batch dims {lead} and shape "
                                 f"(..., Lk, d_context), got shape {c.shape}")
            c2 = self._tokens(c, "context", self.d_context)
        q, k, v = self.project(x2, c2)
        batch = x2.shape[0] // x.shape[-2]
        fn = _attention_fn(attention)
        if mask is not None:
            options = dict(options, mask=mask)
        heads_first = [t.reshape(batch, -1, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
                       for t in (q, k, v)]
        o = fn(*heads_first, **options)
        return o.transpose(0, 2, 1, 3).reshape(x2.shape[0], self.num_heads, -1), lead

    def varlen(self, x, cu_seqlens, context=None, cu_seqlens_k=None, *, causal: bool = False,
               attention: str = "dense", precision: str = "fp32",
               num_threads: int | None = None, **options) -> np.ndarray:
        """The block on a packed batch ``x (total, d_model)`` of sequences delimited by
        ``cu_seqlens`` (see :func:`fastattn.varlen_attention`): no work on padding.
        ``context (total_k, d_context)`` with ``cu_seqlens_k`` for cross-attention.
        Returns ``(total, d_out)`` float32."""
        x2 = self._tokens(x, "x", self.d_model)
        if np.ndim(x) != 2:
            raise ValueError(f"x must be packed as (total, d_model), got shape {np.shape(x)}")
        c2, cu_k = None, cu_seqlens
        if context is not None:
            if cu_seqlens_k is None:
                raise ValueError("cu_seqlens_k is required with context")
            c2, cu_k = self._tokens(context, "context", self.d_context), cu_seqlens_k
        q, k, v = self.project(x2, c2)
        o = varlen_attention(q, k, v, cu_seqlens_q=cu_seqlens, cu_seqlens_k=cu_k,
                             causal=causal, attention=attention, precision=precision,
                             num_threads=num_threads, **options)
        return self._out(o)

    # pruning ---------------------------------------------------------------------------

    def head_outputs(self, x, context=None, **kwargs) -> np.ndarray:
        """Each head's contribution to the block output, ``o_h Wo[:, h]ᵀ``, as
        ``(H, N, d_out)`` float32 over the N tokens of ``x`` (same arguments as calling
        the block). The block output is their sum plus ``bo``."""
        o, _ = self._attend(x, context, mask=kwargs.pop("mask", None),
                            attention=kwargs.pop("attention", "dense"), **kwargs)
        wo = self._w["o"].reshape(self.d_out, self.num_heads, self.head_dim)
        return np.einsum("nhd,ohd->hno", o, wo, optimize=True).astype(np.float32)

    def head_importance(self, x, context=None, **kwargs) -> np.ndarray:
        """Importance of each head on calibration tokens ``x``: the norm of the head's
        contribution to the block output, relative to the norm of the whole output
        without bias,

            importance_h = ‖o_h Wo_hᵀ‖_F / ‖Σ_g o_g Wo_gᵀ‖_F.

        Why this criterion: the output projection is linear in the heads, so this is
        exactly how far the block's output moves when head ``h`` alone is pruned (an
        ablation measured in one pass), it needs no labels, loss or gradients (this is
        an inference library, unlike gradient-based head scores), and it accounts for
        both the attention output and the size of ``Wo``'s columns. It does not see
        what later layers do with the change, nor interactions when several heads go:
        prune a few at a time and re-measure. Arguments as in calling the block;
        returns ``(num_heads,)`` float64.
        """
        parts = self.head_outputs(x, context, **kwargs).astype(np.float64)
        total = np.linalg.norm(parts.sum(axis=0))
        return np.linalg.norm(parts.reshape(parts.shape[0], -1), axis=1) / max(total, 1e-300)

    def prune_heads(self, heads) -> MultiHeadAttention:
        """Removes the given heads (indices into the current ``0..num_heads-1``) in place:
        their rows of ``wq``, ``wk``, ``wv`` (and biases) and columns of ``wo`` go, so
        the block is smaller and faster. ``kept_heads`` holds the original indices of
        the heads that remain. Returns the block."""
        idx = np.asarray(heads)
        if idx.dtype.kind not in "iu" and idx.size:
            raise TypeError(f"heads must be integer indices, got dtype {idx.dtype}")
        idx = np.unique(idx.astype(np.int64).ravel())
        if idx.size and (idx[0] < 0 or idx[-1] >= self.num_heads):
            bad = idx[0] if idx[0] < 0 else idx[-1]
            raise ValueError(f"heads: head {bad} does not exist (the block has "
                             f"{self.num_heads} heads, indices 0..{self.num_heads - 1})")
        if idx.size == self.num_heads:
            raise ValueError(f"heads: pruning all {self.num_heads} heads would leave no "
                             "attention; keep at least one")
        keep = np.setdiff1d(np.arange(self.num_heads), idx)
        dh = self.head_dim
        rows = (keep[:, None] * dh + np.arange(dh)).ravel()
        for n in "qkv":
            self._w[n] = self._w[n][rows]
            self._b[n] = self._b[n][rows]
        self._w["o"] = np.ascontiguousarray(self._w["o"][:, rows])
        self.kept_heads = self.kept_heads[keep]
        self._build()
        return self


def _attention_fn(name: str):
    if name not in ATTENTIONS:
        raise ValueError(f"attention must be one of {tuple(ATTENTIONS)}, got {name!r}")
    return ATTENTIONS[name]


__all__ = ["WEIGHTS", "MultiHeadAttention"]
