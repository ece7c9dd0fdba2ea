"""int8 attention: quantised tensors, the int8 path of `fastattn.attention`, error reports.

The scheme (defined by ``fastattn.reference.int8``): keys smoothed by their mean
over tokens, queries and keys symmetric int8 per block of tokens, values int8 per
channel, ``q·k`` exactly in int32, the softmax through a lookup table with
probabilities in 0..255, ``P·v`` in int32 per key tile, float32 output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fastattn import _core
from fastattn._dispatch import DENSE_I8, resolve_threads
from fastattn._inputs import (
    Prepared,
    _float32_rows,
    as_float_array,
    check_shapes,
    prepare_mask,
    resolve_scale,
)

QMAX = 127
DEFAULT_BLOCK = 64
_KINDS = ("key", "value")


@dataclass(frozen=True)
class QuantizedTensor:
    """Keys or values quantised to int8, reusable across calls (e.g. a key/value cache).

    Attributes
    ----------
    data : numpy.ndarray
        int8 in [-127, 127], shape ``(..., L, D)``.
    scale : numpy.ndarray
        float32. Keys: one scale per block of `block` tokens, shape ``(..., ceil(L/block))``.
        Values: one scale per channel, shape ``(..., D)``.
    kind : str
        ``"key"`` or ``"value"``.
    block : int or None
        Tokens per scale block (keys); None for values.
    mean : numpy.ndarray or None
        Keys: the float32 mean over tokens ``(..., 1, D)`` subtracted before quantising
        (smoothing; attention does not depend on it, `dequantize` adds it back).

    Build them with `quantize`. Appending tokens changes the mean and the scales:
    quantize the whole cache again.
    """

    data: np.ndarray
    scale: np.ndarray
    kind: str
    block: int | None = None
    mean: np.ndarray | None = None

    def __post_init__(self) -> None:
        data, scale = self.data, self.scale
        if not isinstance(data, np.ndarray) or data.dtype != np.int8 or data.ndim < 2:
            raise TypeError("QuantizedTensor.data must be an int8 array of shape (..., L, D), "
                            f"got {getattr(data, 'dtype', type(data))} {np.shape(data)}")
        if self.kind not in _KINDS:
            raise ValueError(f"QuantizedTensor.kind must be one of {_KINDS}, got {self.kind!r}")
        if not isinstance(scale, np.ndarray) or scale.dtype != np.float32:
            raise TypeError(f"QuantizedTensor.scale must be a float32 array, got "
                            f"{getattr(scale, 'dtype', type(scale))}")
        if self.kind == "key":
            if not isinstance(self.block, (int, np.integer)) or self.block < 1:
                raise ValueError(f"QuantizedTensor.block must be a positive int for keys, "
                                 f"got {self.block!r}")
            want = data.shape[:-2] + (-(-data.shape[-2] // self.block),)
        else:
            want = data.shape[:-2] + (data.shape[-1],)
        if scale.shape != want:
            raise ValueError(f"QuantizedTensor.scale has shape {scale.shape}; {self.kind} data "
                             f"{data.shape} needs {want}")
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError("QuantizedTensor.scale must be finite and positive")
        if np.any(data == -128):
            raise ValueError("QuantizedTensor.data must lie in [-127, 127] (symmetric int8)")
        if self.mean is not None and np.shape(self.mean) != data.shape[:-2] + (1, data.shape[-1]):
            raise ValueError(f"QuantizedTensor.mean has shape {np.shape(self.mean)}; data "
                             f"{data.shape} needs {data.shape[:-2] + (1, data.shape[-1])}")

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def nbytes(self) -> int:
        """Bytes of data, scales and mean."""
        mean = 0 if self.mean is None else self.mean.nbytes
        return self.data.nbytes + self.scale.nbytes + mean

    def dequantize(self) -> np.ndarray:
        """float32 approximation of the tensor that was quantised."""
        x = self.data.astype(np.float32)
        if self.kind == "key":
            per_token = np.repeat(self.scale, self.block, axis=-1)[..., : x.shape[-2], None]
            x = x * per_token
            return x + self.mean if self.mean is not None else x
        return x * self.scale[..., None, :]


def quantize(x, block: int = DEFAULT_BLOCK, kind: str = "key", smooth: bool = True
             ) -> QuantizedTensor:
    """Quantise keys (``kind="key"``) or values (``kind="value"``) to int8 for
    ``attention(..., precision="int8")``.

    Keys: the mean over tokens (axis -2) is subtracted when `smooth` (softmax is
    unchanged by it; it removes outlier channels shared by all keys), then one scale
    per block of `block` tokens. Values: one scale per channel.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> k = rng.standard_normal((8, 256, 64), dtype=np.float32)
    >>> v = rng.standard_normal((8, 256, 64), dtype=np.float32)
    >>> qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
    >>> qk.data.dtype, qk.scale.shape, qv.scale.shape
    (dtype('int8'), (8, 4), (8, 64))
    >>> q = rng.standard_normal((8, 16, 64), dtype=np.float32)
    >>> fastattn.attention(q, qk, qv, precision="int8").shape
    (8, 16, 64)
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    name = "key" if kind == "key" else "value"
    a = as_float_array(x, name).astype(np.float32, copy=False)
    if a.shape[-2] == 0 or a.shape[-1] == 0:
        raise ValueError(f"{name} has an empty sequence or feature dim: shape {a.shape}")
    if kind == "key" and (isinstance(block, bool) or not isinstance(block, (int, np.integer))
                          or block < 1):
        raise ValueError(f"block must be a positive int, got {block!r}")
    lead, (length, d) = a.shape[:-2], a.shape[-2:]
    x = np.ascontiguousarray(a).reshape((-1, length, d))
    data = np.empty(x.shape, dtype=np.int8)
    if kind == "value":
        scale = np.empty((x.shape[0], d), dtype=np.float32)
        mean = None
    else:
        scale = np.empty((x.shape[0], -(-length // int(block))), dtype=np.float32)
        mean = np.empty((x.shape[0], d), dtype=np.float32) if smooth else None
    try:
        if x.size:
            _core.i8_quantize(x, kind, int(block) if kind == "key" else 1, bool(smooth), data,
                              scale, mean)
    except ValueError:
        raise ValueError(f"{name} must be finite to be quantised") from None
    data = data.reshape(a.shape)
    if kind == "value":
        return QuantizedTensor(data, scale.reshape(lead + (d,)), "value")
    scale = scale.reshape(lead + scale.shape[-1:])
    mean = None if mean is None else mean.reshape(lead + (1, d))
    return QuantizedTensor(data, scale, "key", int(block), mean)


def _to_4d(a: np.ndarray, batch: tuple, heads: int, tail: int) -> np.ndarray:
    """(..., H', *tail dims) broadcast to batch + (heads, ...) and folded to 4-d/3-d."""
    a = a.reshape((1,) * (tail + 1 - a.ndim) + a.shape) if a.ndim < tail + 1 else a
    full = np.broadcast_to(a, batch + (heads,) + a.shape[-tail:])
    return full.reshape((math.prod(batch), heads) + a.shape[-tail:])


def prepare_int8(q, k, v, scale, gqa: bool) -> tuple:
    """Validates int8 attention inputs (k and v float arrays, quantised here, or
    `QuantizedTensor`s) and returns ``(prep, k_scale, v_scale, block)``: `prep` holds the 4-d
    float32 q and the 4-d int8 k and v data, the 3-d scales broadcast alike, `block` the key
    quantisation block (also used for q)."""
    q = as_float_array(q, "query")
    floats = [np.asarray(x).dtype for x in (k, v) if not isinstance(x, QuantizedTensor)]
    dtype = np.result_type(q.dtype, *floats)
    if not isinstance(k, QuantizedTensor):
        k = quantize(k, kind="key")
    elif k.kind != "key":
        raise ValueError("key is a QuantizedTensor of kind 'value': quantize keys with "
                         "fastattn.quantize(k) (kind='key')")
    if not isinstance(v, QuantizedTensor):
        v = quantize(v, kind="value")
    elif v.kind != "value":
        raise ValueError("value is a QuantizedTensor of kind 'key': quantize values with "
                         "fastattn.quantize(v, kind='value')")
    kd, vd = k.data, v.data
    batch, hq, hkv = check_shapes(q.shape, kd.shape, vd.shape, gqa)
    d = q.shape[-1]
    if d >= 1 << 16:
        raise ValueError(f"precision='int8' needs D < 65536 (so that D·127² fits int32), "
                         f"got query {q.shape}")
    scale = resolve_scale(scale, d)

    q4 = _to_4d(_float32_rows(q), batch, hq, 2)
    if not (np.isfinite(q4.max()) and np.isfinite(q4.min())):
        raise ValueError("query must be finite for precision='int8'")
    kd = kd if kd.strides[-1] == 1 else np.ascontiguousarray(kd)
    vd = vd if vd.strides[-1] == 1 else np.ascontiguousarray(vd)
    ki = _to_4d(kd, batch, hkv, 2)
    ks = _to_4d(k.scale, batch, hkv, 1)
    vi = _to_4d(vd, batch, hkv, 2)
    vs = _to_4d(v.scale, batch, hkv, 1)

    out_shape = (batch + (hq,) if max(q.ndim, kd.ndim, vd.ndim) >= 3 else ())
    out_shape = out_shape + (q.shape[-2], vd.shape[-1])
    return Prepared(q4, ki, vi, out_shape, dtype, batch, scale), ks, vs, k.block


def attention_int8(q, k, v, mask, band_hi, scale, num_threads, variant, gqa, mask_name):
    """The int8 path of `fastattn.attention`; `band_hi(lq, lk)` or None for no causal band."""
    prep, ks, vs, block = prepare_int8(q, k, v, scale, gqa)
    m4 = prepare_mask(mask, prep, mask_name)
    threads = resolve_threads(num_threads)
    kernel = DENSE_I8.resolve(variant)
    hi = _core.BAND_NONE if band_hi is None else band_hi(prep.lq, prep.lk)
    out, out4 = prep.new_output()
    _core.dense_i8(prep.q, block, prep.k, ks, block, prep.v, vs, out4, m4, prep.scale,
                   -_core.BAND_NONE, hi, kernel.index, threads)
    return prep.finish(out)


def int8_error_report(q, k, v, mask=None, causal: bool = False, scale=None) -> dict:
    """How far int8 attention is from float32 attention on your data.

    Returns a dict: ``relative_error`` (mean over output rows of
    ``‖o8 - o32‖ / ‖o32‖``), ``cosine`` (mean per-row cosine similarity),
    ``min_cosine``, ``max_abs`` (largest absolute difference) and ``kv_bytes_int8`` /
    ``kv_bytes_fp32`` (storage of k and v).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((4, 256, 64), dtype=np.float32) for _ in range(3))
    >>> report = fastattn.int8_error_report(q, k, v, causal=True)
    >>> report["cosine"] > 0.999
    True
    """
    from fastattn.dense import attention

    ref = attention(q, k, v, mask=mask, causal=causal, scale=scale).astype(np.float64)
    qk, qv = quantize(k, kind="key"), quantize(v, kind="value")
    out = attention(q, qk, qv, mask=mask, causal=causal, scale=scale,
                    precision="int8").astype(np.float64)
    diff = np.linalg.norm(out - ref, axis=-1)
    norm = np.linalg.norm(ref, axis=-1)
    rows = norm > 0
    dot = np.sum(out * ref, axis=-1)
    cos = dot[rows] / np.maximum(norm[rows] * np.linalg.norm(out, axis=-1)[rows], 1e-300)
    return {
        "relative_error": float(np.mean(diff[rows] / norm[rows])) if rows.any() else 0.0,
        "cosine": float(np.mean(cos)) if rows.any() else 1.0,
        "min_cosine": float(np.min(cos)) if rows.any() else 1.0,
        "max_abs": float(np.max(np.abs(out - ref))),
        "kv_bytes_int8": qk.nbytes + qv.nbytes,
        "kv_bytes_fp32": 4 * (np.size(k) + np.size(v)),
    }


__all__ = [
    "DEFAULT_BLOCK",
    "QuantizedTensor",
    "attention_int8",
    "int8_error_report",
    "prepare_int8",
    "quantize",
]
