"""Validation and normalisation of the arrays of an attention call, shared by every op.

Arrays arrive in PyTorch's scaled_dot_product_attention layout,
q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv), and leave as 4-d float32
views (B, H, L, D) whose last axis is contiguous, copied only when needed.
Scalar options are checked in `fastattn._validate`; int8 inputs in `fastattn._precision`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fastattn import _outputs, _validate

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)
# D and Dv must be below this (the kernels index features with 16 bits; int8 needs
# D·127² < 2^31 for exact int32 dot products).
MAX_DIM = 1 << 16


def plain_array(x, name: str) -> np.ndarray:
    """np.asarray(x), refusing a numpy.ma array, whose mask asarray would silently drop."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy.ma.MaskedArray, whose mask would be ignored: pass "
                        f"{name}.filled(value) or a plain array")
    return np.asarray(x)


def as_float_array(x, name: str) -> np.ndarray:
    a = plain_array(x, name)
    if a.dtype.type not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float16, float32 or float64, got dtype {a.dtype}")
    if a.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dims (..., L, D), got shape {a.shape}")
    return a


def kernel_view(a: np.ndarray) -> np.ndarray:
    """`a` as the kernels read it: a contiguous last axis (when longer than 1), no negative
    stride, aligned to its item size (NumPy allows odd addresses; C loads must not see
    them); copied only when it is not already so."""
    if ((a.shape[-1] > 1 and a.strides[-1] != a.itemsize) or min(a.strides, default=0) < 0
            or not a.flags.aligned):
        a = np.array(a, order="C")
    return a


def float32_rows(a: np.ndarray) -> np.ndarray:
    """float32 kernel view of `a` (a view when it already is one)."""
    return kernel_view(a.astype(np.float32, copy=False))


def _unit_last_stride(a: np.ndarray) -> np.ndarray:
    """A last axis of length 1 may carry any stride; the kernels' views want itemsize."""
    if a.shape[-1] == 1 and a.strides[-1] != a.itemsize:
        a = np.lib.stride_tricks.as_strided(a, strides=a.strides[:-1] + (a.itemsize,),
                                            writeable=False)
    return a


def fold(a: np.ndarray, batch: tuple, heads: int, tail: int = 2) -> np.ndarray:
    """(..., H', *tail dims) broadcast to batch + (heads, *tail dims), batch folded into one
    axis: (L, D) rows give a 4-d array, per-block scales (tail=1) a 3-d one."""
    a = a.reshape((1,) * (tail + 1 - a.ndim) + a.shape) if a.ndim < tail + 1 else a
    shape = batch + (heads,) + a.shape[-tail:]
    if len(batch) == 1 and a.shape == shape:  # already 4-d (3-d) as wanted: no broadcast
        return a
    full = np.broadcast_to(a, shape)
    return full.reshape((math.prod(batch), heads) + a.shape[-tail:])


@dataclass
class Int8Parts:
    """What the int8 kernels take beside the int8 data: the 3-d key scales (one per block of
    `block` tokens), the 3-d value scales (one per channel), and the block (also q's).
    `q_limit` is 0 when q was checked, else the bound the kernel checks q against instead
    (`fastattn._precision.check_query` does the check when the kernel finds q beyond it)."""

    k_scale: np.ndarray
    v_scale: np.ndarray
    block: int
    q_limit: float = 0.0


@dataclass
class Prepared:
    q: np.ndarray         # (B, Hq, Lq, D) float32
    k: np.ndarray         # (B, Hkv, Lk, D) float32, or int8 data when int8 is set
    v: np.ndarray         # (B, Hkv, Lk, Dv) float32, or int8 data when int8 is set
    out_shape: tuple      # batch + (Hq, Lq, Dv): the shape the caller gets back
    dtype: np.dtype       # the caller's dtype
    batch: tuple
    scale: float
    int8: Int8Parts | None = None

    @property
    def lq(self) -> int:
        return self.q.shape[2]

    @property
    def lk(self) -> int:
        return self.k.shape[2]

    def new_output(self, out: np.ndarray | None = None, reads: tuple = ()) -> tuple:
        """(user-shaped float32 output, its 4-d view for the kernel): the caller's `out`
        (checked by `check_out`) when the kernel can write it in place, else a new array;
        `reads`: the arrays other than q, k and v that the kernel reads."""
        if out is None or not self.writes_in_place(out, reads):
            out = _outputs.empty(self.out_shape)
        return out, out.reshape(self.q.shape[:3] + (self.out_shape[-1],))  # C order: a view

    def writes_in_place(self, out: np.ndarray, reads: tuple = ()) -> bool:
        """Whether the kernel can write `out` itself: C-contiguous aligned float32 that
        shares no memory with the arrays it reads (else it reads what it has written)."""
        return (out.dtype == np.float32 and out.flags.c_contiguous and out.flags.aligned
                and not any(np.may_share_memory(out, x)
                            for x in (self.q, self.k, self.v, *reads)))

    def finish(self, result: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The caller's result: `result` in the inputs' dtype, or copied into `out` (cast
        as NumPy's ``same_kind`` allows) when the kernel did not write `out` itself."""
        if out is not None:
            if result is not out:
                np.copyto(out, result, casting="same_kind")
            return out
        return result if self.dtype == np.float32 else result.astype(self.dtype)

    def check_out(self, out, name: str = "out") -> None:
        """NumPy's ``out=`` convention: an ndarray of the result's shape, writeable, whose
        dtype the result (in the inputs' dtype) casts to under ``same_kind``; any strides
        and any overlap with the inputs (the result is then copied in after the call)."""
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != self.out_shape:
            raise ValueError(f"{name} must have the result's shape {self.out_shape}, got "
                             f"{out.shape}")
        if not np.can_cast(self.dtype, out.dtype, casting="same_kind"):
            raise TypeError(f"{name} has dtype {out.dtype}, which the result ({self.dtype}) "
                            f"cannot be cast to (same_kind)")
        if not out.flags.writeable:
            raise ValueError(f"{name} is read-only")


def out_shape(q: tuple, k: tuple, v: tuple, batch: tuple, hq: int) -> tuple:
    """The caller's output shape: batch + (Hq, Lq, Dv), or (Lq, Dv) when every input is 2-d."""
    lead = batch + (hq,) if max(len(q), len(k), len(v)) >= 3 else ()
    return lead + (q[-2], v[-1])


def check_shapes(q: tuple, k: tuple, v: tuple, gqa: bool) -> tuple:
    """Checks q (..., Lq, D), k (..., Lk, D), v (..., Lk, Dv) against each other and
    returns ``(batch, hq, hkv)``: the broadcast leading dims and the head counts."""
    if q[-1] != k[-1]:
        raise ValueError(f"query and key must share the last dim D: query {q}, key {k}")
    if k[-2] != v[-2]:
        raise ValueError(f"key and value must have the same length Lk (dim -2): "
                         f"key {k}, value {v}")
    for name, shape in (("query", q), ("key", k), ("value", v)):
        if shape[-2] == 0 or shape[-1] == 0:
            raise ValueError(f"{name} has an empty sequence or feature dim: shape {shape}")
        if shape[-1] >= MAX_DIM:
            raise ValueError(f"{name}'s feature dim ({'Dv' if name == 'value' else 'D'}) must "
                             f"be below {MAX_DIM}, got shape {shape}")
    q3, k3, v3 = ((1,) * (3 - len(x)) + tuple(x) for x in (q, k, v))
    try:
        batch = np.broadcast_shapes(q3[:-3], k3[:-3], v3[:-3])
    except ValueError:
        raise ValueError(f"leading dims of query {q}, key {k}, value {v} do not broadcast"
                         ) from None
    hq, hk, hv = q3[-3], k3[-3], v3[-3]
    if hk != hv and 1 not in (hk, hv):
        raise ValueError(f"key and value head counts differ: key {k}, value {v}")
    hkv = max(hk, hv)
    if hq == 1 or hkv == 1 or hq == hkv:
        hq = max(hq, hkv)
    elif not gqa:
        raise ValueError(f"query heads {hq} and key/value heads {hkv} differ: pass "
                         f"enable_gqa=True for grouped-query attention (query {q}, key {k})")
    elif hq % hkv != 0:
        raise ValueError(f"grouped-query attention needs query heads ({hq}) to be a multiple "
                         f"of key/value heads ({hkv}): query {q}, key {k}")
    return batch, hq, hkv


def prepare(q, k, v, *, scale=None, gqa: bool = True) -> Prepared:
    """Checks shapes and dtypes and returns 4-d float32 views of q, k, v.

    Leading dims broadcast; the head axis (-3) may also differ by grouped-query
    attention (q heads a multiple of k/v heads) when `gqa` is true.
    """
    q = as_float_array(q, "query")
    k = as_float_array(k, "key")
    v = as_float_array(v, "value")
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    batch, hq, hkv = check_shapes(q.shape, k.shape, v.shape, gqa)
    scale = _validate.scale(scale, q.shape[-1])
    q4, k4, v4 = (_unit_last_stride(fold(float32_rows(x), batch, h))
                  for x, h in ((q, hq), (k, hkv), (v, hkv)))
    return Prepared(q4, k4, v4, out_shape(q.shape, k.shape, v.shape, batch, hq), dtype, batch,
                    scale)


def prepare_mask(mask, prep: Prepared, name: str = "attn_mask") -> np.ndarray | None:
    """A boolean (True = attend) or additive float mask broadcastable to
    (..., Hq, Lq, Lk), as a 4-d additive float32 array with a contiguous last axis
    (broadcast axes keep stride 0). For int8 (``prep.int8`` set) NaN and +inf are refused:
    the int8 softmax has no NaN to propagate."""
    if mask is None:
        return None
    m = plain_array(mask, name)
    hq, lq, lk = prep.q.shape[1], prep.lq, prep.lk
    target = prep.batch + (hq, lq, lk)
    if m.dtype == np.bool_:
        m = np.where(m, np.float32(0.0), np.float32(-np.inf))
    elif m.dtype.type in _FLOAT_DTYPES:
        m = m.astype(np.float32, copy=False)
        if prep.int8 is not None and (np.isnan(m).any() or np.isposinf(m).any()):
            raise ValueError(f"{name} holds NaN or +inf, which precision='int8' does not take "
                             "(mask a key with -inf or False)")
    else:
        raise TypeError(f"{name} must be bool (True = attend) or float (additive), "
                        f"got dtype {m.dtype}")
    try:
        if m.ndim > len(target) or np.broadcast_shapes(m.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(f"{name} of shape {m.shape} does not broadcast to (..., Hq, Lq, Lk) = "
                         f"{target}") from None
    m = np.broadcast_to(m, m.shape[:-1] + (lk,)) if m.ndim else np.broadcast_to(m, (lk,))
    m = kernel_view(m)
    m = np.broadcast_to(m, target)
    return _unit_last_stride(m.reshape((prep.q.shape[0], hq, lq, lk)))
