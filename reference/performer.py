"""Performer attention, FAVOR+ (Choromanski et al., 2021, "Rethinking Attention with
Performers"), float64 inside.

The softmax kernel is an expectation over Gaussian w (Lemma 1, positive random features):

    exp(x . y) = E_w[ exp(w . x - |x|²/2) exp(w . y - |y|²/2) ],   w ~ N(0, I_d)

so with m draws w_1..w_m (the rows of `features`, m x d),

    phi(x) = exp(W x - |x|²/2) / sqrt(m)        (m features, all positive)

gives phi(x) . phi(y) ≈ exp(x . y), an unbiased estimate. Attention
softmax(q kᵀ · scale) v uses x = q sqrt(scale), y = k sqrt(scale) and then is linear
attention over these features (reference.linear.attention_from_features), causal or not.
Orthogonal blocks of w (the "O" of FAVOR+) lower the estimator's variance; they are drawn
by fastattn.performer_features and passed in here.

Numerical stability: phi is multiplied by exp(-c) before use, with c the largest exponent
of the query's own row (for queries) or of all keys of the head (for keys). A constant per
query row, or one shared by every key, cancels between numerator and denominator, so the
result is unchanged while exp never overflows.
"""

from __future__ import annotations

import numpy as np

from .dense import expand_kv_heads
from .linear import attention_from_features


def positive_features(x: np.ndarray, w: np.ndarray, per_row: bool) -> np.ndarray:
    """exp(W x - |x|²/2 - c) / sqrt(m) for every row x of (..., L, d): (..., L, m); c is the
    row's largest exponent (per_row, queries) or the largest over the rows (keys)."""
    exponent = x @ w.T - 0.5 * np.sum(x * x, axis=-1, keepdims=True)
    axes = (-1,) if per_row else (-2, -1)
    exponent = exponent - exponent.max(axis=axes, keepdims=True)
    return np.exp(exponent) / np.sqrt(w.shape[0])


def performer_attention(q, k, v, features, causal: bool = False, scale=None,
                        causal_offset=None):
    """FAVOR+ estimate of softmax(q kᵀ · scale) v (default scale 1/sqrt(d)) with the random
    features `features` (m x d), float64 (..., Hq, Lq, Dv); causal as reference.linear."""
    q = np.asarray(q, dtype=np.float64)
    k = expand_kv_heads(q, np.asarray(k, dtype=np.float64))
    v = expand_kv_heads(q, np.asarray(v, dtype=np.float64))
    w = np.asarray(features, dtype=np.float64)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    root = np.sqrt(scale)
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    phi_q = np.broadcast_to(positive_features(q * root, w, per_row=True), lead + (q.shape[-2],
                                                                                  w.shape[0]))
    phi_k = np.broadcast_to(positive_features(k * root, w, per_row=False), lead + (k.shape[-2],
                                                                                   w.shape[0]))
    v = np.broadcast_to(v, lead + v.shape[-2:])
    return attention_from_features(phi_q, phi_k, v, causal, causal_offset)
