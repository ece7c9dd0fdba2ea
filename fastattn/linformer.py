"""Linformer attention (Wang et al., 2020): keys and values projected along the sequence to
r rows, then dense attention: O(Lq·r·D + r·Lk·D)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _precision, _validate
from fastattn._dispatch import LINFORMER_F32

PROJECTION_KINDS = ("gaussian", "mean")
KC = _core.LINFORMER_KC


def linformer_projection(lk: int, r: int, *, kind: str = "gaussian",
                         seed: int = 0) -> np.ndarray:
    """A (r, lk) float32 projection along the sequence for `linformer_attention`.

    ``"gaussian"``: i.i.d. ``N(0, 1/r)`` entries (the Johnson-Lindenstrauss projection of
    the paper's analysis); ``"mean"``: row i averages the keys of the i-th of r equal
    contiguous segments (pooling; needs no training to be meaningful). Trained models
    learn E and F; pass those instead.

    Examples
    --------
    >>> import fastattn
    >>> fastattn.linformer_projection(4096, 256).shape
    (256, 4096)
    """
    lk = _validate.positive_int(lk, "lk")
    r = _validate.positive_int(r, "r")
    seed = _validate.nonneg_int(seed, "seed")
    if r > lk:
        raise ValueError(f"r must be at most lk: got r = {r} > lk = {lk}")
    if kind == "gaussian":
        e = np.random.default_rng(seed).standard_normal((r, lk)) / np.sqrt(r)
    elif kind == "mean":
        edges = (np.arange(r + 1) * lk) // r
        segment = np.searchsorted(edges, np.arange(lk), side="right") - 1
        e = (segment[None, :] == np.arange(r)[:, None]) / np.diff(edges)[:, None]
    else:
        raise ValueError(f"kind must be one of {PROJECTION_KINDS}, got {kind!r}")
    return np.ascontiguousarray(e, dtype=np.float32)


def _check_projection(proj, name: str, lk: int, r: int | None) -> np.ndarray:
    e = np.asarray(proj)
    if e.dtype.type not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{name} must be a float array, got dtype {e.dtype}")
    if e.ndim != 2 or e.shape[1] != lk or e.shape[0] < 1 or e.shape[0] > lk:
        raise ValueError(f"{name} must have shape (r, Lk) = (r, {lk}) with 1 <= r <= Lk, "
                         f"got {e.shape}")
    if r is not None and e.shape[0] != r:
        raise ValueError(f"{name} has {e.shape[0]} rows but proj_k has {r}")
    return np.ascontiguousarray(e, dtype=np.float32)


def linformer_attention(q: ArrayLike, k: ArrayLike, v: ArrayLike, *, proj_k: ArrayLike,
                        proj_v: ArrayLike | None = None, causal: bool = False,
                        scale: float | None = None, variant: str | None = None,
                        num_threads: int | None = None,
                        out: np.ndarray | None = None) -> np.ndarray:
    """``softmax(q (E k)ᵀ · scale) (F v)`` with ``E = proj_k``, ``F = proj_v`` (or E).

    Keys and values are projected from Lk rows to r (blocked GEMMs, once per key/value
    head), then every query head attends the r projected rows with an exact softmax:
    about ``r / Lk`` of dense attention's work. With r = Lk and identity projections it
    is dense attention.

    Parameters
    ----------
    q, k, v : array_like
        As `fastattn.attention` (broadcasting, grouped-query heads, float16/32/64).
    proj_k, proj_v : array_like, (r, Lk)
        The projections, shared by every batch and head (e.g. from
        `linformer_projection`, or a trained model's E and F).
    scale : float, optional
        Default ``1 / sqrt(D)``.
    causal : bool
        Must be False: each projected row mixes keys from the whole sequence, so no
        projection keeps a query from its future; a True value raises ValueError rather
        than being ignored.
    num_threads, variant
        As `fastattn.attention`.
    out : numpy.ndarray, optional
        As `fastattn.linear_attention`'s: written in place unless it shares memory with q,
        k, v, ``proj_k`` or ``proj_v``.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((1, 8, 1024, 64), dtype=np.float32) for _ in range(3))
    >>> e = fastattn.linformer_projection(1024, 128, kind="mean")
    >>> fastattn.linformer_attention(q, k, v, proj_k=e).shape
    (1, 8, 1024, 64)
    """
    if _validate.boolean(causal, "causal"):
        raise ValueError("linformer_attention cannot be causal: every projected key mixes the "
                         "whole sequence; use linear_attention or performer_attention")
    prep = _precision.prepare(q, k, v, allowed=("fp32",), scale=scale)
    e = _check_projection(proj_k, "proj_k", prep.lk, None)
    f = e if proj_v is None else _check_projection(proj_v, "proj_v", prep.lk, e.shape[0])
    threads = _validate.num_threads(num_threads)
    kernel = _precision.kernel(prep, variant, fp32=LINFORMER_F32)
    if out is not None:
        prep.check_out(out)
    result, out4 = prep.new_output(out, reads=(e, f))
    _core.linformer_f32(prep.q, prep.k, prep.v, out4, e, f, prep.scale, kernel.index, threads)
    return prep.finish(result, out)


def _panels(x: np.ndarray, block: int) -> np.ndarray:
    """(lk, n) rows as the kernel's blocks of `block` rows in 16-column panels, flat."""
    lk, n = x.shape
    panels = x.reshape(lk // block, block, n // 16, 16).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(panels).ravel()


def gemm_parts_call(e: np.ndarray, k: np.ndarray, v: np.ndarray, q: np.ndarray, *,
                    variant: str | None = None) -> tuple:
    """The GEMM-shaped parts of one head of Linformer alone (one projection for keys and
    values), to measure their speed: returns ``(run, kp, vp, out)``; each ``run()``
    computes, in place and through the same GEMM calls as ``linformer_attention``, the
    projections ``kp = e k`` and ``vp = e v`` a block of ``KC`` keys at a time (each row tile
    of e copied contiguous, as the kernel does), then ``out = (q kpᵀ) vp`` a block of query
    rows at a time, with nothing between them (no softmax, no scaling). The operands are laid
    out for the kernel here, not in ``run``. e (r, lk), k (lk, d), v (lk, dv), q (lq, d)
    float32; lk a multiple of ``KC``; r, d, dv and lq multiples of 16.

    Examples
    --------
    >>> e = np.ones((16, 256), np.float32)
    >>> k, v = np.ones((256, 16), np.float32), np.ones((256, 16), np.float32)
    >>> run, kp, vp, out = gemm_parts_call(e, k, v, np.ones((16, 16), np.float32))
    >>> run(); float(kp[0, 0]), float(out[0, 0])
    (256.0, 16777216.0)
    """
    e, k, v, q = (np.ascontiguousarray(x, dtype=np.float32) for x in (e, k, v, q))
    (r, lk), (d, dv), lq = e.shape, (k.shape[1], v.shape[1]), q.shape[0]
    pad = _core.LOWRANK_PAD_ROWS
    qp = np.zeros((lq + pad, d), np.float32)
    qp[:lq] = q
    kb, vb = _panels(k, KC), _panels(v, KC)
    kp, vp = np.zeros((r + pad, d), np.float32), np.zeros((r + pad, dv), np.float32)
    out = np.zeros((lq + pad, dv), np.float32)
    index = LINFORMER_F32.resolve(variant).index

    def run() -> None:
        _core.linformer_f32_gemm(e.ravel(), kb, vb, qp.ravel(), kp.ravel(), vp.ravel(),
                                 out.ravel(), d, dv, r, lk, lq, index)

    return run, kp[:r], vp[:r], out[:lq]
