"""How far int8 attention is from float32 attention on the caller's data."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn.dense import attention
from fastattn.quantized import QuantizedTensor, quantize


def int8_error_report(q: ArrayLike, k: ArrayLike, v: ArrayLike, *, mask: ArrayLike | None = None,
                      causal: bool = False, scale: float | None = None) -> dict:
    """How far int8 attention is from float32 attention on your data.

    Runs `fastattn.attention` on float32 and on int8 (keys and values quantised with
    `fastattn.quantize`) with the same `mask`, `causal` and `scale`, and compares.

    Returns
    -------
    dict
        ``relative_error`` (mean over output rows of ``‖o8 - o32‖ / ‖o32‖``), ``cosine``
        (mean per-row cosine similarity), ``min_cosine``, ``max_abs`` (largest absolute
        difference) and ``kv_bytes_int8`` / ``kv_bytes_fp32`` (storage of k and v).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((4, 256, 64), dtype=np.float32) for _ in range(3))
    >>> report = fastattn.int8_error_report(q, k, v, causal=True)
    >>> report["cosine"] > 0.999
    True
    """
    for name, x in (("key", k), ("value", v)):
        if isinstance(x, QuantizedTensor):
            raise TypeError(f"{name} must be a float array: int8_error_report quantises it "
                            f"itself (pass {name}.dequantize() to compare a QuantizedTensor)")
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
