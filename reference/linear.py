"""Kernelised linear attention (Katharopoulos et al., 2020, "Transformers are RNNs"),
float64 inside.

Softmax attention weighs value j for query i by sim(q_i, k_j) = exp(q_i . k_j / sqrt(D)).
Any non-negative similarity works; with a kernel sim(q, k) = phi(q) . phi(k), the sum
over keys factors out of the row (eq. 4-5 of the paper):

    out_i = phi(q_i)ᵀ S / phi(q_i)ᵀ z,   S = sum_j phi(k_j) v_jᵀ  (D x Dv),  z = sum_j phi(k_j)

so one pass over the keys costs O(L D Dv) instead of O(L² D). The paper's feature map
is phi(x) = elu(x) + 1 (eq. 7); relu is the other common choice. q and k are not
scaled (the paper's form).

Causal (eq. 8-10): query i sums over the keys it sees only, S_i = sum_{j <= i + offset}
phi(k_j) v_jᵀ and z_i likewise: prefix sums over the keys, an RNN whose state is S, z.
The offset is Lk - Lq by default (bottom-right, fastattn.attention's convention); a row
that sees no key, or whose denominator is 0 (possible with relu), returns zeros.

`quadratic_form` spells out the same maths as an explicit L x L weight matrix: the form
the causal prefix sums are tested against.
"""

from __future__ import annotations

import numpy as np

from .dense import expand_kv_heads


def elu_plus_one(x: np.ndarray) -> np.ndarray:
    """elu(x) + 1: x + 1 for x > 0, exp(x) otherwise (always positive)."""
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


FEATURE_MAPS = {"elu+1": elu_plus_one, "relu": relu}


def _float64(q, k, v):
    q = np.asarray(q, dtype=np.float64)
    k = expand_kv_heads(q, np.asarray(k, dtype=np.float64))
    v = expand_kv_heads(q, np.asarray(v, dtype=np.float64))
    return q, k, v


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den row by row, zeros where the denominator is 0 (no visible key); NaN stays."""
    safe = np.where(den != 0, den, 1.0)
    return np.where(den != 0, num / safe, 0.0)


def attention_from_features(phi_q, phi_k, v, causal: bool = False, causal_offset=None):
    """Linear attention given the features: phi_q (..., Lq, F), phi_k (..., Lk, F),
    v (..., Lk, Dv), all float64 with matching heads; returns (..., Lq, Dv).
    Shared by the Performer reference, whose features are random."""
    lq, lk = phi_q.shape[-2], phi_k.shape[-2]
    if not causal:
        s = np.swapaxes(phi_k, -1, -2) @ v                 # (..., F, Dv)
        z = phi_k.sum(axis=-2)                              # (..., F)
        return _divide(phi_q @ s, (phi_q @ z[..., None]))
    offset = lk - lq if causal_offset is None else causal_offset
    # S_t = sum_{j <= t} phi(k_j) v_jᵀ for every key position t: the running state.
    s = np.cumsum(phi_k[..., :, :, None] * v[..., :, None, :], axis=-3)  # (..., Lk, F, Dv)
    z = np.cumsum(phi_k, axis=-2)                                        # (..., Lk, F)
    last = np.arange(lq) + offset                 # the last key query i sees
    sees = last >= 0
    t = np.clip(last, 0, lk - 1)
    num = np.einsum("...if,...ifd->...id", phi_q, s[..., t, :, :])
    den = np.einsum("...if,...if->...i", phi_q, z[..., t, :])[..., None]
    num = np.where(sees[:, None], num, 0.0)
    den = np.where(sees[:, None], den, 0.0)
    return _divide(num, den)


def linear_attention(q, k, v, feature_map: str = "elu+1", causal: bool = False,
                     causal_offset=None):
    """out_i = phi(q_i)ᵀ S / phi(q_i)ᵀ z in float64: (..., Hq, Lq, Dv). Grouped-query
    attention and broadcasting as in reference.dense."""
    phi = FEATURE_MAPS[feature_map]
    q, k, v = _float64(q, k, v)
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    phi_q = np.broadcast_to(phi(q), lead + q.shape[-2:])
    phi_k = np.broadcast_to(phi(k), lead + k.shape[-2:])
    v = np.broadcast_to(v, lead + v.shape[-2:])
    return attention_from_features(phi_q, phi_k, v, causal, causal_offset)


def quadratic_form(q, k, v, feature_map: str = "elu+1", causal: bool = False,
                   causal_offset=None):
    """The same attention through the explicit weights A_ij = phi(q_i) . phi(k_j), masked
    to j <= i + offset when causal: out = A v / A 1 (O(L²): for tests)."""
    phi = FEATURE_MAPS[feature_map]
    q, k, v = _float64(q, k, v)
    a = phi(q) @ np.swapaxes(phi(k), -1, -2)
    if causal:
        lq, lk = q.shape[-2], k.shape[-2]
        offset = lk - lq if causal_offset is None else causal_offset
        a = a * (np.arange(lk)[None, :] <= np.arange(lq)[:, None] + offset)
    return _divide(a @ v, a.sum(axis=-1, keepdims=True))
