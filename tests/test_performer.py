"""Performer (FAVOR+): every compiled variant against reference/performer.py, the feature
matrix, and the estimator's error against exact softmax attention falling with m."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import dense as dense_ref
from fastattn.reference import linear as linear_ref
from fastattn.reference import performer as ref
from helpers import F32_EPS, check_out_convention, compiled, gaussian

VARIANTS = compiled("performer-f32")
C = fastattn.linear.CHUNK
EDGE_LENGTHS = st.sampled_from(sorted({1, 2, C - 1, C, C + 1, 2 * C + 3, 3 * C + 5}))
DIMS = st.sampled_from([1, 3, 8, 16, 17, 32])
FEATURES = st.sampled_from([1, 5, 16, 17, 64, 100, 256])


def tolerance(q, k, w, scale, v) -> float:
    """Weights are positive, so the output is a convex combination of value rows. Each
    feature exp(e) carries a relative error of about eps |e| (e = w·x' - |x'|²/2 rounded in
    float32, e up to |w||x'| + |x'|²/2), plus the m-term and Lk-term sums: relative errors
    of the weights, times max |v|."""
    root = np.sqrt(scale)
    xmax = root * max(np.linalg.norm(q, axis=-1).max(), np.linalg.norm(k, axis=-1).max())
    exponent = np.linalg.norm(w, axis=-1).max() * xmax + xmax * xmax / 2
    m, lk = w.shape[0], k.shape[-2]
    return 1.5 * F32_EPS * (8 + 2 * exponent + np.sqrt(m) + np.sqrt(lk)) * max(
        1.0, float(np.abs(v).max()))


@pytest.mark.parametrize("variant", VARIANTS)
@given(
    kv_heads=st.integers(1, 2),
    group=st.integers(1, 2),
    lq=EDGE_LENGTHS,
    lk=EDGE_LENGTHS,
    d=DIMS,
    dv=DIMS,
    m=FEATURES,
    causal=st.booleans(),
    logit_scale=st.sampled_from([0.3, 1.0, 2.0]),
    scale=st.sampled_from([None, 0.05]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference(variant, kv_heads, group, lq, lk, d, dv, m, causal, logit_scale,
                           scale, seed):
    rng = np.random.default_rng(seed)
    heads = kv_heads * group
    q = gaussian(rng, 2, heads, lq, d, scale=logit_scale)
    k = gaussian(rng, 2, kv_heads, lk, d, scale=logit_scale)
    v = gaussian(rng, 1, kv_heads, lk, dv)  # batch broadcast
    w = fastattn.performer_features(d, num_features=m, seed=seed % 1000)
    out = fastattn.performer_attention(q, k, v, features=w, causal=causal, scale=scale,
                                       variant=variant)
    expected = ref.performer_attention(q, k, v, w, causal=causal, scale=scale)
    s = 1 / np.sqrt(d) if scale is None else scale
    err = np.abs(out.astype(np.float64) - expected).max()
    assert err <= tolerance(q, k, w, s, v), (err, tolerance(q, k, w, s, v))


def test_reference_causal_equals_quadratic_masked_form():
    """The prefix sums of the causal estimate against explicit masked weights of the same
    random features, and the features' product against exp(q·k·scale) up to per-row and
    per-key constants."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((9, 4)), rng.standard_normal((13, 4)), rng.standard_normal(
        (13, 3))
    w = rng.standard_normal((50, 4))
    got = ref.performer_attention(q, k, v, w, causal=True)
    pq = ref.positive_features(q / np.sqrt(2), w, per_row=True)
    pk = ref.positive_features(k / np.sqrt(2), w, per_row=False)
    a = (pq @ pk.T) * (np.arange(13)[None, :] <= np.arange(9)[:, None] + 4)
    np.testing.assert_allclose(got, a @ v / a.sum(axis=1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(
        linear_ref.attention_from_features(pq, pk, v, causal=True), got, rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("causal", [False, True])
def test_error_against_softmax_falls_with_num_features(variant, causal):
    """FAVOR+ is unbiased with variance ~ 1/m: the relative error to exact attention, averaged
    over 3 feature seeds, must fall at every step of m = 16, 64, 256, 1024 and by at least 4x
    overall (1/sqrt(m) predicts 8x), on inputs whose logits are small enough for the
    estimator to be useful (|q'|, |k'| ~ 0.75)."""
    rng = np.random.default_rng(11)
    q, k = gaussian(rng, 1, 2, 300, 16, scale=0.3), gaussian(rng, 1, 2, 300, 16, scale=0.3)
    v = gaussian(rng, 1, 2, 300, 16)
    exact = dense_ref.attention(q, k, v, causal=causal)
    errors = []
    for m in (16, 64, 256, 1024):
        runs = [fastattn.performer_attention(q, k, v, num_features=m, seed=s, causal=causal,
                                             variant=variant) for s in range(3)]
        errors.append(np.mean([np.linalg.norm(r - exact) / np.linalg.norm(exact) for r in runs]))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] * 4 < errors[0], errors
    assert errors[-1] < 0.05, errors


def test_orthogonal_features_beat_iid_ones():
    """The point of orthogonal blocks: lower estimator error at the same m (averaged over
    seeds, with m = d so each draw is one full orthogonal block)."""
    rng = np.random.default_rng(12)
    q, k = gaussian(rng, 1, 4, 256, 32, scale=0.35), gaussian(rng, 1, 4, 256, 32, scale=0.35)
    v = gaussian(rng, 1, 4, 256, 32)
    exact = dense_ref.attention(q, k, v)

    def error(kind):
        draws = [fastattn.performer_features(32, num_features=32, kind=kind, seed=s)
                 for s in range(8)]
        return np.mean([np.linalg.norm(fastattn.performer_attention(q, k, v, features=w) - exact)
                        for w in draws])

    assert error("positive_orthogonal") < error("positive_iid")


def test_features_are_orthogonal_blocks_of_gaussian_length():
    w = fastattn.performer_features(16, num_features=40, seed=3).astype(np.float64)
    assert w.shape == (40, 16)
    for start in range(0, 40, 16):
        block = w[start:start + 16]
        gram = block @ block.T
        np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0, atol=1e-4)
    norms = np.linalg.norm(fastattn.performer_features(16, num_features=4096, seed=4), axis=1)
    assert abs(np.mean(norms ** 2) / 16 - 1) < 0.05  # chi²(16) / 16 has mean 1
    assert fastattn.performer_features(16, num_features=40, seed=3).dtype == np.float32
    np.testing.assert_array_equal(fastattn.performer_features(16, num_features=40, seed=3), w)
    assert not np.array_equal(fastattn.performer_features(16, num_features=40, seed=5), w)
    assert not fastattn.performer_features(16, num_features=40, seed=3).flags.writeable


@pytest.mark.parametrize("variant", VARIANTS)
def test_seed_and_features_paths_agree(variant):
    rng = np.random.default_rng(13)
    q, k, v = (gaussian(rng, 2, 70, 8) for _ in range(3))
    a = fastattn.performer_attention(q, k, v, num_features=33, seed=9, variant=variant)
    w = fastattn.performer_features(8, num_features=33, seed=9)
    b = fastattn.performer_attention(q, k, v, features=w, variant=variant)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("variant", VARIANTS)
def test_huge_logits_stay_finite(variant):
    """Exponents of ~1e3 overflow float32 without the shifts; with them the result is
    finite, and without a band it matches the float64 reference: keys are shifted per
    feature and query rows by their denominator's largest term, so no float32 underflow
    loses a key that matters. (Causal: a key's features may still flush to 0 next to a
    later key of the same chunk, 126 binary orders larger, that the row cannot see; so
    only finiteness is asserted there.)"""
    rng = np.random.default_rng(14)
    q, k = gaussian(rng, 1, 2, 150, 16, scale=30.0), gaussian(rng, 1, 2, 150, 16, scale=30.0)
    v = gaussian(rng, 1, 2, 150, 16)
    w = fastattn.performer_features(16, num_features=64, seed=1)
    out = fastattn.performer_attention(q, k, v, features=w, variant=variant)
    # exponents reach ~1e3 (float32 rounding ~1e-4 absolute), so bound loosely
    assert np.abs(out - ref.performer_attention(q, k, v, w)).max() <= 1e-2 * np.abs(v).max()
    assert np.isfinite(fastattn.performer_attention(q, k, v, features=w, causal=True,
                                                    variant=variant)).all()


@pytest.mark.parametrize("variant", VARIANTS)
def test_large_logits_match_reference_causal(variant):
    rng = np.random.default_rng(16)
    q, k = gaussian(rng, 1, 2, 200, 16, scale=3.0), gaussian(rng, 1, 2, 200, 16, scale=3.0)
    v = gaussian(rng, 1, 2, 200, 16)
    w = fastattn.performer_features(16, num_features=64, seed=2)
    out = fastattn.performer_attention(q, k, v, features=w, causal=True, variant=variant)
    expected = ref.performer_attention(q, k, v, w, causal=True)
    assert np.abs(out - expected).max() <= tolerance(q, k, w, 0.25, v)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gqa_heads_and_threads_agree(variant):
    """A job runs every query head of a kv head (its key features and state once) unless
    threads would idle: either way, each head's numbers are those of a one-head call."""
    rng = np.random.default_rng(8)
    q = gaussian(rng, 1, 4, 130, 16)
    k, v = gaussian(rng, 1, 2, 150, 16), gaussian(rng, 1, 2, 150, 8)
    w = fastattn.performer_features(16, num_features=24)
    run = functools.partial(fastattn.performer_attention, features=w, causal=True, variant=variant)
    out = run(q, k, v, num_threads=1)
    np.testing.assert_array_equal(run(q, k, v, num_threads=3), out)
    for h in range(4):
        np.testing.assert_array_equal(out[:, h], run(q[:, h], k[:, h // 2], v[:, h // 2],
                                                     num_threads=1))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_round_trip(dtype):
    rng = np.random.default_rng(15)
    q, k, v = (gaussian(rng, 3, 70, 16).astype(dtype) for _ in range(3))
    w = fastattn.performer_features(16, num_features=64)
    out = fastattn.performer_attention(q, k, v, features=w, causal=True)
    assert out.dtype == dtype
    tol = 2e-3 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(out.astype(np.float64),
                               ref.performer_attention(q, k, v, w, causal=True), atol=tol * 4)


def test_bad_input_names_the_argument():
    x = np.ones((2, 8, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="num_features"):
        fastattn.performer_attention(x, x, x, num_features=0)
    with pytest.raises(ValueError, match="num_features"):
        fastattn.performer_features(4, num_features=0)
    with pytest.raises(ValueError, match="kind"):
        fastattn.performer_features(4, num_features=8, kind="trig")
    with pytest.raises(ValueError, match="features"):
        fastattn.performer_attention(x, x, x, features=np.ones((8, 5)))
    with pytest.raises(ValueError, match="finite"):
        fastattn.performer_attention(x, x, x, features=np.full((8, 4), np.nan))
    with pytest.raises(ValueError, match="scale"):
        fastattn.performer_attention(x, x, x, scale=-1.0)
    with pytest.raises(TypeError, match="causal"):
        fastattn.performer_attention(x, x, x, causal=None)
    with pytest.raises(TypeError, match="mask"):
        fastattn.performer_attention(x, x, x, mask=np.ones((8, 8), bool))
    with pytest.raises(TypeError):
        fastattn.performer_attention(x, x, x, 64)  # keyword-only options


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("causal", [False, True])
def test_out_follows_numpys_convention(variant, causal):
    rng = np.random.default_rng(10)
    q, k, v = (0.3 * gaussian(rng, 2, 100, 32) for _ in range(3))
    w = fastattn.performer_features(32, num_features=48)
    check_out_convention(lambda q, k, v, out: fastattn.performer_attention(
        q, k, v, features=w, causal=causal, variant=variant, num_threads=1, out=out), q, k, v)


def test_out_overlapping_the_features_gets_the_result():
    rng = np.random.default_rng(11)  # the features are the first rows of head 0's output
    q, k, v = (0.3 * gaussian(rng, 3, 64, 16) for _ in range(3))
    w = fastattn.performer_features(16, num_features=32)
    want = fastattn.performer_attention(q, k, v, features=w, num_threads=1)
    out = np.empty(want.shape, np.float32)
    shared = out.reshape(-1)[:w.size].reshape(w.shape)
    shared[...] = w
    assert fastattn.performer_attention(q, k, v, features=shared, num_threads=1, out=out) is out
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("variant", VARIANTS)
@given(lk_chunks=st.integers(1, 3), lq_chunks=st.integers(1, 2), d=st.sampled_from([16, 48, 64]),
       dv=st.sampled_from([16, 32, 80]), m=st.sampled_from([16, 48, 256]),
       seed=st.integers(0, 2**32 - 1))
def test_gemm_parts_alone(variant, lk_chunks, lq_chunks, d, dv, m, seed):
    """fastattn.performer.gemm_parts_call (what the benchmark of the GEMM-shaped parts
    times): s = (w kᵀ) v and num = (q wᵀ) s against float64, within the rounding bound of
    those sums of products (n u |A||B| for sums of n terms, twice over)."""
    rng = np.random.default_rng(seed)
    c = fastattn.linear.CHUNK
    lk, lq = lk_chunks * c, lq_chunks * c
    w, k, q = (gaussian(rng, n, d) for n in (m, lk, lq))
    v = gaussian(rng, lk, dv)
    run, s, num = fastattn.performer.gemm_parts_call(w, k, v, q, variant=variant)
    run()
    w64, k64, v64, q64 = (x.astype(np.float64) for x in (w, k, v, q))
    s64 = (w64 @ k64.T) @ v64
    s_abs = (np.abs(w64) @ np.abs(k64).T) @ np.abs(v64)
    np.testing.assert_array_less(np.abs(s - s64), 2 * F32_EPS * (d + lk) * s_abs + 1e-30)
    num64 = (q64 @ w64.T) @ s64
    num_abs = (np.abs(q64) @ np.abs(w64).T) @ s_abs
    np.testing.assert_array_less(np.abs(num - num64),
                                 2 * F32_EPS * (2 * d + m + lk) * num_abs + 1e-30)
    with pytest.raises(ValueError, match="FA_ERR_SHAPE"):  # d not a multiple of 16
        fastattn.performer.gemm_parts_call(w[:, :d - 1], k[:, :d - 1], v, q[:, :d - 1],
                                           variant=variant)[0]()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("d, dv, m", [(64, 64, 256), (50, 80, 100)])
@pytest.mark.parametrize("causal", [False, True])
def test_wide_tiles_match_reference(variant, d, dv, m, causal):
    """Head sizes whose state update and readout (N = Dv) can take four 16-column panels
    per tile call (AVX-512: 6 x 64 tiles), or all but the last (Dv = 80)."""
    rng = np.random.default_rng(d + dv + m)
    lq = lk = 2 * C + 3
    q, k, v = gaussian(rng, 1, 2, lq, d), gaussian(rng, 1, 2, lk, d), gaussian(rng, 1, 2, lk, dv)
    w = fastattn.performer_features(d, num_features=m, seed=3)
    out = fastattn.performer_attention(q, k, v, features=w, causal=causal, variant=variant)
    expected = ref.performer_attention(q, k, v, w, causal=causal, scale=None)
    err = np.abs(out.astype(np.float64) - expected).max()
    assert err <= tolerance(q, k, w, 1 / np.sqrt(d), v), err
