"""Precision handling for every op: the precision names, when a `QuantizedTensor` is accepted,
and the preparation of q, k, v for the float32 or the int8 kernels.

An op calls `prepare(q, k, v, precision=..., allowed=...)` and gets a `Prepared` whose
``int8`` field is None for float32 and holds the scales for int8, then `kernel(...)` for the
compiled variant to run.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _inputs, _validate
from fastattn._dispatch import Op, Variant
from fastattn._inputs import Int8Parts, Prepared
from fastattn.quantized import QuantizedTensor, quantize

PRECISIONS = ("fp32", "int8")

# q·k of int8 rows is exact in int32 while D·127² < 2³¹ (every kernel has this limit on D).
MAX_INT8_DIM = _inputs.MAX_DIM
# The int8 engine's float32 steps stay finite while every factor and logit is below this.
INT8_LOGIT_MAX = 2.0**100
_SAFE = 2.0**60


def check(precision, allowed: tuple = PRECISIONS) -> str:
    """`precision` if it is one of `allowed`, else a ValueError naming the choices."""
    if not isinstance(precision, str) or precision not in allowed:
        raise ValueError(f"precision must be one of {allowed}, got {precision!r}")
    return precision


def reject_quantized(allowed: tuple = PRECISIONS, **arrays) -> None:
    """A TypeError for the first QuantizedTensor among `arrays` (name=value) on a float path."""
    for name, x in arrays.items():
        if isinstance(x, QuantizedTensor):
            hint = ("pass precision='int8'" if "int8" in allowed else
                    f"this op runs in {' or '.join(allowed)} only: pass {name}.dequantize()")
            raise TypeError(f"{name} is a QuantizedTensor: {hint}")


def _quantized(x, kind: str, num_threads) -> QuantizedTensor:
    if not isinstance(x, QuantizedTensor):
        return quantize(x, kind=kind, num_threads=num_threads)
    if x.kind != kind:
        how = "fastattn.quantize(k) (kind='key')" if kind == "key" else \
            "fastattn.quantize(v, kind='value')"
        raise ValueError(f"{kind} is a QuantizedTensor of kind {x.kind!r}: quantize {kind}s "
                         f"with {how}")
    return x


def _prepare_int8(q, k, v, scale, gqa: bool, num_threads, defer_query_check: bool) -> Prepared:
    """k and v float arrays (quantised here on `num_threads` threads) or QuantizedTensors; q
    stays float32 (checked here, or by the kernel against ``int8.q_limit``)."""
    q = _inputs.as_float_array(q, "query")
    floats = [np.asarray(x).dtype for x in (k, v) if not isinstance(x, QuantizedTensor)]
    dtype = np.result_type(q.dtype, *floats)
    k, v = _quantized(k, "key", num_threads), _quantized(v, "value", num_threads)
    kd, vd = k.data, v.data
    batch, hq, hkv = _inputs.check_shapes(q.shape, kd.shape, vd.shape, gqa)
    d = q.shape[-1]
    scale = _validate.scale(scale, d)
    q4 = _inputs.fold(_inputs.float32_rows(q), batch, hq)
    ksmax = float(k.scale.max())
    q_limit = _query_limit(ksmax, scale, d) if defer_query_check else 0.0
    if not q_limit:
        q4, scale = _checked_query(q4, ksmax, scale, d)
    kd, vd = _inputs.kernel_view(kd), _inputs.kernel_view(vd)
    parts = Int8Parts(_inputs.fold(k.scale, batch, hkv, 1), _inputs.fold(v.scale, batch, hkv, 1),
                      k.block, q_limit)
    return Prepared(q4, _inputs.fold(kd, batch, hkv), _inputs.fold(vd, batch, hkv),
                    _inputs.out_shape(q.shape, kd.shape, vd.shape, batch, hq), dtype, batch,
                    scale, parts)


def _checked_query(q4: np.ndarray, ksmax: float, scale: float, d: int) -> tuple:
    """(q, scale) of `_int8_range` once q is proven finite (a ValueError if it is not)."""
    top, bottom = float(q4.max()), float(q4.min())
    if not (np.isfinite(top) and np.isfinite(bottom)):
        raise ValueError("query must be finite for precision='int8'")
    return _int8_range(q4, max(top, -bottom), ksmax, scale, d)


def _query_limit(ksmax: float, scale: float, d: int) -> float:
    """A float32 bound below which every max|q| takes `_int8_range`'s fast path, (q, scale)
    unchanged, with a factor of 2 to spare; 0 when no q does."""
    step = d * 127.0 * ksmax * abs(scale) * math.log2(math.e)
    if not (ksmax * abs(scale) < _SAFE):
        return 0.0
    limit = _SAFE if step == 0 else min(_SAFE, INT8_LOGIT_MAX / step)
    limit32 = np.float32(limit / 2)
    return float(limit32 if limit32 <= limit / 2 else np.nextafter(limit32, np.float32(0)))


def check_query(prep: Prepared) -> Prepared:
    """`prep` (from ``prepare(..., defer_query_check=True)``) with q checked as `prepare` checks
    it (finite, else a ValueError; rescaled with the scale when its logits would overflow) and
    ``int8.q_limit`` 0: for the kernel call after it reported q beyond ``int8.q_limit``."""
    i8 = prep.int8
    q4, scale = _checked_query(prep.q, float(i8.k_scale.max()), prep.scale, prep.q.shape[-1])
    return dataclasses.replace(prep, q=q4, scale=scale, int8=dataclasses.replace(i8, q_limit=0.0))


def _int8_range(q4: np.ndarray, qmax: float, ksmax: float, scale: float, d: int) -> tuple:
    """(q, scale) for which the engine's t = ((float)s · qs) · (ks · scale · log2 e) is finite:
    |s| <= D·127², qs <= max|q| / 127. Usually (q4, scale) unchanged. Else q is scaled by a power
    of two (the int8 integers, and every product that was finite, stay bit for bit the same)
    and the scale by its inverse; and if the logits could still pass INT8_LOGIT_MAX the scale
    is reduced to keep them below: the answer is then the hard max of the int8 scores."""
    bound = d * 127.0 * qmax * ksmax * abs(scale) * math.log2(math.e)
    if qmax < _SAFE and ksmax * abs(scale) < _SAFE and bound < INT8_LOGIT_MAX:
        return q4, scale
    shift = math.frexp(qmax)[1] if qmax > 0 else 0
    q4 = np.ldexp(q4, np.int32(-shift))
    scale = math.ldexp(scale, shift)
    if bound >= INT8_LOGIT_MAX:
        scale *= INT8_LOGIT_MAX / 2 / bound
    return q4, math.copysign(min(abs(scale), INT8_LOGIT_MAX), scale)


def prepare(q: ArrayLike, k, v, *, precision: str = "fp32", allowed: tuple = PRECISIONS,
            scale=None, gqa: bool = True, num_threads: int | None = None,
            defer_query_check: bool = False) -> Prepared:
    """Checks q, k, v for `precision` (one of `allowed`, the precisions the op has kernels for)
    and returns them as the kernels take them: 4-d float32 views, or for int8 the 4-d int8
    data of k and v (float arrays are quantised here, on the call's `num_threads`) with their
    scales in ``.int8``. With `defer_query_check` (int8, for a kernel that takes ``q_limit``)
    the pass over q that proves it finite and in range is left to the kernel: a nonzero
    ``int8.q_limit`` then says so, and `check_query` does it when the kernel refuses q."""
    check(precision, allowed)
    if precision == "int8":
        return _prepare_int8(q, k, v, scale, gqa, num_threads, defer_query_check)
    reject_quantized(allowed, key=k, value=v)
    return _inputs.prepare(q, k, v, scale=scale, gqa=gqa)


def kernel(prep: Prepared, variant: str | None, *, fp32: Op, int8: Op | None = None) -> Variant:
    """The compiled variant to run on `prep`: the dispatch choice of the op for its precision,
    or the one named `variant`."""
    return (fp32 if prep.int8 is None else int8).resolve(variant)


__all__ = ["INT8_LOGIT_MAX", "MAX_INT8_DIM", "PRECISIONS", "check", "check_query", "kernel",
           "prepare", "reject_quantized"]
