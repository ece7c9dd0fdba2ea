"""Linear attention: every compiled variant against reference/linear.py, and the reference's
causal prefix sums against the explicit quadratic masked form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import linear as ref
from helpers import (
    F32_EPS,
    attention_shapes,
    check_nan_like_reference,
    check_out_convention,
    compiled,
    gaussian,
    non_finite_inputs,
    same_from_python_threads,
)

VARIANTS = compiled("linear-f32")
C = fastattn.linear.CHUNK  # rows per causal chunk, read from the library
EDGE_LENGTHS = st.sampled_from(sorted({1, 2, C - 1, C, C + 1, 2 * C + 3, 3 * C - 1, 3 * C + 5}))
DIMS = st.sampled_from([1, 3, 8, 16, 17, 33, 64])
MAPS = st.sampled_from(list(fastattn.linear.FEATURE_MAPS))


def tolerance(d: int, lk: int, v) -> float:
    """Every weight phi(q)·phi(k) >= 0, so the output is a convex combination of value rows
    and float32 errors are relative ones: of each weight (a D-term dot product of
    non-negative terms, D eps at worst) and of the key sums (Lk terms in a blocked order,
    about sqrt(Lk) eps), times max |v|; the exp polynomial adds < 2e-7. Measured errors
    stay below a third of this bound."""
    return 2 * F32_EPS * (4 + d + np.sqrt(lk)) * max(1.0, float(np.abs(v).max()))


def check_close(out, expected, d, lk, v):
    assert out.shape == expected.shape
    err = np.abs(out.astype(np.float64) - expected).max(initial=0.0)
    assert err <= tolerance(d, lk, v), (err, tolerance(d, lk, v))


@pytest.mark.parametrize("variant", VARIANTS)
@given(
    shape=attention_shapes(EDGE_LENGTHS, DIMS),
    causal=st.booleans(),
    feature_map=MAPS,
    value_scale=st.sampled_from([0.1, 1.0, 8.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference(variant, shape, causal, feature_map, value_scale, seed):
    rng = np.random.default_rng(seed)
    q, k, v = shape.inputs(rng, q_scale=value_scale, k_scale=value_scale)
    out = fastattn.linear_attention(q, k, v, feature_map=feature_map, causal=causal,
                                    variant=variant)
    expected = ref.linear_attention(q, k, v, feature_map, causal)
    check_close(out, expected, shape.d, shape.lk, v)


@given(lq=st.integers(1, 12), lk=st.integers(1, 12), feature_map=MAPS,
       offset=st.sampled_from([None, 0, -3, 4]), seed=st.integers(0, 2**32 - 1))
def test_reference_prefix_sums_equal_quadratic_masked_form(lq, lk, feature_map, offset, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((2, lq, 5)), rng.standard_normal((2, lk, 5)), rng.standard_normal(
        (2, lk, 3))
    got = ref.linear_attention(q, k, v, feature_map, causal=True, causal_offset=offset)
    want = ref.quadratic_form(q, k, v, feature_map, causal=True, causal_offset=offset)
    np.testing.assert_allclose(got, want, atol=1e-12, rtol=1e-10)
    np.testing.assert_allclose(ref.linear_attention(q, k, v, feature_map),
                               ref.quadratic_form(q, k, v, feature_map), atol=1e-12, rtol=1e-10)


def test_reference_quadratic_form_is_kernel_attention():
    """The quadratic form row by row: weights phi(q_i)·phi(k_j), normalised."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((4, 3)), rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    phi_q, phi_k = ref.elu_plus_one(q), ref.elu_plus_one(k)
    for i in range(4):
        w = np.array([phi_q[i] @ phi_k[j] for j in range(6) if j <= i + 2])
        want = w @ v[: len(w)] / w.sum()
        np.testing.assert_allclose(ref.quadratic_form(q, k, v, causal=True)[i], want)


@pytest.mark.parametrize("variant", VARIANTS)
def test_kernel_causal_equals_quadratic_form_across_chunks(variant):
    rng = np.random.default_rng(1)
    for lq, lk in ((3 * C + 1, 3 * C + 1), (C + 7, 2 * C), (2 * C + 5, C - 3)):
        q, k, v = gaussian(rng, 2, lq, 16), gaussian(rng, 2, lk, 16), gaussian(rng, 2, lk, 24)
        out = fastattn.linear_attention(q, k, v, causal=True, variant=variant)
        check_close(out, ref.quadratic_form(q, k, v, causal=True), 16, lk, v)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rows_without_keys_or_weight_are_zero(variant):
    rng = np.random.default_rng(2)
    q, k, v = gaussian(rng, 2, 150, 8), gaussian(rng, 2, 40, 8), gaussian(rng, 2, 40, 8)
    out = fastattn.linear_attention(q, k, v, causal=True, variant=variant)
    assert np.all(out[:, :110] == 0) and np.all(out[:, 110:] != 0)  # bottom-right alignment
    out = fastattn.linear_attention(-np.abs(q), k, v, feature_map="relu", variant=variant)
    assert np.all(out == 0)  # relu features of negative queries are all 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_non_finite_inputs_propagate_like_reference(variant):
    q, k, v = non_finite_inputs(90, 100, q={(0, 3, 1): np.nan}, v={(1, 77, 0): np.nan})
    check_nan_like_reference(fastattn.linear_attention(q, k, v, variant=variant),
                             ref.linear_attention, q, k, v)
    # Causal: a NaN query stays in its row; a NaN value reaches every later row, and may
    # also reach the earlier rows of its own chunk (masked weights are 0, and 0 * NaN).
    out = fastattn.linear_attention(q, k, v, causal=True, variant=variant)
    row = 77 - 10  # key 77 is first seen by query 67 (Lk - Lq = 10)
    assert np.isnan(out[0, 3]).all() and np.isfinite(np.delete(out[0], 3, axis=0)).all()
    assert np.isnan(out[1, row:, 0]).all() and np.isfinite(out[1, : row - row % C]).all()
    assert np.isfinite(out[1, :, 1:]).all()


@pytest.mark.parametrize("variant", VARIANTS)
def test_strided_broadcast_and_gqa_inputs(variant):
    rng = np.random.default_rng(4)
    q = gaussian(rng, 2, 6, 100, 2 * 32)[..., ::2]          # non-contiguous last axis
    k = np.swapaxes(gaussian(rng, 1, 2, 32, 90), -1, -2)      # batch broadcast, transposed
    v = gaussian(rng, 1, 2, 90, 40)[..., :33]
    for causal in (False, True):
        out = fastattn.linear_attention(q, k, v, causal=causal, variant=variant)
        assert out.shape == (2, 6, 100, 33)
        check_close(out, ref.linear_attention(q, k, v, causal=causal), 32, 90, v)
        for h in range(6):  # query head h reads key/value head h // 3
            single = fastattn.linear_attention(q[:, h], k[:, h // 3], v[:, h // 3],
                                               causal=causal, variant=variant)
            np.testing.assert_array_equal(out[:, h], single)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_round_trip(dtype):
    rng = np.random.default_rng(5)
    q, k, v = (gaussian(rng, 3, 70, 16).astype(dtype) for _ in range(3))
    out = fastattn.linear_attention(q, k, v, causal=True)
    assert out.dtype == dtype
    tol = 2e-3 if dtype == np.float16 else 1e-5  # float16 output rounding: 2^-11 relative
    np.testing.assert_allclose(out.astype(np.float64), ref.linear_attention(q, k, v, causal=True),
                               atol=tol * 4)


def test_threads_give_identical_results():
    """One thread runs both query heads of a kv head in one job (its key side once), seven
    threads one head a job: the same numbers."""
    rng = np.random.default_rng(6)
    q = gaussian(rng, 2, 4, 300, 32)
    k, v = gaussian(rng, 2, 2, 300, 32), gaussian(rng, 2, 2, 300, 32)
    one = fastattn.linear_attention(q, k, v, causal=True, num_threads=1)
    for n in (2, 3, 7):
        np.testing.assert_array_equal(
            fastattn.linear_attention(q, k, v, causal=True, num_threads=n), one)


def test_concurrent_calls_from_python_threads():
    rng = np.random.default_rng(7)
    inputs = [tuple(gaussian(rng, 2, 150, 16) for _ in range(3)) for _ in range(4)]
    same_from_python_threads(fastattn.linear_attention, inputs, repeats=3)


def test_bad_input_names_the_argument():
    x = np.ones((2, 8, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="feature_map"):
        fastattn.linear_attention(x, x, x, feature_map="softmax")
    with pytest.raises(TypeError, match="causal"):
        fastattn.linear_attention(x, x, x, causal="yes")
    with pytest.raises(TypeError, match="mask"):
        fastattn.linear_attention(x, x, x, mask=np.ones((8, 8), bool))  # no mask: never dropped
    with pytest.raises(TypeError):
        fastattn.linear_attention(x, x, x, "relu")  # options are keyword-only
    with pytest.raises(ValueError, match="variant"):
        fastattn.linear_attention(x, x, x, variant="f32-nope")
    with pytest.raises(ValueError, match="last dim"):
        fastattn.linear_attention(x, x[..., :3], x)


@pytest.mark.parametrize("variant", VARIANTS)
@given(lk_chunks=st.integers(1, 3), lq_chunks=st.integers(1, 3), d=st.sampled_from([16, 48, 64]),
       dv=st.sampled_from([16, 32, 80]), seed=st.integers(0, 2**32 - 1))
def test_gemm_parts_alone(variant, lk_chunks, lq_chunks, d, dv, seed):
    """fastattn.linear.gemm_parts_call (what the benchmark of the GEMM-shaped parts times):
    s = kfᵀ v and num = qf s, against float64 (sums of lk and then d products)."""
    rng = np.random.default_rng(seed)
    lk, lq = lk_chunks * C, lq_chunks * C
    kf, qf = rng.random((lk, d), np.float32), rng.random((lq, d), np.float32)
    v = gaussian(rng, lk, dv)
    run, s, num = fastattn.linear.gemm_parts_call(kf, v, qf, variant=variant)
    run()
    s64 = kf.astype(np.float64).T @ v
    bound = 4 * F32_EPS * lk * float(np.abs(v).max())
    np.testing.assert_allclose(s, s64, rtol=0, atol=bound)
    np.testing.assert_allclose(num, qf @ s64, rtol=0, atol=bound * d * 2)
    with pytest.raises(ValueError):
        fastattn.linear.gemm_parts_call(kf[:C - 1], v[:C - 1], qf, variant=variant)


@pytest.mark.parametrize("variant", VARIANTS)
def test_out_is_written_in_place_and_returned(variant):
    rng = np.random.default_rng(8)
    q, k, v = gaussian(rng, 2, 3, 130, 16), gaussian(rng, 2, 3, 90, 16), gaussian(rng, 2, 3, 90, 24)
    for causal in (False, True):
        want = fastattn.linear_attention(q, k, v, causal=causal, variant=variant, num_threads=1)
        out = np.full(want.shape, np.nan, np.float32)
        got = fastattn.linear_attention(q, k, v, causal=causal, variant=variant, num_threads=1,
                                        out=out)
        assert got is out
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("causal", [False, True])
def test_out_of_any_layout_dtype_or_overlap_gets_the_result(causal):
    rng = np.random.default_rng(9)
    q, k, v = (gaussian(rng, 2, 100, 32) for _ in range(3))
    check_out_convention(lambda q, k, v, out: fastattn.linear_attention(
        q, k, v, causal=causal, num_threads=1, out=out), q, k, v)
