"""int8 keys and values: `QuantizedTensor` and `quantize`, reusable across calls.

The scheme (defined by ``fastattn.reference.int8``): keys smoothed by their mean over
tokens and quantised symmetric int8 per block of tokens, values int8 per channel. When an
attention call accepts a QuantizedTensor is decided in `fastattn._precision`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _validate
from fastattn._inputs import as_float_array

QMAX = 127
DEFAULT_BLOCK = 64
KINDS = ("key", "value")


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

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> data = np.array([[127, -64], [0, 127]], dtype=np.int8)        # 2 tokens, D = 2
    >>> keys = fastattn.QuantizedTensor(data, np.array([0.5], np.float32), "key", block=2)
    >>> keys.dequantize()
    array([[ 63.5, -32. ],
           [  0. ,  63.5]], dtype=float32)
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
        if self.kind not in KINDS:
            raise ValueError(f"QuantizedTensor.kind must be one of {KINDS}, got {self.kind!r}")
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


def quantize(x: ArrayLike, *, kind: str = "key", block: int = DEFAULT_BLOCK,
             smooth: bool = True) -> QuantizedTensor:
    """Quantise keys or values to int8 for the ``precision="int8"`` paths.

    Parameters
    ----------
    x : array_like, float16, float32 or float64
        Keys or values, shape ``(..., L, D)``; must be finite.
    kind : {"key", "value"}
        ``"key"``: the mean over tokens (axis -2) is subtracted when `smooth` (softmax is
        unchanged by it; it removes outlier channels shared by all keys), then one scale per
        block of `block` tokens. ``"value"``: one scale per channel.
    block : int
        Tokens per scale block (keys only).
    smooth : bool
        Subtract the keys' mean before quantising (keys only).

    Returns
    -------
    QuantizedTensor

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
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    a = as_float_array(x, kind).astype(np.float32, copy=False)
    if a.shape[-2] == 0 or a.shape[-1] == 0:
        raise ValueError(f"{kind} has an empty sequence or feature dim: shape {a.shape}")
    if kind == "key":
        block = _validate.positive_int(block, "block")
    smooth = _validate.boolean(smooth, "smooth")
    lead, (length, d) = a.shape[:-2], a.shape[-2:]
    x = np.ascontiguousarray(a).reshape((-1, length, d))
    data = np.empty(x.shape, dtype=np.int8)
    if kind == "value":
        scale = np.empty((x.shape[0], d), dtype=np.float32)
        mean = None
    else:
        scale = np.empty((x.shape[0], -(-length // block)), dtype=np.float32)
        mean = np.empty((x.shape[0], d), dtype=np.float32) if smooth else None
    try:
        if x.size:
            _core.i8_quantize(x, kind, block if kind == "key" else 1, smooth, data,
                              scale, mean)
    except ValueError:
        raise ValueError(f"{kind} must be finite to be quantised") from None
    data = data.reshape(a.shape)
    if kind == "value":
        return QuantizedTensor(data, scale.reshape(lead + (d,)), "value")
    scale = scale.reshape(lead + scale.shape[-1:])
    mean = None if mean is None else mean.reshape(lead + (1, d))
    return QuantizedTensor(data, scale, "key", block, mean)


__all__ = ["DEFAULT_BLOCK", "KINDS", "QuantizedTensor", "quantize"]
