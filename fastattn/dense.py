"""Dense scaled dot-product attention."""

from __future__ import annotations

import numpy as np

from fastattn import _core, decode
from fastattn._dispatch import DENSE_F32, resolve_threads
from fastattn._inputs import prepare, prepare_mask
from fastattn.int8 import QuantizedTensor, attention_int8

PRECISIONS = ("fp32", "int8")


def causal_band(lq: int, lk: int, align: str) -> int:
    """The largest visible j - i for a causal mask: query i sees keys j <= i + band."""
    if align == "bottom-right":
        return lk - lq
    if align == "top-left":
        return 0
    raise ValueError(f"causal alignment must be 'bottom-right' or 'top-left', got {align!r}")


def _run_dense(q, k, v, mask, causal_hi, scale, num_threads, variant, gqa, mask_name,
               precision="fp32"):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "int8":
        return attention_int8(q, k, v, mask, causal_hi, scale, num_threads, variant, gqa,
                              mask_name)
    for name, x in (("key", k), ("value", v)):
        if isinstance(x, QuantizedTensor):
            raise TypeError(f"{name} is a QuantizedTensor: pass precision='int8'")
    prep = prepare(q, k, v, scale=scale, gqa=gqa)
    m4 = prepare_mask(mask, prep, mask_name)
    threads = resolve_threads(num_threads)
    band_hi = _core.BAND_NONE if causal_hi is None else causal_hi(prep.lq, prep.lk)
    if decode.prefers_decode(prep.lq):
        return decode.attention_f32(prep, m4, band_hi, threads, variant)
    kernel = DENSE_F32.resolve(variant)
    out, out4 = prep.new_output()
    _core.dense_f32(prep.q, prep.k, prep.v, out4, m4, prep.scale, -_core.BAND_NONE, band_hi,
                    kernel.index, threads)
    return prep.finish(out)


def attention(
    q,
    k,
    v,
    mask=None,
    causal: bool = False,
    scale: float | None = None,
    num_threads: int | None = None,
    variant: str | None = None,
    precision: str = "fp32",
) -> np.ndarray:
    """Scaled dot-product attention, ``softmax(q kᵀ · scale + mask) v``, on NumPy arrays.

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        ``q (..., Lq, D)``, ``k (..., Lk, D)``, ``v (..., Lk, Dv)``. Leading dims
        broadcast. Grouped-query attention: when axis -3 of ``q`` (heads) is a
        multiple of that of ``k``/``v``, query head ``h`` uses key/value head
        ``h // (Hq // Hkv)``. Computation is float32; the result has the inputs'
        (promoted) dtype.
    mask : array_like, optional
        Boolean (True = attend) or additive float mask broadcastable to
        ``(..., Hq, Lq, Lk)``.
    causal : bool
        Query ``i`` sees keys ``j <= i + (Lk - Lq)``: bottom-right alignment, the
        convention of decoding with a key/value cache (the last query sees every
        key). It equals PyTorch's ``is_causal`` when ``Lq == Lk``. May be combined
        with ``mask``.
    scale : float, optional
        Multiplies ``q kᵀ``; default ``1 / sqrt(D)``.
    num_threads : int, optional
        Threads for this call; default ``FASTATTN_NUM_THREADS`` or all CPUs.
    variant : str, optional
        Force a compiled kernel by name (e.g. ``"f32-scalar"``, ``"i8-avx2"``); see
        ``fastattn.info()``.
    precision : {"fp32", "int8"}
        ``"int8"``: keys smoothed and quantised per block of tokens, queries per block,
        values per channel, ``q kᵀ`` in int32, a lookup-table softmax and ``P v`` in
        int32 (see ``fastattn.reference.int8``): about 1 % relative error, 4x smaller
        key/value storage. ``k`` and ``v`` may then be float arrays (quantised inside)
        or `fastattn.quantize` results, reusable across calls.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)`` (or ``(Lq, Dv)`` for 2-d inputs). A query row that sees
        no key at all (fully masked) is all zeros, where PyTorch gives NaN.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q = rng.standard_normal((2, 8, 128, 64), dtype=np.float32)
    >>> k = rng.standard_normal((2, 2, 256, 64), dtype=np.float32)  # 4 query heads per kv head
    >>> v = rng.standard_normal((2, 2, 256, 64), dtype=np.float32)
    >>> fastattn.attention(q, k, v, causal=True).shape
    (2, 8, 128, 64)
    >>> fastattn.attention(q, k, v, causal=True, precision="int8").shape
    (2, 8, 128, 64)
    """
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    band = (lambda lq, lk: causal_band(lq, lk, "bottom-right")) if causal else None
    return _run_dense(q, k, v, mask, band, scale, num_threads, variant, True, "mask", precision)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    num_threads: int | None = None,
) -> np.ndarray:
    """PyTorch's ``torch.nn.functional.scaled_dot_product_attention`` on NumPy arrays.

    Same argument names and semantics: ``attn_mask`` boolean (True = take part) or
    additive float; ``is_causal`` aligned top-left like PyTorch (query ``i`` sees
    keys ``j <= i``) and not combinable with ``attn_mask``; ``enable_gqa`` allows
    fewer key/value heads than query heads. Differences: ``dropout_p`` must be 0
    (inference only) and a fully masked query row gives zeros instead of NaN.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.ones((1, 4, 16, 32), dtype=np.float32)
    >>> fastattn.scaled_dot_product_attention(x, x, x, is_causal=True).shape
    (1, 4, 16, 32)
    """
    if dropout_p != 0.0:
        raise ValueError(f"dropout_p must be 0 (fastattn is inference-only), got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError("attn_mask must be None when is_causal=True (as in PyTorch)")
    band = (lambda lq, lk: causal_band(lq, lk, "top-left")) if is_causal else None
    return _run_dense(query, key, value, attn_mask, band, scale, num_threads, None,
                      bool(enable_gqa), "attn_mask")
