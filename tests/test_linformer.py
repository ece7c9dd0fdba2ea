"""Linformer: every compiled variant against reference/linformer.py, identity projections
equal to dense attention, and the projections themselves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import dense as dense_ref
from fastattn.reference import linformer as ref
from helpers import (
    F32_EPS,
    check_nan_like_reference,
    check_out_convention,
    compiled,
    f32_tolerance,
    gaussian,
    non_finite_inputs,
)

VARIANTS = compiled("linformer-f32")
KC = fastattn.linformer.KC  # keys per projection block, read from the library


def check_close(out, expected, q, kp, v, scale):
    """The dense float32 bound on the projected keys (logits q·(E k)) and values (F v)."""
    logit = float(np.abs(q).max() * np.abs(kp).max() * q.shape[-1] * scale)
    tol = f32_tolerance(logit, kp.shape[-2]) * max(1.0, float(np.abs(v).max()))
    err = np.abs(out.astype(np.float64) - expected).max()
    assert err <= tol, (err, tol)


@pytest.mark.parametrize("variant", VARIANTS)
@given(
    kv_heads=st.integers(1, 2),
    group=st.integers(1, 2),
    lq=st.sampled_from([1, 7, 143, 145]),
    lk=st.sampled_from([1, 2, 100, KC - 1, KC, KC + 1, 2 * KC + 17]),
    r_frac=st.sampled_from([0.0, 0.02, 0.1, 0.5, 1.0]),
    d=st.sampled_from([1, 8, 17]),
    dv=st.sampled_from([1, 8, 16, 33]),
    kind=st.sampled_from(["gaussian", "mean", "two"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference(variant, kv_heads, group, lq, lk, r_frac, d, dv, kind, seed):
    rng = np.random.default_rng(seed)
    heads = kv_heads * group
    r = max(1, int(round(r_frac * lk)))
    q = gaussian(rng, heads, lq, d)
    k = gaussian(rng, 1, kv_heads, lk, d)  # broadcast over the batch of v
    v = gaussian(rng, 2, kv_heads, lk, dv)
    e = fastattn.linformer_projection(lk, r, kind="mean" if kind == "mean" else "gaussian",
                                      seed=seed % 1000)
    f = fastattn.linformer_projection(lk, r, seed=seed % 1000 + 1) if kind == "two" else None
    out = fastattn.linformer_attention(q, k, v, proj_k=e, proj_v=f, variant=variant)
    expected = ref.linformer_attention(q, k, v, e, f)
    check_close(out, expected, q, e.astype(np.float64) @ k, (e if f is None else f) @ v,
                1 / np.sqrt(d))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("lq,lk", [(1, 1), (145, KC + 1), (300, 2 * KC + 3)])
def test_identity_projection_is_dense_attention(variant, lq, lk):
    rng = np.random.default_rng(lq + lk)
    q, k, v = gaussian(rng, 1, 4, lq, 32), gaussian(rng, 1, 2, lk, 32), gaussian(rng, 1, 2, lk, 24)
    eye = np.eye(lk, dtype=np.float32)
    out = fastattn.linformer_attention(q, k, v, proj_k=eye, variant=variant)
    check_close(out, dense_ref.attention(q, k, v), q, k, v, 1 / np.sqrt(32))
    np.testing.assert_allclose(out, fastattn.attention(q, k, v), atol=2e-6)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", ["gaussian", "mean"])
def test_non_finite_inputs_propagate_like_reference(variant, kind):
    """NaN and inf reach the scores (an inf key makes +-inf projected scores, so some rows'
    max is +inf): the softmax's non-finite path, beside the fast one for finite maxima. With
    mean pooling, most blocks of the projection are zero, and 0 x inf is NaN: the kernel
    skips zero blocks only against finite keys and values, so NaN lands where it does in
    the reference."""
    q, k, v = non_finite_inputs(40, 3 * KC, q={(0, 3, 1): np.nan}, k={(1, KC + 77, 0): np.inf},
                                v={(0, 12, 4): np.nan})  # the inf key in the second block
    e = fastattn.linformer_projection(3 * KC, 60, kind=kind, seed=2)
    out = fastattn.linformer_attention(q, k, v, proj_k=e, variant=variant)
    check_nan_like_reference(out, ref.linformer_attention, q, k, v, e)


@pytest.mark.parametrize("variant", VARIANTS)
def test_zero_projection_blocks_against_an_inf_key(variant):
    """Projection rows 0-11 see every key, rows 12-23 only the first block (12: whole row
    tiles of every ISA): an inf key in the second block makes rows 0-11 inf and, since
    0 x inf is NaN, rows 12-23 NaN in the reference; skipping the zero blocks there would
    leave them finite."""
    q, k, v = non_finite_inputs(40, 2 * KC, k={(1, KC + 5, 0): np.inf})
    e = np.zeros((24, 2 * KC), np.float32)
    e[:12], e[12:, :KC] = 1.0 / (2 * KC), 1.0 / KC
    out = fastattn.linformer_attention(q, k, v, proj_k=e, variant=variant)
    check_nan_like_reference(out, ref.linformer_attention, q, k, v, e)
    assert not np.isnan(out[0]).any() and np.isnan(out[1]).any()


@pytest.mark.parametrize("variant", VARIANTS)
def test_large_logits(variant):
    """Scores hundreds of binary orders below their row's max: the softmax exp's clamp."""
    rng = np.random.default_rng(8)
    q, k, v = gaussian(rng, 2, 50, 16) * 30, gaussian(rng, 2, 300, 16), gaussian(rng, 2, 300, 8)
    e = fastattn.linformer_projection(300, 70, seed=3)
    out = fastattn.linformer_attention(q, k, v, proj_k=e, variant=variant)
    check_close(out, ref.linformer_attention(q, k, v, e), q, e.astype(np.float64) @ k, v, 0.25)
    assert np.isfinite(out).all()


def test_projections():
    e = fastattn.linformer_projection(1000, 64, kind="mean")
    np.testing.assert_allclose(e.sum(axis=1), 1.0, rtol=1e-6)      # each row averages
    assert np.all((e > 0).sum(axis=0) == 1)                          # one segment per key
    assert np.all(np.diff(np.argmax(e > 0, axis=1)) > 0)             # contiguous, in order
    g = fastattn.linformer_projection(4096, 256, seed=1).astype(np.float64)
    assert g.shape == (256, 4096) and g.dtype == np.float64
    assert abs(g.var() * 256 - 1) < 0.02                             # N(0, 1/r) entries
    np.testing.assert_array_equal(fastattn.linformer_projection(4096, 256, seed=1), g)
    np.testing.assert_array_equal(fastattn.linformer_projection(5, 5, kind="mean"), np.eye(5))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_round_trip(dtype):
    rng = np.random.default_rng(5)
    q, k, v = (gaussian(rng, 3, 70, 16).astype(dtype) for _ in range(3))
    e = fastattn.linformer_projection(70, 20)
    out = fastattn.linformer_attention(q, k, v, proj_k=e.astype(dtype))
    assert out.dtype == dtype
    tol = 2e-3 if dtype == np.float16 else 1e-5
    expected = ref.linformer_attention(q, k, v, e.astype(dtype))
    np.testing.assert_allclose(out.astype(np.float64), expected, atol=tol * 4)


def test_gqa_and_threads():
    rng = np.random.default_rng(6)
    q, k = gaussian(rng, 2, 6, 200, 16), gaussian(rng, 2, 2, 300, 16)
    v = gaussian(rng, 2, 2, 300, 16)
    e = fastattn.linformer_projection(300, 40)
    out = fastattn.linformer_attention(q, k, v, proj_k=e, num_threads=1)
    for h in range(6):
        np.testing.assert_array_equal(
            out[:, h], fastattn.linformer_attention(q[:, h], k[:, h // 3], v[:, h // 3],
                                                    proj_k=e, num_threads=1))
    for n in (2, 5):
        np.testing.assert_array_equal(
            fastattn.linformer_attention(q, k, v, proj_k=e, num_threads=n), out)


def test_bad_input_names_the_argument():
    x = np.ones((2, 8, 4), dtype=np.float32)
    e = np.ones((4, 8), dtype=np.float32) / 8
    with pytest.raises(ValueError, match="r must be at most lk"):
        fastattn.linformer_projection(8, 9)
    with pytest.raises(ValueError, match="kind"):
        fastattn.linformer_projection(8, 4, kind="learned")
    with pytest.raises(ValueError, match="proj_k"):
        fastattn.linformer_attention(x, x, x, proj_k=np.ones((4, 7)))
    with pytest.raises(ValueError, match="proj_k"):
        fastattn.linformer_attention(x, x, x, proj_k=np.ones((9, 8)))  # r > Lk
    with pytest.raises(ValueError, match="proj_v"):
        fastattn.linformer_attention(x, x, x, proj_k=e, proj_v=np.ones((3, 8)))
    with pytest.raises(ValueError, match="causal"):
        fastattn.linformer_attention(x, x, x, proj_k=e, causal=True)
    with pytest.raises(TypeError, match="proj_k"):
        fastattn.linformer_attention(x, x, x)
    with pytest.raises(TypeError, match="mask"):
        fastattn.linformer_attention(x, x, x, proj_k=e, mask=np.ones((8, 8), bool))


@pytest.mark.parametrize("variant", VARIANTS)
@given(blocks=st.integers(1, 2), lq=st.sampled_from([16, 48, 64]), r=st.sampled_from([16, 48, 256]),
       d=st.sampled_from([16, 64]), dv=st.sampled_from([16, 64, 80]),
       seed=st.integers(0, 2**32 - 1))
def test_gemm_parts_alone(variant, blocks, lq, r, d, dv, seed):
    """fastattn.linformer.gemm_parts_call (what the benchmark of the GEMM-shaped parts
    times): kp = e k, vp = e v and out = (q kpᵀ) vp against float64, within the rounding
    bound of those sums of products (n u |A||B| for sums of n terms)."""
    rng = np.random.default_rng(seed)
    lk = blocks * KC
    e, k, q = gaussian(rng, r, lk), gaussian(rng, lk, d), gaussian(rng, lq, d)
    v = gaussian(rng, lk, dv)
    run, kp, vp, out = fastattn.linformer.gemm_parts_call(e, k, v, q, variant=variant)
    run()
    e64, k64, v64, q64 = (x.astype(np.float64) for x in (e, k, v, q))
    kp_abs, vp_abs = np.abs(e64) @ np.abs(k64), np.abs(e64) @ np.abs(v64)
    np.testing.assert_array_less(np.abs(kp - e64 @ k64), 2 * F32_EPS * lk * kp_abs + 1e-30)
    np.testing.assert_array_less(np.abs(vp - e64 @ v64), 2 * F32_EPS * lk * vp_abs + 1e-30)
    out64 = (q64 @ (e64 @ k64).T) @ (e64 @ v64)
    out_abs = (np.abs(q64) @ kp_abs.T) @ vp_abs
    np.testing.assert_array_less(np.abs(out - out64),
                                 2 * F32_EPS * (d + r + 2 * lk) * out_abs + 1e-30)
    with pytest.raises(ValueError, match="FA_ERR_SHAPE"):  # lq not a multiple of 16
        fastattn.linformer.gemm_parts_call(e, k, v, q[:lq - 1], variant=variant)[0]()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("d, dv, r", [(64, 64, 100), (50, 64, 256), (64, 80, 61)])
def test_wide_tiles_match_reference(variant, d, dv, r):
    """Head sizes where every projection and attention tile call can take four 16-column
    panels (AVX-512: 6 x 64 tiles, 6-row tiles of the projection, 12-row query blocks),
    or all but the last (dv = 80); r and lq not multiples of 6, 8, 12 or 16."""
    rng = np.random.default_rng(d * 1000 + dv + r)
    lq, lk = 145, KC + 1
    q, k, v = gaussian(rng, 2, lq, d), gaussian(rng, 1, lk, d), gaussian(rng, 1, lk, dv)
    for f in (None, fastattn.linformer_projection(lk, r, seed=2)):
        e = fastattn.linformer_projection(lk, r, seed=1)
        out = fastattn.linformer_attention(q, k, v, proj_k=e, proj_v=f, variant=variant)
        expected = ref.linformer_attention(q, k, v, e, f)
        check_close(out, expected, q, e.astype(np.float64) @ k, (e if f is None else f) @ v,
                    1 / np.sqrt(d))


@pytest.mark.parametrize("variant", VARIANTS)
def test_out_follows_numpys_convention(variant):
    rng = np.random.default_rng(12)
    q, k, v = (gaussian(rng, 2, 96, 32) for _ in range(3))
    e = fastattn.linformer_projection(96, 40)
    check_out_convention(lambda q, k, v, out: fastattn.linformer_attention(
        q, k, v, proj_k=e, variant=variant, num_threads=1, out=out), q, k, v)


@pytest.mark.parametrize("which", ["proj_k", "proj_v"])
def test_out_overlapping_a_projection_gets_the_result(which):
    rng = np.random.default_rng(13)  # the projection is the first rows of head 0's output
    q, k, v = (gaussian(rng, 3, 64, 32) for _ in range(3))
    proj = {"proj_k": fastattn.linformer_projection(64, 16),
            "proj_v": fastattn.linformer_projection(64, 16, seed=1)}
    want = fastattn.linformer_attention(q, k, v, **proj, num_threads=1)
    out = np.empty(want.shape, np.float32)
    shared = out.reshape(-1)[:proj[which].size].reshape(proj[which].shape)
    shared[...] = proj[which]
    got = fastattn.linformer_attention(q, k, v, **{**proj, which: shared}, num_threads=1,
                                       out=out)
    assert got is out
    np.testing.assert_array_equal(out, want)
