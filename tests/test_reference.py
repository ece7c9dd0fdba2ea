"""The dense reference itself, against an independent formulation (scipy's softmax,
one query row at a time), so that the kernels are not tested against a shared mistake."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from fastattn.reference import dense as ref


def row_by_row(q, k, v, visible, scale):
    out = np.zeros((q.shape[0], v.shape[1]))
    for i in range(q.shape[0]):
        keys = np.flatnonzero(visible[i])
        if keys.size:
            out[i] = softmax(q[i] @ k[keys].T * scale) @ v[keys]
    return out


@pytest.mark.parametrize("lq, lk", [(5, 5), (3, 9), (9, 3), (1, 1)])
@pytest.mark.parametrize("offset", [None, 0])
def test_causal_alignment_and_masks(lq, lk, offset):
    rng = np.random.default_rng(lq * 10 + lk)
    q, k, v = rng.standard_normal((lq, 4)), rng.standard_normal((lk, 4)), rng.standard_normal(
        (lk, 3))
    mask = rng.random((lq, lk)) < 0.6
    band = lk - lq if offset is None else offset
    visible = (np.arange(lk)[None, :] <= np.arange(lq)[:, None] + band) & mask
    got = ref.attention(q, k, v, mask=mask, causal=True, causal_offset=offset)
    np.testing.assert_allclose(got, row_by_row(q, k, v, visible, 0.5), atol=1e-12)


def test_gqa_repeats_each_kv_head_for_its_group():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((6, 4, 8)), rng.standard_normal((2, 5, 8)), rng.standard_normal(
        (2, 5, 8))
    got = ref.attention(q, k, v)
    for h in range(6):
        np.testing.assert_allclose(got[h], ref.attention(q[h], k[h // 3], v[h // 3]))


def test_additive_mask_shifts_scores():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    bias = rng.standard_normal((3, 6))
    want = softmax(q @ k.T / 2 + bias, axis=-1) @ v
    np.testing.assert_allclose(ref.attention(q, k, v, mask=bias), want, atol=1e-12)
