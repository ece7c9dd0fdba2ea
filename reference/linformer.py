"""Linformer attention (Wang et al., 2020, "Linformer: Self-Attention with Linear
Complexity"), float64 inside.

Keys and values are projected along the sequence axis from Lk rows to r << Lk rows by
two (r x Lk) matrices E and F (eq. 7 of the paper), then attended densely:

    out = softmax(q (E k)ᵀ · scale) (F v)

costing O(Lq r D + r Lk D) instead of O(Lq Lk D). F = E when only one projection is given
(the paper's key-value sharing). No causal form: every projected row mixes keys from the
whole sequence, so no query can be kept from seeing its future.
"""

from __future__ import annotations

import numpy as np

from .dense import attention as dense_attention
from .dense import expand_kv_heads


def linformer_attention(q, k, v, proj_k, proj_v=None, scale=None):
    """softmax(q (E k)ᵀ · scale) (F v) with E = proj_k, F = proj_v (or E), each (r, Lk);
    float64 (..., Hq, Lq, Dv). Default scale 1/sqrt(D)."""
    q = np.asarray(q, dtype=np.float64)
    k = expand_kv_heads(q, np.asarray(k, dtype=np.float64))
    v = expand_kv_heads(q, np.asarray(v, dtype=np.float64))
    e = np.asarray(proj_k, dtype=np.float64)
    f = e if proj_v is None else np.asarray(proj_v, dtype=np.float64)
    return dense_attention(q, e @ k, f @ v, scale=scale)
