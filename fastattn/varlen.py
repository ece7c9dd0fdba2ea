"""Attention over packed batches of sequences of different lengths (no padding).

Layout (the one of FlashAttention's ``flash_attn_varlen_func``): the sequences of a
batch are concatenated along the token axis, ``q (total_q, Hq, D)``,
``k (total_k, Hkv, D)``, ``v (total_k, Hkv, Dv)``, and ``cu_seqlens_q`` /
``cu_seqlens_k`` (int, length ``batch + 1``, starting at 0, non-decreasing, ending
at the totals) give where each sequence starts: sequence ``i`` owns query rows
``cu_seqlens_q[i]:cu_seqlens_q[i+1]`` and key rows ``cu_seqlens_k[i]:cu_seqlens_k[i+1]``.
Queries of sequence ``i`` attend only to keys of sequence ``i``.
"""

from __future__ import annotations

import inspect

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _precision, _validate
from fastattn._dispatch import DENSE_F32
from fastattn._inputs import as_float_array, check_shapes, float32_rows
from fastattn.dense import attention, causal_band
from fastattn.linear import linear_attention
from fastattn.performer import performer_attention
from fastattn.routed import routed_attention
from fastattn.sparse import local_attention

#: attention= choices of `varlen_attention` (and of the blocks) and the function each runs
ATTENTIONS = {"dense": attention, "local": local_attention, "routed": routed_attention,
              "linear": linear_attention, "performer": performer_attention}


def run_attention(name: str, q, k, v, **kwargs) -> np.ndarray:
    """``ATTENTIONS[name](q, k, v, **kwargs)``, leaving out ``scale`` and ``precision`` for a
    variant without them (linear attention has no score scale) and refusing int8 there."""
    if name not in ATTENTIONS:
        raise ValueError(f"attention must be one of {tuple(ATTENTIONS)}, got {name!r}")
    fn = ATTENTIONS[name]
    accepted = inspect.signature(fn).parameters
    if kwargs.get("precision", "fp32") != "fp32" and "precision" not in accepted:
        raise ValueError(f"attention={name!r} has no int8 kernel: use precision='fp32'")
    for key in ("scale", "precision"):
        if key not in accepted:
            kwargs.pop(key, None)
    return fn(q, k, v, **kwargs)


def check_cu_seqlens(cu, total: int, name: str) -> np.ndarray:
    """`cu` as an int64 array: 1-d, at least 2 entries, 0 first, non-decreasing, `total` last."""
    a = np.asarray(cu)
    if a.dtype.kind not in "iu" or a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must be a 1-d integer array of batch + 1 offsets, got "
                         f"dtype {a.dtype}, shape {a.shape}")
    a = a.astype(np.int64)
    if a[0] != 0:
        raise ValueError(f"{name} must start at 0, got {a[0]}")
    if np.any(np.diff(a) < 0):
        i = int(np.argmax(np.diff(a) < 0))
        raise ValueError(f"{name} must be non-decreasing: {name}[{i}] = {a[i]} > "
                         f"{name}[{i + 1}] = {a[i + 1]}")
    if a[-1] != total:
        raise ValueError(f"{name} must end at the packed length {total}, got {a[-1]}")
    return a


def _packed(x, name: str) -> np.ndarray:
    a = as_float_array(x, name)
    if a.ndim != 3:
        raise ValueError(f"{name} must be packed as (total_tokens, heads, dim), got shape "
                         f"{a.shape}")
    return a


def _heads_first(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows lo:hi of a packed (total, H, D) array as a (1, H, L, D) view (no copy)."""
    return a[lo:hi].transpose(1, 0, 2)[None]


def varlen_attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    *,
    cu_seqlens_q: ArrayLike,
    cu_seqlens_k: ArrayLike,
    causal: bool = False,
    scale: float | None = None,
    attention: str = "dense",
    precision: str = "fp32",
    num_threads: int | None = None,
    variant: str | None = None,
    **options,
) -> np.ndarray:
    """Attention of every sequence of a packed batch to itself, with no work on padding.

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        Packed ``q (total_q, Hq, D)``, ``k (total_k, Hkv, D)``, ``v (total_k, Hkv, Dv)``
        (FlashAttention's varlen layout, see the module docstring); ``Hq`` a multiple of
        ``Hkv`` gives grouped-query attention. Any strides (e.g. views of one fused
        ``(total, 3, H, D)`` projection); the last axis is used in place when contiguous.
    cu_seqlens_q, cu_seqlens_k : array_like of int, shape (batch + 1,)
        Cumulative sequence lengths: 0, then each sequence's end.
    causal : bool
        Per sequence, bottom-right aligned as in :func:`fastattn.attention`: query ``i`` of
        a sequence with ``Lq`` queries and ``Lk`` keys sees keys ``j <= i + Lk - Lq``.
    scale : float, optional
        Multiplies ``q kᵀ``; default ``1 / sqrt(D)``.
    attention : {"dense", "local", "routed", "linear", "performer"}
        The variant run on each sequence: :func:`fastattn.attention`,
        :func:`fastattn.local_attention`, :func:`fastattn.routed_attention`,
        :func:`fastattn.linear_attention` (no score scale, float32 only) or
        :func:`fastattn.performer_attention` (float32 only); ``**options`` are passed on
        (``window=`` for local, ``density=`` / ``top_k=`` / ``block=`` for routed,
        ``num_features=`` for Performer).
    precision : {"fp32", "int8"}
        As in :func:`fastattn.attention`; int8 quantises each sequence's keys and values
        on their own (per-sequence smoothing mean and block scales).
    num_threads, variant
        As in :func:`fastattn.attention`; each sequence's call splits its heads and
        query tiles over the threads.

    Returns
    -------
    numpy.ndarray
        Packed ``(total_q, Hq, Dv)`` in the inputs' (promoted) dtype. A sequence with
        queries but no keys gives zeros.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> lengths = [5, 17, 3]
    >>> cu = np.concatenate([[0], np.cumsum(lengths)])
    >>> q, k, v = (rng.standard_normal((25, 4, 32), dtype=np.float32) for _ in range(3))
    >>> out = fastattn.varlen_attention(q, k, v, cu_seqlens_q=cu, cu_seqlens_k=cu)
    >>> out.shape
    (25, 4, 32)
    >>> one = fastattn.attention(q[5:22].transpose(1, 0, 2), k[5:22].transpose(1, 0, 2),
    ...                          v[5:22].transpose(1, 0, 2))
    >>> bool(np.allclose(out[5:22], one.transpose(1, 0, 2), atol=1e-6))
    True
    """
    q, k, v = _packed(q, "q"), _packed(k, "k"), _packed(v, "v")
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    if q.shape[0] and k.shape[0]:
        check_shapes(*(_per_sequence_shape(x) for x in (q, k, v)), True)
    else:
        _check_empty(q, k, v)
    cu_q = check_cu_seqlens(cu_seqlens_q, q.shape[0], "cu_seqlens_q")
    cu_k = check_cu_seqlens(cu_seqlens_k, k.shape[0], "cu_seqlens_k")
    if cu_q.size != cu_k.size:
        raise ValueError(f"cu_seqlens_q and cu_seqlens_k must describe the same number of "
                         f"sequences: lengths {cu_q.size} and {cu_k.size}")
    causal = _validate.boolean(causal, "causal")
    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {tuple(ATTENTIONS)}, got {attention!r}")
    precision = _precision.check(precision)
    scale = _validate.scale(scale, q.shape[-1])
    threads = _validate.num_threads(num_threads)
    q, k, v = float32_rows(q), float32_rows(k), float32_rows(v)
    out = np.zeros((q.shape[0], q.shape[1], v.shape[2]), dtype=np.float32)
    if attention == "dense" and precision == "fp32" and not options:
        _dense_f32_loop(q, k, v, out, cu_q, cu_k, causal, scale, threads, variant)
    else:
        for i in range(cu_q.size - 1):
            (a, b), (c, e) = cu_q[i:i + 2], cu_k[i:i + 2]
            if a == b or c == e:
                continue
            res = run_attention(attention, q[a:b].transpose(1, 0, 2),
                                k[c:e].transpose(1, 0, 2), v[c:e].transpose(1, 0, 2),
                                causal=causal, scale=scale, num_threads=threads,
                                variant=variant, precision=precision, **options)
            out[a:b] = res.transpose(1, 0, 2)
    return out if dtype == np.float32 else out.astype(dtype)


def _per_sequence_shape(a: np.ndarray) -> tuple:
    """(H, total, D): the shape check of fastattn.attention applies per sequence."""
    return (a.shape[1], a.shape[0], a.shape[2])


def _check_empty(q, k, v) -> None:
    """Shapes of a batch with no query or no key tokens: only dims must agree."""
    if q.shape[2] != k.shape[2] or k.shape[0] != v.shape[0]:
        raise ValueError(f"q {q.shape}, k {k.shape}, v {v.shape}: q and k must share the "
                         f"last dim and k and v the token count")


def _dense_f32_loop(q, k, v, out, cu_q, cu_k, causal, scale, threads, variant) -> None:
    """One dense float32 kernel call per sequence on (1, H, L, D) views of the packed
    arrays: the kernel reads and writes the packed memory in place (no copies)."""
    kernel = DENSE_F32.resolve(variant)
    for i in range(cu_q.size - 1):
        (a, b), (c, e) = cu_q[i:i + 2], cu_k[i:i + 2]
        if a == b or c == e:
            continue
        hi = causal_band(b - a, e - c, "bottom-right") if causal else _core.BAND_NONE
        _core.dense_f32(_heads_first(q, a, b), _heads_first(k, c, e), _heads_first(v, c, e),
                        _heads_first(out, a, b), None, scale, -_core.BAND_NONE, hi,
                        kernel.index, threads)


def pack(lengths) -> np.ndarray:
    """``cu_seqlens`` for sequences of the given lengths: ``[0, cumsum(lengths)...]``.

    >>> from fastattn.varlen import pack
    >>> pack([3, 0, 2]).tolist()
    [0, 3, 3, 5]
    """
    n = np.asarray(lengths, dtype=np.int64)
    if n.ndim != 1 or np.any(n < 0):
        raise ValueError(f"lengths must be a 1-d array of non-negative ints, got {lengths!r}")
    return np.concatenate([[0], np.cumsum(n)]).astype(np.int64)


__all__ = ["ATTENTIONS", "check_cu_seqlens", "pack", "run_attention", "varlen_attention"]
