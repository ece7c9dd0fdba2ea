"""A multi-head attention inference block: fused projections, head pruning, any variant."""

from __future__ import annotations

import numpy as np

from fastattn.gemm import WEIGHTS, check_bias, check_weight, linear_layer
from fastattn.kvcache import KVCache
from fastattn.varlen import run_attention, varlen_attention


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
        GEMMs (for comparison).
    weights : {"fp32", "int8"}
        float32 GEMMs through NumPy's BLAS, or int8 weights per output channel with
        dynamic int8 activations in fastattn's C kernel (:class:`fastattn.Int8Linear`).
        The float32 weights are kept too, so that pruning re-quantises ``wo`` exactly.

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

    def __init__(self, wq, wk, wv, wo, bq=None, bk=None, bv=None, bo=None, *,
                 num_heads: int, fused: bool = True, weights: str = "fp32") -> None:
        if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) \
                or num_heads < 1:
            raise ValueError(f"num_heads must be a positive int, got {num_heads!r}")
        wq = check_weight(wq, "wq")
        inner, d_model = wq.shape
        if inner % num_heads:
            raise ValueError(f"wq has {inner} output rows, not a multiple of num_heads="
                             f"{num_heads}")
        wk = check_weight(wk, "wk")
        if wk.shape[0] != inner:
            raise ValueError(f"wk must have {inner} output rows like wq, got shape {wk.shape}")
        wv = check_weight(wv, "wv", wk.shape)
        wo = check_weight(wo, "wo")
        if wo.shape[1] != inner:
            raise ValueError(f"wo must have {inner} input columns (H·Dh), got shape {wo.shape}")
        self.head_dim = inner // int(num_heads)
        self.fused = bool(fused)
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
        self.weights = weights
        self._w = {"q": wq, "k": wk, "v": wv, "o": wo}
        self._b = {"q": check_bias(bq, "bq", inner), "k": check_bias(bk, "bk", inner),
                   "v": check_bias(bv, "bv", inner), "o": check_bias(bo, "bo", wo.shape[0])}
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
        """The GEMMs: q, k, v fused into one (self-attention) or k and v (cross)."""
        w, b = self._w, self._b

        def layer(names):
            return linear_layer(np.concatenate([w[n] for n in names]),
                                np.concatenate([b[n] for n in names]), self.weights)

        self._qkv = layer("qkv") if self.d_model == self.d_context and self.fused else None
        self._q = self._kv = None  # q alone and k, v fused: built on first cross-attention
        self._sep = None if self.fused else {n: layer(n) for n in "qkv"}
        self._o = layer("o")
        self._layer = layer

    @property
    def nbytes(self) -> int:
        """Bytes of the weights one self-attention call reads (projections only; the
        float32 copies kept for pruning are not counted)."""
        used = [self._qkv] if self._qkv is not None else list(self._sep.values())
        return sum(lin.nbytes for lin in used + [self._o])

    # projections -----------------------------------------------------------------------

    def _tokens(self, x, name: str, dim: int) -> np.ndarray:
        a = np.asarray(x)
        if a.dtype.type not in (np.float16, np.float32, np.float64):
            raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
        if a.ndim < 1 or a.shape[-1] != dim:
            raise ValueError(f"{name} must have last dim {dim}, got shape {a.shape}")
        return np.ascontiguousarray(a.reshape(-1, dim), dtype=np.float32)

    def project(self, x2, c2=None, num_threads: int | None = None) -> tuple:
        """(q, k, v) as (N, H, Dh) views for tokens x2 (N, d_model) and, for
        cross-attention, context tokens c2 (M, d_context)."""
        h, dh = self.num_heads, self.head_dim
        if c2 is None and self._qkv is not None:
            qkv = self._qkv(x2, num_threads=num_threads).reshape(-1, 3, h, dh)
            return qkv[:, 0], qkv[:, 1], qkv[:, 2]
        c2 = x2 if c2 is None else c2
        if self._sep is not None:
            return tuple(self._sep[n](t, num_threads=num_threads).reshape(-1, h, dh)
                         for n, t in (("q", x2), ("k", c2), ("v", c2)))
        if self._kv is None:
            self._q, self._kv = self._layer("q"), self._layer("kv")
        q = self._q(x2, num_threads=num_threads).reshape(-1, h, dh)
        kv = self._kv(c2, num_threads=num_threads).reshape(-1, 2, h, dh)
        return q, kv[:, 0], kv[:, 1]

    def _out(self, o, num_threads: int | None = None) -> np.ndarray:
        return self._o(np.ascontiguousarray(o).reshape(o.shape[0], -1), num_threads=num_threads)

    # forward ---------------------------------------------------------------------------

    def __call__(self, x, context=None, *, mask=None, causal: bool = False,
                 attention: str = "dense", precision: str = "fp32",
                 num_threads: int | None = None, **options) -> np.ndarray:
        """The block on ``x (L, d_model)`` or ``(B, L, d_model)``; ``context (Lk, d_context)``
        or ``(B, Lk, d_context)`` for cross-attention (default: self-attention).

        ``attention`` picks the variant (``"dense"``, ``"local"``, ``"routed"``,
        ``"linear"``, ``"performer"``, with their ``**options`` such as ``window=`` or
        ``density=``, see :func:`fastattn.varlen_attention`), ``precision`` its
        arithmetic (``"fp32"`` or ``"int8"``); ``mask`` and ``causal`` as in
        :func:`fastattn.attention`. Returns ``(..., L, d_out)`` float32.
        """
        o, lead = self._attend(x, context, mask=mask, causal=causal, attention=attention,
                               precision=precision, num_threads=num_threads, **options)
        return self._out(o, num_threads).reshape(lead + (-1, self.d_out))

    def _attend(self, x, context, *, mask, attention, num_threads=None, **options) -> tuple:
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
        q, k, v = self.project(x2, c2, num_threads)
        batch = x2.shape[0] // x.shape[-2]
        if mask is not None:
            options = dict(options, mask=mask)
        heads_first = [t.reshape(batch, -1, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
                       for t in (q, k, v)]
        o = run_attention(attention, *heads_first, num_threads=num_threads, **options)
        return o.transpose(0, 2, 1, 3).reshape(x2.shape[0], self.num_heads, -1), lead

    def varlen(self, x, cu_seqlens, context=None, cu_seqlens_k=None, *, causal: bool = False,
               attention: str = "dense", precision: str = "fp32",
               num_threads: int | None = None, **options) -> np.ndarray:
        """The block on a packed batch ``x (total, d_model)`` of sequences delimited by
        ``cu_seqlens`` (see :func:`fastattn.varlen_attention`): no work on padding.
        ``context (total_k, d_context)`` with ``cu_seqlens_k`` for cross-attention.
        Returns ``(total, d_out)`` float32."""
        o = self._attend_varlen(x, cu_seqlens, context, cu_seqlens_k, causal=causal,
                                attention=attention, precision=precision,
                                num_threads=num_threads, **options)
        return self._out(o, num_threads)

    def _attend_varlen(self, x, cu_seqlens, context, cu_seqlens_k, *, num_threads=None,
                       **options) -> np.ndarray:
        if np.ndim(x) != 2:
            raise ValueError(f"x must be packed as (total, d_model), got shape {np.shape(x)}")
        x2 = self._tokens(x, "x", self.d_model)
        c2, cu_k = None, cu_seqlens
        if context is not None:
            if cu_seqlens_k is None:
                raise ValueError("cu_seqlens_k is required with context")
            c2, cu_k = self._tokens(context, "context", self.d_context), cu_seqlens_k
        q, k, v = self.project(x2, c2, num_threads)
        return varlen_attention(q, k, v, cu_seqlens_q=cu_seqlens, cu_seqlens_k=cu_k,
                                num_threads=num_threads, **options)

    # decoding ------------------------------------------------------------------------

    def new_cache(self, batch: int, capacity: int, *, precision: str = "fp32",
                  grow: bool = False) -> KVCache:
        """An empty :class:`fastattn.KVCache` sized for this block's heads (after pruning:
        the kept heads), for :meth:`decode`."""
        return KVCache(batch, self.num_heads, self.head_dim, capacity, precision=precision,
                       grow=grow)

    def decode(self, x, cache: KVCache, *, num_threads: int | None = None) -> np.ndarray:
        """Causal self-attention of new tokens ``x (B, n, d_model)`` against everything
        the cache holds: their keys and values are projected (the fused GEMM) and
        appended to `cache`, then the queries attend to all cached tokens with the decode
        kernels (query ``i`` of the n new ones sees the cache up to itself). Calling it
        on a prompt and then token by token gives the same result as one causal call on
        the whole sequence. Returns ``(B, n, d_out)`` float32."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"x must be (B, n, d_model) for decode, got shape {x.shape}")
        if not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a fastattn.KVCache (see new_cache), got "
                            f"{type(cache).__name__}")
        b, n = x.shape[:2]
        q, k, v = self.project(self._tokens(x, "x", self.d_model), None, num_threads)
        heads_first = [t.reshape(b, n, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
                       for t in (q, k, v)]
        cache.append(heads_first[1], heads_first[2])
        o = cache.attend(heads_first[0], causal=True, num_threads=num_threads)
        o = o.transpose(0, 2, 1, 3).reshape(b * n, -1)
        return self._out(o, num_threads).reshape(b, n, self.d_out)

    # pruning ---------------------------------------------------------------------------

    def head_outputs(self, x, context=None, *, cu_seqlens=None, cu_seqlens_k=None,
                     **kwargs) -> np.ndarray:
        """Each head's contribution to the block output, ``o_h Wo[:, h]ᵀ``, as
        ``(H, N, d_out)`` float32 over the N tokens of ``x`` (arguments as in calling the
        block, or with ``cu_seqlens`` as in :meth:`varlen` for a packed ``x``). The block
        output is their sum plus ``bo``."""
        if cu_seqlens is not None:
            o = self._attend_varlen(x, cu_seqlens, context, cu_seqlens_k, **kwargs)
        else:
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
        prune a few at a time and re-measure. Arguments as in :meth:`head_outputs`;
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


__all__ = ["WEIGHTS", "MultiHeadAttention"]
