"""The int8-weight linear layer, ``y = x Wᵀ + b`` with int8 operands, step by step.

The C kernels (csrc/gemm/) produce exactly these numbers: the same float32
quantisation, the same integer sums, the same float32 epilogue.

- weights: symmetric int8 per output channel n, ``s_w[n] = max_k |W[n, k]| / 127``
  (1 for an all-zero row), ``Wq = clip(rint(W / s_w), -127, 127)`` (float32 division,
  round half to even), done once;
- activations: the same per row m of x, at every call (dynamic);
- ``acc[m, n] = Σ_k xq[m, k] Wq[n, k]`` exactly (int32 in the kernels);
- ``y[m, n] = float32(acc) · (s_x[m] · s_w[n]) + b[n]`` in float32.

Error: each quantised operand carries at most half a step, ``s/2``, so a product
term is off by about ``(|x| s_w + |w| s_x) / 2``; over k terms with random signs the
output error grows like ``sqrt(k)`` times that, about 0.5-1 % of the output's scale
for unit-variance data (measured in tests/test_gemm_i8.py).
"""

from __future__ import annotations

import numpy as np

QMAX = 127


def quantize_rows(x) -> tuple:
    """Symmetric int8 per row: ``(q int8 (m, k), scale float32 (m,))``."""
    x = np.asarray(x, dtype=np.float32)
    amax = np.max(np.abs(x), axis=1)
    scale = np.where(amax == 0, np.float32(1.0), amax / np.float32(QMAX)).astype(np.float32)
    q = np.clip(np.rint(x / scale[:, None]), -QMAX, QMAX).astype(np.int8)
    return q, scale


def gemm(xq, x_scale, wq, w_scale, bias=None) -> np.ndarray:
    """``float32(xq · wqᵀ) · (x_scale[m] · w_scale[n]) + bias[n]``, the sum exact."""
    acc = np.asarray(xq, dtype=np.int64) @ np.asarray(wq, dtype=np.int64).T
    out = acc.astype(np.float32) * (np.asarray(x_scale, np.float32)[:, None]
                                    * np.asarray(w_scale, np.float32)[None, :])
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float32)
    return out


def linear(x, w, bias=None) -> np.ndarray:
    """The whole layer on float x (m, k) and float weights w (n, k)."""
    wq, ws = quantize_rows(w)
    xq, xs = quantize_rows(x)
    return gemm(xq, xs, wq, ws, bias)
