"""Dense float32 attention: every compiled variant against reference/dense.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import dense as ref
from helpers import (
    F16_RTOL,
    attention_shapes,
    check_close,
    check_nan_like_reference,
    compiled,
    gaussian,
    lengths,
    max_logit,
    non_finite_inputs,
    same_from_python_threads,
)

VARIANTS = compiled("dense-f32")
# 1, t-1, t, t+1, 2t+r for the engine's query block and key tile (_core.TILES), and 7 (crosses
# the 6-row micro-kernel), 64 and 200.
EDGE_LENGTHS = st.sampled_from(lengths("f32", 2, 7, 63, 64, 200))
DIMS = st.sampled_from([1, 3, 8, 16, 17, 32, 64, 80])


@pytest.mark.parametrize("variant", VARIANTS)
@given(
    shape=attention_shapes(EDGE_LENGTHS, DIMS),
    causal=st.booleans(),
    mask_kind=st.sampled_from(["none", "bool", "float", "bool-row"]),
    logit_scale=st.sampled_from([0.1, 1.0, 8.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference(variant, shape, causal, mask_kind, logit_scale, seed):
    rng = np.random.default_rng(seed)
    batch, heads, lq, lk, d = shape.batch, shape.heads, shape.lq, shape.lk, shape.d
    q, k, v = shape.inputs(rng, q_scale=logit_scale)
    mask = None
    if mask_kind == "bool":
        mask = rng.random((batch, heads, lq, lk)) < 0.7
    elif mask_kind == "float":
        mask = gaussian(rng, 1, heads, lq, lk, scale=2.0)
    elif mask_kind == "bool-row":  # broadcast over batch, heads and query rows
        mask = rng.random((lk,)) < 0.5
    out = fastattn.attention(q, k, v, mask=mask, causal=causal, variant=variant)
    expected = ref.attention(q, k, v, mask=mask, causal=causal)
    logit = max_logit(q, k, 1 / np.sqrt(d)) + (0 if mask_kind != "float" else 20.0)
    check_close(out, expected, v, logit, lk)


@pytest.mark.parametrize("variant", VARIANTS)
@given(lq=EDGE_LENGTHS, lk=EDGE_LENGTHS, seed=st.integers(0, 2**32 - 1))
def test_top_left_causal_matches_reference(variant, lq, lk, seed):
    rng = np.random.default_rng(seed)
    q, k, v = gaussian(rng, 2, lq, 16), gaussian(rng, 2, lk, 16), gaussian(rng, 2, lk, 8)
    out = fastattn.scaled_dot_product_attention(q, k, v, is_causal=True)
    expected = ref.attention(q, k, v, causal=True, causal_offset=0)
    check_close(out, expected, v, max_logit(q, k, 0.25), lk)


@pytest.mark.parametrize("variant", VARIANTS)
def test_huge_logits_are_stable(variant):
    rng = np.random.default_rng(1)
    q, k = gaussian(rng, 1, 2, 130, 64, scale=30.0), gaussian(rng, 1, 2, 130, 64, scale=30.0)
    v = gaussian(rng, 1, 2, 130, 64)
    out = fastattn.attention(q, k, v, variant=variant)
    assert np.all(np.isfinite(out))
    expected = ref.attention(q, k, v)
    # Logits reach ~1e4: float32 scores then carry absolute errors of ~1e-3, so
    # near-ties between the top keys can flip weight; bound by the logit-scaled tolerance.
    check_close(out, expected, v, max_logit(q, k, 1 / 8), 130)


@pytest.mark.parametrize("variant", VARIANTS)
def test_fully_masked_rows_are_zero(variant):
    rng = np.random.default_rng(2)
    q, k, v = gaussian(rng, 3, 70, 16), gaussian(rng, 3, 90, 16), gaussian(rng, 3, 90, 16)
    mask = np.ones((3, 70, 90), dtype=bool)
    mask[:, 5] = False
    mask[1, 69] = False
    out = fastattn.attention(q, k, v, mask=mask, variant=variant)
    assert np.all(out[:, 5] == 0) and np.all(out[1, 69] == 0)
    check_close(out, ref.attention(q, k, v, mask=mask), v, 20, 90)
    # Causal with more queries than keys: the first Lq - Lk rows see nothing.
    out = fastattn.attention(q[:, :, :8], k[:, :3, :8], v[:, :3], causal=True, variant=variant)
    assert np.all(out[:, :67] == 0) and np.all(out[:, 67:] != 0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_non_finite_inputs_propagate_like_reference(variant):
    q, k, v = non_finite_inputs(40, 100, q={(0, 3, 1): np.nan}, k={(1, 77, 0): np.inf},
                                v={(0, 12, 4): np.nan})
    check_nan_like_reference(fastattn.attention(q, k, v, variant=variant), ref.attention, q, k, v)


@pytest.mark.parametrize("variant", VARIANTS)
def test_strided_and_broadcast_inputs(variant):
    rng = np.random.default_rng(4)
    base = gaussian(rng, 2, 3, 100, 2 * 64)
    q = base[:, :, ::2, ::2]                      # non-contiguous last axis: copied
    k = np.swapaxes(gaussian(rng, 2, 3, 64, 90), -1, -2)  # transposed view
    v = gaussian(rng, 1, 3, 90, 40)[..., :33]       # batch broadcast, sliced columns
    out = fastattn.attention(q, k, v, variant=variant)
    check_close(out, ref.attention(q, k, v), v, max_logit(q, k, 1 / 8), 90)
    # A 2-d query against 4-d keys broadcasts over batch and heads.
    out = fastattn.attention(q[0, 0], k, v, variant=variant)
    assert out.shape == (2, 3, 50, 33)
    check_close(out, ref.attention(q[0, 0], k, v), v, max_logit(q, k, 1 / 8), 90)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_round_trip(dtype):
    rng = np.random.default_rng(5)
    q, k, v = (gaussian(rng, 4, 33, 16).astype(dtype) for _ in range(3))
    out = fastattn.attention(q, k, v)
    assert out.dtype == dtype
    tol = F16_RTOL if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(out.astype(np.float64), ref.attention(q, k, v), atol=tol * 4)


def test_scale_override_and_gqa_mapping():
    rng = np.random.default_rng(6)
    q, k, v = gaussian(rng, 1, 6, 20, 8), gaussian(rng, 1, 2, 30, 8), gaussian(rng, 1, 2, 30, 8)
    out = fastattn.attention(q, k, v, scale=0.7)
    # Query head h reads key/value head h // 3.
    for h in range(6):
        single = fastattn.attention(q[:, h], k[:, h // 3], v[:, h // 3], scale=0.7)
        np.testing.assert_array_equal(out[:, h], single)
    check_close(out, ref.attention(q, k, v, scale=0.7), v, 10, 30)


def test_threads_give_identical_results():
    rng = np.random.default_rng(7)
    q, k, v = (gaussian(rng, 2, 4, 300, 32) for _ in range(3))
    one = fastattn.attention(q, k, v, causal=True, num_threads=1)
    for n in (2, 3, 7):
        np.testing.assert_array_equal(fastattn.attention(q, k, v, causal=True, num_threads=n), one)


def test_concurrent_calls_from_python_threads():
    rng = np.random.default_rng(8)
    inputs = [tuple(gaussian(rng, 2, 150, 16) for _ in range(3)) for _ in range(6)]
    same_from_python_threads(fastattn.attention, inputs, repeats=5)


def test_sdpa_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    q, k, v = gaussian(rng, 2, 8, 40, 32), gaussian(rng, 2, 2, 70, 32), gaussian(rng, 2, 2, 70, 24)
    mask = rng.random((2, 1, 40, 70)) < 0.8
    for kwargs in ({"attn_mask": mask}, {"is_causal": True}, {"scale": 0.3}):
        tkw = {key: torch.from_numpy(val) if isinstance(val, np.ndarray) else val
               for key, val in kwargs.items()}
        want = torch.nn.functional.scaled_dot_product_attention(
            torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), enable_gqa=True,
            **tkw).numpy()
        got = fastattn.scaled_dot_product_attention(q, k, v, enable_gqa=True, **kwargs)
        np.testing.assert_allclose(got, want, atol=2e-5)
