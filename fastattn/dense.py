"""Dense scaled dot-product attention, float32 or int8."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _precision, _validate, decode
from fastattn._dispatch import DENSE_F32, DENSE_I8
from fastattn._inputs import prepare_mask
from fastattn.quantized import QuantizedTensor
from fastattn.tuning import Plan


def causal_band(lq: int, lk: int, align: str) -> int:
    """The largest visible j - i for a causal mask: query i sees keys j <= i + band."""
    if align == "bottom-right":
        return lk - lq
    if align == "top-left":
        return 0
    raise ValueError(f"causal alignment must be 'bottom-right' or 'top-left', got {align!r}")


def _run_dense(q, k, v, *, mask, causal_align, scale, precision, variant, num_threads, gqa,
               mask_name):
    """One dense call: `causal_align` is None (no causal band) or a `causal_band` alignment."""
    prep = _precision.prepare(q, k, v, precision=precision, scale=scale, gqa=gqa,
                              num_threads=num_threads, defer_query_check=True)
    m4 = prepare_mask(mask, prep, mask_name)
    threads = _validate.num_threads(num_threads)
    hi = _core.BAND_NONE if causal_align is None else causal_band(prep.lq, prep.lk, causal_align)
    # Short query blocks go to the decode kernels, unless the caller named a dense kernel that
    # decode has no twin of (an ISA added to dense alone): then that kernel runs, as asked.
    if prep.int8 is None and decode.prefers_decode(prep.lq) and decode.has_variant(variant):
        return decode.attention_f32(prep, m4, hi, threads, variant)
    kernel = _precision.kernel(prep, variant, fp32=DENSE_F32, int8=DENSE_I8)
    out, out4 = prep.new_output()
    if prep.int8 is None:
        _core.dense_f32(prep.q, prep.k, prep.v, out4, m4, prep.scale, -_core.BAND_NONE, hi,
                        kernel.index, threads)
    else:
        # The kernel proves q finite and in range in its own pass over q (int8.q_limit); only
        # when a block is beyond that is q checked (and maybe rescaled) here, and rerun.
        if not _dense_i8(prep, out4, m4, hi, kernel.index, threads):
            prep = _precision.check_query(prep)
            _dense_i8(prep, out4, m4, hi, kernel.index, threads)
    return prep.finish(out)


def _dense_i8(prep, out4, m4, hi: int, index: int, threads: int) -> bool:
    """The int8 kernel on `prep`; False when it refused q (beyond ``prep.int8.q_limit``)."""
    i8 = prep.int8
    return _core.dense_i8(prep.q, i8.block, prep.k, i8.k_scale, i8.block, prep.v, i8.v_scale,
                          out4, m4, prep.scale, -_core.BAND_NONE, hi, index, threads, i8.q_limit)


def attention(
    q: ArrayLike,
    k: ArrayLike | QuantizedTensor,
    v: ArrayLike | QuantizedTensor,
    *,
    mask: ArrayLike | None = None,
    causal: bool = False,
    scale: float | None = None,
    precision: str = "fp32",
    variant: str | None = None,
    num_threads: int | None = None,
    plan: Plan | None = None,
) -> np.ndarray:
    """Scaled dot-product attention, ``softmax(q kᵀ · scale + mask) v``, on NumPy arrays.

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        ``q (..., Lq, D)``, ``k (..., Lk, D)``, ``v (..., Lk, Dv)``. Leading dims
        broadcast. Grouped-query attention: when axis -3 of ``q`` (heads) is a
        multiple of that of ``k``/``v``, query head ``h`` uses key/value head
        ``h // (Hq // Hkv)``. Computation is float32; the result has the inputs'
        (promoted) dtype. With ``precision="int8"``, ``k`` and ``v`` may also be
        `fastattn.quantize` results (`QuantizedTensor`), reusable across calls.
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
    precision : {"fp32", "int8"}
        ``"int8"``: keys smoothed and quantised per block of tokens, queries per block,
        values per channel, ``q kᵀ`` in int32, a lookup-table softmax and ``P v`` in
        int32 (see ``fastattn.reference.int8``): about 1 % relative error, 4x smaller
        key/value storage.
    variant : str, optional
        Force a compiled kernel by name (e.g. ``"f32-scalar"``, ``"i8-avx2"``); see
        ``fastattn.info()["ops"]``.
    num_threads : int, optional
        Threads for this call (with ``precision="int8"`` also for quantising float ``k`` and
        ``v``); default ``FASTATTN_NUM_THREADS`` or all CPUs.
    plan : Plan, optional
        A `fastattn.tune` result: compute attention the way it chose (an op, its setting,
        precision, kernel and threads), the same as ``plan(q, k, v)``. q, k, v must have
        the 4-d shapes it was tuned for and ``causal`` its setting; ``mask``, ``scale``,
        ``variant`` and ``num_threads`` must be left unset, and ``precision`` unset or
        the plan's (``plan.precision``): the plan fixes them, so a conflicting option is
        a ValueError rather than silently ignored.

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
    >>> x = rng.standard_normal((1, 2, 128, 32), dtype=np.float32)
    >>> plan = fastattn.tune(x.shape, quality=0.9, budget_s=0.0, cache=False)
    >>> fastattn.attention(x, x, x, plan=plan).shape
    (1, 2, 128, 32)
    """
    causal = _validate.boolean(causal, "causal")
    if plan is not None:
        return _run_plan(plan, q, k, v, causal=causal, precision=precision,
                         fixed=dict(mask=mask, scale=scale, variant=variant,
                                    num_threads=num_threads))
    align = "bottom-right" if causal else None
    return _run_dense(q, k, v, mask=mask, causal_align=align, scale=scale, precision=precision,
                      variant=variant, num_threads=num_threads, gqa=True, mask_name="mask")


def _run_plan(plan, q, k, v, *, causal, precision, fixed):
    """``plan(q, k, v)`` once the call's options are proven not to conflict with the plan."""
    if not isinstance(plan, Plan):
        raise TypeError(f"plan must be a fastattn.tune() result, got {type(plan).__name__}")
    conflicts = [f"{name}=..." if name == "mask" else f"{name}={value!r}"
                 for name, value in fixed.items() if value is not None]
    if precision not in ("fp32", plan.precision):
        conflicts.append(f"precision={precision!r}")
    if conflicts:
        raise ValueError(f"plan= fixes how attention is computed ({plan.name}, {plan.variant}, "
                         f"{plan.num_threads} threads, no mask, the default scale): drop "
                         + ", ".join(conflicts))
    if causal != plan.causal:
        raise ValueError(f"causal={causal}, but the plan was tuned with causal={plan.causal}")
    for name, x in (("k", k), ("v", v)):
        if isinstance(x, QuantizedTensor) and (plan.precision != "int8"
                                               or plan.function != "attention"):
            raise TypeError(f"{name} is a QuantizedTensor, but the plan ({plan.name}) "
                            "quantises float k and v itself: pass the float arrays")
    return plan(q, k, v)


def scaled_dot_product_attention(
    query: ArrayLike,
    key: ArrayLike | QuantizedTensor,
    value: ArrayLike | QuantizedTensor,
    attn_mask: ArrayLike | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    precision: str = "fp32",
    variant: str | None = None,
    num_threads: int | None = None,
) -> np.ndarray:
    """PyTorch's ``torch.nn.functional.scaled_dot_product_attention`` on NumPy arrays.

    The first eight parameters are PyTorch's, in its order and with its semantics:
    ``attn_mask`` boolean (True = take part) or additive float; ``is_causal`` aligned
    top-left like PyTorch (query ``i`` sees keys ``j <= i``) and not combinable with
    ``attn_mask``; ``enable_gqa`` allows fewer key/value heads than query heads.
    Differences: ``dropout_p`` must be 0 (inference only) and a fully masked query row
    gives zeros instead of NaN.

    Parameters
    ----------
    query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa
        As in PyTorch (arrays as in :func:`fastattn.attention`).
    precision, variant, num_threads
        Keyword-only, as in :func:`fastattn.attention`.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)`` in the inputs' dtype, as PyTorch returns it (but zeros for a
        fully masked row).

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> x = np.ones((1, 4, 16, 32), dtype=np.float32)
    >>> fastattn.scaled_dot_product_attention(x, x, x, is_causal=True).shape
    (1, 4, 16, 32)
    >>> fastattn.scaled_dot_product_attention(x, x, x, precision="int8").shape
    (1, 4, 16, 32)
    """
    if dropout_p != 0.0:
        raise ValueError(f"dropout_p must be 0 (fastattn is inference-only), got {dropout_p}")
    is_causal = _validate.boolean(is_causal, "is_causal")
    if is_causal and attn_mask is not None:
        raise ValueError("attn_mask must be None when is_causal=True (as in PyTorch)")
    return _run_dense(query, key, value, mask=attn_mask,
                      causal_align="top-left" if is_causal else None, scale=scale,
                      precision=precision, variant=variant, num_threads=num_threads,
                      gqa=_validate.boolean(enable_gqa, "enable_gqa"), mask_name="attn_mask")
