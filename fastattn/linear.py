"""Kernelised linear attention (Katharopoulos et al., 2020): O(L D²) instead of O(L² D)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _outputs, _precision, _validate
from fastattn._dispatch import LINEAR_F32

FEATURE_MAPS = ("elu+1", "relu")  # index = the C enum fa_feature_map
CHUNK = _core.LOWRANK_CHUNK


def band_hi(causal: bool, lq: int, lk: int) -> int:
    """Largest visible j - i: bottom-right causal (Lk - Lq), or no limit."""
    return lk - lq if causal else _core.BAND_NONE


def linear_attention(q: ArrayLike, k: ArrayLike, v: ArrayLike, *, feature_map: str = "elu+1",
                     causal: bool = False, variant: str | None = None,
                     num_threads: int | None = None,
                     out: np.ndarray | None = None) -> np.ndarray:
    """Linear attention: ``out_i = phi(q_i)·S / phi(q_i)·z``, ``S = Σ_j phi(k_j) v_jᵀ``,
    ``z = Σ_j phi(k_j)``.

    The softmax similarity is replaced by a kernel ``phi(q)·phi(k)``, so the key sum is
    computed once (cost O(L·D·Dv), memory O(D·Dv) per thread) instead of per query pair.
    q and k are not scaled (the paper's form); this is a different attention, not an
    approximation of softmax: see the README's quality table.

    Parameters
    ----------
    q, k, v : array_like, float16, float32 or float64
        ``q (..., Lq, D)``, ``k (..., Lk, D)``, ``v (..., Lk, Dv)``; leading dims
        broadcast, grouped-query heads as in `fastattn.attention`. Computed in float32,
        returned in the inputs' dtype.
    feature_map : {"elu+1", "relu"}
        ``phi``: ``elu(x) + 1`` (the paper's, always positive) or ``max(x, 0)``.
    causal : bool
        Query ``i`` sums over keys ``j <= i + (Lk - Lq)`` only (bottom-right, as
        `fastattn.attention`), by prefix sums over chunks of ``fastattn.linear.CHUNK``
        rows; never an Lq x Lk array.
    num_threads : int, optional
        Threads for this call (split over batch x heads); default
        ``FASTATTN_NUM_THREADS`` or all CPUs.
    variant : str, optional
        Force a compiled kernel (``"f32-scalar"``, ``"f32-avx2"``, ``"f32-avx512"``,
        ``"f32-neon"``).
    out : numpy.ndarray, optional
        Where to put the result (NumPy's convention): the result's shape, writeable, a
        dtype the result casts to (``same_kind``). A C-contiguous float32 ``out`` that
        shares no memory with the inputs is written by the kernel itself; any other is
        filled from a temporary. Reusing one ``out`` over calls in a loop saves allocating
        the output each time: a large new array (above glibc's 32 MiB mmap limit, e.g.
        8 heads x 16k x 64) arrives as fresh pages the OS zeroes on every call.

    Returns
    -------
    numpy.ndarray
        ``(..., Hq, Lq, Dv)`` (``out`` when given). A row whose denominator is 0 (it sees
        no key, or relu features that are all zero) is zeros.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((2, 4, 1000, 64), dtype=np.float32) for _ in range(3))
    >>> out = fastattn.linear_attention(q, k, v, causal=True)
    >>> out.shape
    (2, 4, 1000, 64)
    >>> from fastattn.reference import linear as ref
    >>> bool(np.abs(out - ref.linear_attention(q, k, v, causal=True)).max() < 1e-4)
    True
    >>> again = fastattn.linear_attention(q, k, v, causal=True, out=out)  # reuses out
    >>> again is out
    True
    """
    if feature_map not in FEATURE_MAPS:
        raise ValueError(f"feature_map must be one of {FEATURE_MAPS}, got {feature_map!r}")
    causal = _validate.boolean(causal, "causal")
    prep = _precision.prepare(q, k, v, allowed=("fp32",))
    threads = _validate.num_threads(num_threads)
    kernel = _precision.kernel(prep, variant, fp32=LINEAR_F32)
    if out is not None:
        prep.check_out(out)
    result, out4 = prep.new_output(out)
    _core.linear_f32(prep.q, prep.k, prep.v, out4, FEATURE_MAPS.index(feature_map),
                     band_hi(causal, prep.lq, prep.lk), kernel.index, threads)
    return prep.finish(result, out)


def gemm_parts_call(kf: np.ndarray, v: np.ndarray, qf: np.ndarray, *,
                    variant: str | None = None) -> tuple:
    """The GEMM-shaped parts of one head of linear attention alone, to measure their speed:
    returns ``(run, s, num)``; each ``run()`` computes ``s = kfᵀ v`` (the state update,
    ``CHUNK`` keys at a time) and ``num = qf s`` (the readout) in place, through the same
    GEMM calls as ``linear_attention``, on features given here (laid out for the kernel
    now, not in ``run``). kf (lk, d), v (lk, dv), qf (lq, d) float32; lk and lq multiples
    of ``CHUNK``, d and dv multiples of 16.

    Examples
    --------
    >>> kf, v, qf = (np.ones((64, 16), np.float32) for _ in range(3))
    >>> run, s, num = gemm_parts_call(kf, v, qf)
    >>> run(); float(s[0, 0]), float(num[0, 0])
    (64.0, 1024.0)
    """
    kf, v, qf = (np.asarray(x, dtype=np.float32) for x in (kf, v, qf))
    (lk, d), (lq, dv), pad = kf.shape, (qf.shape[0], v.shape[1]), _core.LOWRANK_PAD_ROWS
    # the features, the state and num on 64-byte lines, as in the kernel's workspace; v as given
    kft = _outputs.zeros(((lk // CHUNK * d + pad) * CHUNK,))
    kft[:lk * d] = kf[:lk // CHUNK * CHUNK].reshape(-1, CHUNK, d).transpose(0, 2, 1).ravel()
    qfp = _outputs.zeros((lq + pad, d))
    qfp[:lq] = qf
    vf = np.ascontiguousarray(v).ravel()
    s, num = _outputs.zeros((d + pad, dv)), _outputs.zeros((lq + pad, dv))
    index = LINEAR_F32.resolve(variant).index

    def run() -> None:
        _core.linear_f32_gemm(kft, vf, qfp.ravel(), s.ravel(), num.ravel(), d, dv, lk, lq,
                              index)

    return run, s[:d], num[:lq]
