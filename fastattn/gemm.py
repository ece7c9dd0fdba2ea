"""Linear layers ``y = x Wᵀ + b`` for the blocks: float32 through NumPy's BLAS, or int8
weights through fastattn's own C kernel (``csrc/gemm/``, dispatched like every kernel).

int8 scheme (defined by ``fastattn.reference.gemm_int8``): weights symmetric int8 per
output channel (quantised once), activations symmetric int8 per row at every call
(dynamic), the products summed exactly in int32, then
``y = float(acc) · (s_x[m] · s_w[n]) + b[n]`` in float32.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _validate
from fastattn._dispatch import GEMM_I8

WEIGHTS = ("fp32", "int8")
_FLOATS = (np.float16, np.float32, np.float64)


def check_weight(w, name: str = "weight", shape: tuple | None = None) -> np.ndarray:
    """A finite 2-d float weight in the (out_features, in_features) layout, as float32."""
    a = np.asarray(w)
    if a.dtype.type not in _FLOATS:
        raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-d (out_features, in_features), got shape {a.shape}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return np.array(a, dtype=np.float32)


def check_bias(b, name: str, n: int) -> np.ndarray:
    if b is None:
        return np.zeros(n, dtype=np.float32)
    a = np.asarray(b)
    if a.dtype.type not in _FLOATS:
        raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return np.array(a, dtype=np.float32)


def _rows(x, k: int) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.type not in _FLOATS:
        raise TypeError(f"x must be a float array, got dtype {a.dtype}")
    if a.ndim < 1 or a.shape[-1] != k:
        raise ValueError(f"x must have last dim in_features={k}, got shape {a.shape}")
    a = a.reshape(-1, k).astype(np.float32, copy=False)
    return a if a.strides[-1] == 4 or k == 1 else np.ascontiguousarray(a)


class Float32Linear:
    """``y = x Wᵀ + b`` in float32 through NumPy's BLAS (W stored transposed, contiguous)."""

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None) -> None:
        w = check_weight(weight)
        self.out_features, self.in_features = w.shape
        self.weight_t = np.ascontiguousarray(w.T)
        self.bias = check_bias(bias, "bias", w.shape[0])

    @property
    def nbytes(self) -> int:
        return self.weight_t.nbytes + self.bias.nbytes

    def __call__(self, x, *, num_threads: int | None = None) -> np.ndarray:
        x2 = _rows(x, self.in_features)
        y = x2 @ self.weight_t
        y += self.bias
        return y.reshape(np.shape(x)[:-1] + (self.out_features,))


class Int8Linear:
    """``y = x Wᵀ + b`` with int8 weights (per output channel) and dynamic int8 activations
    (per row), in fastattn's C kernel: about 4x less weight memory than float32.

    Attributes
    ----------
    weight_int8 : numpy.ndarray
        ``(out_features, in_features)`` int8 in [-127, 127].
    weight_scale : numpy.ndarray
        ``(out_features,)`` float32: ``W ≈ weight_int8 · weight_scale[:, None]``.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> w = rng.standard_normal((256, 384), dtype=np.float32)
    >>> layer = fastattn.Int8Linear(w)
    >>> x = rng.standard_normal((10, 384), dtype=np.float32)
    >>> y = layer(x)
    >>> y.shape, bool(np.linalg.norm(y - x @ w.T) / np.linalg.norm(x @ w.T) < 0.02)
    ((10, 256), True)
    """

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None) -> None:
        w = check_weight(weight)
        n, k = w.shape
        if k > _core.GEMM_I8_KMAX:
            raise ValueError(f"weight has in_features={k}; int8 weights need at most "
                             f"{_core.GEMM_I8_KMAX} (so that the int32 sums cannot overflow)")
        self.out_features, self.in_features = n, k
        amax = np.max(np.abs(w), axis=1)
        self.weight_scale = np.where(amax == 0, np.float32(1), amax / np.float32(127)
                                     ).astype(np.float32)
        self.weight_int8 = np.clip(np.rint(w / self.weight_scale[:, None]), -127, 127
                                   ).astype(np.int8)
        nr, align = _core.GEMM_I8_NR, _core.GEMM_I8_KALIGN
        self.kp = -(-k // align) * align
        npad = -(-n // nr) * nr
        padded = np.zeros((npad, self.kp), dtype=np.int8)
        padded[:n, :k] = self.weight_int8
        # panels of NR channels x groups of 4 inputs: (panel, group, channel, input)
        self.packed = np.ascontiguousarray(
            padded.reshape(npad // nr, nr, self.kp // 4, 4).transpose(0, 2, 1, 3))
        self.bias = check_bias(bias, "bias", n)
        self._scale_padded = np.ones(npad, dtype=np.float32)
        self._scale_padded[:n] = self.weight_scale
        self._bias_padded = np.zeros(npad, dtype=np.float32)
        self._bias_padded[:n] = self.bias

    @property
    def nbytes(self) -> int:
        """Bytes the kernel reads per call for the weights: packed int8, scales, bias."""
        return self.packed.nbytes + self._scale_padded.nbytes + self._bias_padded.nbytes

    def dequantize(self) -> np.ndarray:
        """The float32 weight the int8 one stands for."""
        return self.weight_int8.astype(np.float32) * self.weight_scale[:, None]

    def __call__(self, x, *, num_threads: int | None = None,
                 variant: str | None = None) -> np.ndarray:
        """``y (..., out_features)`` float32 for ``x (..., in_features)``; ``variant`` forces a
        compiled kernel (``fastattn.info()["ops"]["gemm-i8"]``)."""
        x2 = _rows(x, self.in_features)
        kernel = GEMM_I8.resolve(variant)
        threads = _validate.num_threads(num_threads)
        m = x2.shape[0]
        out = np.empty((m, self.out_features), dtype=np.float32)
        if m:
            xq = np.empty((m, self.kp), dtype=np.int8)
            try:
                _core.gemm_i8(x2, xq, np.empty(m, np.float32), np.empty(m, np.int32),
                              self.packed, self._scale_padded, self._bias_padded, out,
                              self.out_features, self.in_features, kernel.index, threads)
            except ValueError:
                if not np.all(np.isfinite(x2)):
                    raise ValueError("x must be finite for int8 weights") from None
                raise
        return out.reshape(np.shape(x)[:-1] + (self.out_features,))


def linear_layer(weight, bias=None, weights: str = "fp32"):
    """A `Float32Linear` (``weights="fp32"``) or an `Int8Linear` (``"int8"``)."""
    if weights == "fp32":
        return Float32Linear(weight, bias)
    if weights == "int8":
        return Int8Linear(weight, bias)
    raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")


__all__ = ["WEIGHTS", "Float32Linear", "Int8Linear", "check_bias", "check_weight",
           "linear_layer"]
