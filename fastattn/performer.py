"""Performer attention, FAVOR+ (Choromanski et al., 2021): an unbiased random-feature
estimate of softmax attention in O(L·m·D)."""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from fastattn import _core, _precision, _validate
from fastattn._dispatch import PERFORMER_F32
from fastattn.linear import band_hi

FEATURE_KINDS = ("positive_orthogonal", "positive_iid")


@functools.lru_cache(maxsize=32)
def _features(d: int, m: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "positive_iid":
        w = rng.standard_normal((m, d))
    else:
        blocks = []
        for start in range(0, m, d):
            # A Haar-random orthogonal matrix: QR of a Gaussian one, signs fixed by R.
            g = rng.standard_normal((d, d))
            qmat, rmat = np.linalg.qr(g)
            qmat = qmat * np.sign(np.diag(rmat))
            blocks.append(qmat.T[: min(d, m - start)])
        # Rows keep the lengths of Gaussian vectors (chi with d degrees of freedom), so each
        # row is marginally N(0, I) and the estimate stays unbiased.
        norms = np.linalg.norm(rng.standard_normal((m, d)), axis=1)
        w = np.concatenate(blocks) * norms[:, None]
    out = np.ascontiguousarray(w, dtype=np.float32)
    out.flags.writeable = False
    return out


def performer_features(d: int, *, num_features: int = 256, kind: str = "positive_orthogonal",
                       seed: int = 0) -> np.ndarray:
    """The random feature matrix ``W`` (num_features, d) of FAVOR+, float32, read-only.

    ``kind="positive_orthogonal"`` (FAVOR+): blocks of ``d`` exactly orthogonal rows, each
    row scaled to the length of an independent ``N(0, I_d)`` vector (lower variance than
    i.i.d. rows at the same cost); ``"positive_iid"``: i.i.d. ``N(0, I_d)`` rows. The same
    ``seed`` gives the same matrix on every machine (NumPy's PCG64).

    Examples
    --------
    >>> import fastattn
    >>> w = fastattn.performer_features(64, num_features=256, seed=1)
    >>> w.shape, w.dtype
    ((256, 64), dtype('float32'))
    """
    d = _validate.positive_int(d, "d")
    m = _validate.positive_int(num_features, "num_features")
    if kind not in FEATURE_KINDS:
        raise ValueError(f"kind must be one of {FEATURE_KINDS}, got {kind!r}")
    return _features(d, m, kind, _validate.nonneg_int(seed, "seed"))


def _check_features(features, d: int) -> np.ndarray:
    w = np.asarray(features)
    if w.dtype.type not in (np.float16, np.float32, np.float64):
        raise TypeError(f"features must be a float array, got dtype {w.dtype}")
    if w.ndim != 2 or w.shape[1] != d or w.shape[0] < 1 or w.shape[0] >= 1 << 16:
        raise ValueError(f"features must have shape (num_features, d) = (m, {d}) with "
                         f"1 <= m < 65536, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("features must be finite")
    return np.ascontiguousarray(w, dtype=np.float32)


def performer_attention(q: ArrayLike, k: ArrayLike, v: ArrayLike, *, num_features: int = 256,
                        seed: int = 0, features: ArrayLike | None = None, causal: bool = False,
                        scale: float | None = None, variant: str | None = None,
                        num_threads: int | None = None,
                        out: np.ndarray | None = None) -> np.ndarray:
    """FAVOR+: an unbiased estimate of ``softmax(q kᵀ · scale) v`` in O(L·m·(D + Dv)).

    ``phi(x) = exp(W x' - |x'|²/2) / sqrt(m)`` with ``x' = x·sqrt(scale)`` on queries and
    keys, then linear attention over these m positive features (see
    `fastattn.linear_attention`). Each query row is shifted by its largest exponent and
    the keys by their running largest one, which cancels exactly, so nothing overflows.
    The error against exact softmax attention falls as ``num_features`` grows (about
    ``1/sqrt(m)``); the README's quality table gives figures.

    Parameters
    ----------
    q, k, v : array_like
        As `fastattn.attention` (broadcasting, grouped-query heads, float16/32/64).
    num_features, seed : int
        m and the seed of `performer_features` (orthogonal blocks) when ``features`` is
        None.
    features : array_like, optional
        A (m, D) matrix, e.g. from `performer_features`; given, it replaces
        ``num_features`` and ``seed``. Reuse one matrix across calls and layers.
    causal : bool
        Bottom-right causal, by chunked prefix sums (as `fastattn.linear_attention`).
    scale : float, optional
        The softmax scale estimated; default ``1 / sqrt(D)``. Must be positive.
    num_threads, variant
        As `fastattn.linear_attention`.
    out : numpy.ndarray, optional
        As `fastattn.linear_attention`'s: written in place unless it shares memory with q,
        k, v or ``features``.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((1, 2, 512, 64), dtype=np.float32) for _ in range(3))
    >>> q, k = 0.3 * q, 0.3 * k  # small logits: the estimator's variance grows as e^|q+k|²
    >>> approx = fastattn.performer_attention(q, k, v, num_features=256)
    >>> exact = fastattn.attention(q, k, v)
    >>> bool(np.linalg.norm(approx - exact) / np.linalg.norm(exact) < 0.15)
    True
    """
    causal = _validate.boolean(causal, "causal")
    prep = _precision.prepare(q, k, v, allowed=("fp32",), scale=scale)
    if prep.scale <= 0:
        raise ValueError(f"scale must be positive for random features, got {prep.scale}")
    d = prep.q.shape[-1]
    if features is None:
        w = performer_features(d, num_features=num_features, seed=seed)
    else:
        w = _check_features(features, d)
    threads = _validate.num_threads(num_threads)
    kernel = _precision.kernel(prep, variant, fp32=PERFORMER_F32)
    if out is not None:
        prep.check_out(out)
    result, out4 = prep.new_output(out, reads=(w,))
    _core.performer_f32(prep.q, prep.k, prep.v, out4, w, prep.scale,
                        band_hi(causal, prep.lq, prep.lk), kernel.index, threads)
    return prep.finish(result, out)





def gemm_parts_call(w: np.ndarray, k: np.ndarray, v: np.ndarray, q: np.ndarray, *,
                    variant: str | None = None) -> tuple:
    """The GEMM-shaped parts of one head of (non-causal) Performer alone, to measure their
    speed: returns ``(run, s, num)``; each ``run()`` computes, in place and through the same
    GEMM calls as ``performer_attention``, the key features ``w kᵀ`` and the state
    ``s = (w kᵀ) v`` a chunk of ``fastattn.linear.CHUNK`` keys at a time, then the query
    features ``q wᵀ``
    and the readout ``num = (q wᵀ) s`` a chunk of queries at a time, with nothing between
    them (no exp, no shifts: the values are plain products). The operands are laid out for
    the kernel here, not in ``run``. w (m, d), k (lk, d), v (lk, dv), q (lq, d) float32; lk
    and lq multiples of ``fastattn.linear.CHUNK``; d, dv and m multiples of 16.

    Examples
    --------
    >>> w, k, v, q = (np.ones(shape, np.float32) for shape in [(16, 16)] + [(64, 16)] * 3)
    >>> run, s, num = gemm_parts_call(w, k, v, q)
    >>> run(); float(s[0, 0]), float(num[0, 0])
    (1024.0, 262144.0)
    """
    w, k, v, q = (np.asarray(x, dtype=np.float32) for x in (w, k, v, q))
    (m, d), (lk, dv), lq = w.shape, v.shape, q.shape[0]
    chunk, pad = _core.LOWRANK_CHUNK, _core.LOWRANK_PAD_ROWS
    wp, qp = np.zeros((m + pad, d), np.float32), np.zeros((lq + pad, d), np.float32)
    wp[:m], qp[:lq] = w, q
    kct = np.ascontiguousarray(k.reshape(lk // chunk, chunk, d).transpose(0, 2, 1)).ravel()
    vf = np.ascontiguousarray(v).ravel()
    s, num = np.zeros((m + pad, dv), np.float32), np.zeros((lq + pad, dv), np.float32)
    index = PERFORMER_F32.resolve(variant).index

    def run() -> None:
        _core.performer_f32_gemm(wp.ravel(), kct, vf, qp.ravel(), s.ravel(), num.ravel(), d, dv,
                                 m, lk, lq, index)

    return run, s[:m], num[:lq]
