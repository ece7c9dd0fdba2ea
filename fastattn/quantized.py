"""int8 keys and values: `QuantizedTensor` and `quantize`, reusable across calls.

The scheme (defined by ``fastattn.reference.int8``): keys smoothed by their mean over
tokens and quantised symmetric int8 per block of tokens, values int8 per channel. When an
attention call accepts a QuantizedTensor is decided in `fastattn._precision`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _validate
from fastattn._dispatch import QUANT_I8
from fastattn._inputs import as_float_array

QMAX = 127
DEFAULT_BLOCK = 64
KINDS = ("key", "value")


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only array that owns its data: `a` itself when it already is one (made here),
    else a copy, so that no view the caller kept can change it."""
    if a.flags.owndata and not a.flags.writeable:
        return a
    a = np.array(a, order="C")
    a.flags.writeable = False
    return a


def _check_scale(scale: np.ndarray) -> None:
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError("QuantizedTensor.scale must be finite and positive")


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
    quantize the whole cache again. A QuantizedTensor is immutable: it keeps read-only
    copies of its arrays (what was validated is what the kernels read) and hands out
    read-only views.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> data = np.array([[127, -64], [0, 127]], dtype=np.int8)        # 2 tokens, D = 2
    >>> keys = fastattn.QuantizedTensor(data, np.array([0.5], np.float32), "key", block=2)
    >>> keys.dequantize()
    array([[ 63.5, -32. ],
           [  0. ,  63.5]], dtype=float32)
    """

    __slots__ = ("_data", "_scale", "_mean", "kind", "block")

    def __init__(self, data: np.ndarray, scale: np.ndarray, kind: str, *,
                 block: int | None = None, mean: np.ndarray | None = None) -> None:
        if not isinstance(data, np.ndarray) or data.dtype != np.int8 or data.ndim < 2:
            raise TypeError("QuantizedTensor.data must be an int8 array of shape (..., L, D), "
                            f"got {getattr(data, 'dtype', type(data))} {np.shape(data)}")
        if kind not in KINDS:
            raise ValueError(f"QuantizedTensor.kind must be one of {KINDS}, got {kind!r}")
        if not isinstance(scale, np.ndarray) or scale.dtype != np.float32:
            raise TypeError(f"QuantizedTensor.scale must be a float32 array, got "
                            f"{getattr(scale, 'dtype', type(scale))}")
        if kind == "key":
            block = _validate.positive_int(block, "QuantizedTensor.block")
            want = data.shape[:-2] + (-(-data.shape[-2] // block),)
        else:
            want = data.shape[:-2] + (data.shape[-1],)
        if scale.shape != want:
            raise ValueError(f"QuantizedTensor.scale has shape {scale.shape}; {kind} data "
                             f"{data.shape} needs {want}")
        # Private read-only copies: what is checked here is what every kernel call reads.
        data, scale = _frozen(data), _frozen(scale)
        _check_scale(scale)
        if np.any(data == -128):
            raise ValueError("QuantizedTensor.data must lie in [-127, 127] (symmetric int8)")
        if mean is not None:
            if np.shape(mean) != data.shape[:-2] + (1, data.shape[-1]):
                raise ValueError(f"QuantizedTensor.mean has shape {np.shape(mean)}; data "
                                 f"{data.shape} needs {data.shape[:-2] + (1, data.shape[-1])}")
            mean = _frozen(np.asarray(mean, dtype=np.float32))
        self._fill(data, scale, mean, kind, block)

    def _fill(self, data, scale, mean, kind: str, block) -> None:
        for name, value in (("_data", data), ("_scale", scale), ("_mean", mean), ("kind", kind),
                            ("block", block if kind == "key" else None)):
            object.__setattr__(self, name, value)

    @classmethod
    def _from_quantizer(cls, data, scale, kind: str, block=None, mean=None) -> QuantizedTensor:
        """quantize()'s own output: fresh frozen arrays whose codes lie in [-127, 127] by
        construction, so the codes are not checked again (that check alone cost about a
        quarter of quantising small heads); the few scales are."""
        _check_scale(scale)
        self = object.__new__(cls)
        self._fill(data, scale, mean, kind, block)
        return self

    def __setattr__(self, name, value) -> None:
        raise AttributeError(f"QuantizedTensor is immutable: cannot set {name!r} (quantize "
                             "again, or build a new one)")

    __delattr__ = __setattr__

    @property
    def data(self) -> np.ndarray:
        """int8 in [-127, 127], shape ``(..., L, D)`` (a read-only view)."""
        return self._data.view()

    @property
    def scale(self) -> np.ndarray:
        """float32 scales (a read-only view)."""
        return self._scale.view()

    @property
    def mean(self) -> np.ndarray | None:
        """The float32 mean subtracted from keys before quantising, or None (read-only)."""
        return None if self._mean is None else self._mean.view()

    def __repr__(self) -> str:
        block = f", block={self.block}" if self.kind == "key" else ""
        return (f"QuantizedTensor(kind={self.kind!r}, shape={self._data.shape}{block}, "
                f"smoothed={self._mean is not None})")

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
             smooth: bool = True, variant: str | None = None,
             num_threads: int | None = None) -> QuantizedTensor:
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
    variant : str, optional
        The quantiser kernel (``"i8-avx2"``, ``"i8-scalar"``, ...; see ``fastattn.info()``):
        by default the best one this CPU runs under ``FASTATTN_ISA``. Every variant gives
        the same bytes.
    num_threads : int, optional
        Threads (a matrix of the leading dims each, or parts of one when there are fewer
        matrices than threads); by default
        ``FASTATTN_NUM_THREADS``, else every CPU this process may use. The bytes do not depend
        on it.

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
    index = QUANT_I8.resolve(variant).index
    threads = _validate.num_threads(num_threads)
    lead, (length, d) = a.shape[:-2], a.shape[-2:]
    x = np.require(a, np.float32, ["C", "A"]).reshape((-1, length, d))
    # Allocated in their final shapes (the kernel writes through 3-d and 2-d views), then
    # frozen: the QuantizedTensor takes them without a copy.
    data = np.empty(a.shape, dtype=np.int8)
    nscales = d if kind == "value" else -(-length // block)
    scale = np.empty(lead + (nscales,), dtype=np.float32)
    mean = np.empty(lead + (1, d), dtype=np.float32) if kind == "key" and smooth else None
    try:
        if x.size:
            _core.i8_quantize(x, kind, block if kind == "key" else 1, smooth,
                              data.reshape(x.shape), scale.reshape(-1, nscales),
                              None if mean is None else mean.reshape(-1, d), index, threads)
    except ValueError:
        if smooth and kind == "key" and np.isfinite(x).all():
            raise ValueError("key: subtracting the mean over tokens overflows float32 (values "
                             "near ±3.4e38); pass smooth=False or scale the keys down") from None
        raise ValueError(f"{kind} must be finite to be quantised") from None
    for part in (data, scale, mean):
        if part is not None:
            part.flags.writeable = False
    if kind == "value":
        return QuantizedTensor._from_quantizer(data, scale, "value")
    return QuantizedTensor._from_quantizer(data, scale, "key", block=block, mean=mean)


__all__ = ["DEFAULT_BLOCK", "KINDS", "QuantizedTensor", "quantize"]
