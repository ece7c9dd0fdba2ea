"""The int8-weight GEMM (csrc/gemm/): every compiled variant against the exact integer
reference (fastattn.reference.gemm_int8), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn import _core
from fastattn.reference import gemm_int8 as ref
from helpers import runnable

NR, KALIGN, KMAX = _core.GEMM_I8_NR, _core.GEMM_I8_KALIGN, _core.GEMM_I8_KMAX
VARIANTS = runnable("gemm-i8")

# Sizes crossing the tiles: rows (MR 4 or 8, 32 per job), channels (16 per panel, 64 per
# job) and inputs (padded to 16).
ROWS = st.sampled_from([1, 3, 4, 7, 8, 9, 31, 32, 33, 70])
CHANNELS = st.sampled_from([1, 15, 16, 17, 63, 64, 65, 100])
INPUTS = st.sampled_from([1, 3, 4, 15, 16, 17, 48, 100])


def run_gemm(layer, xq, xs, xsum, variant, threads=1):
    """The kernel on pre-quantised activations (x = None): the integer path alone."""
    out = np.empty((xq.shape[0], layer.out_features), dtype=np.float32)
    padded = np.zeros((xq.shape[0], layer.kp), dtype=np.int8)
    padded[:, :xq.shape[1]] = xq
    _core.gemm_i8(None, padded, xs, xsum, layer.packed, layer._scale_padded,
                  layer._bias_padded, out, layer.out_features, layer.in_features,
                  fastattn._dispatch.GEMM_I8.resolve(variant).index, threads)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@given(m=ROWS, n=CHANNELS, k=INPUTS, seed=st.integers(0, 2**16))
def test_integer_gemm_is_exact(variant, m, n, k, seed):
    rng = np.random.default_rng(seed)
    layer = fastattn.Int8Linear(rng.standard_normal((n, k)), rng.standard_normal(n))
    xq = rng.integers(-127, 128, (m, k)).astype(np.int8)
    xs = rng.uniform(0.01, 2, m).astype(np.float32)
    xsum = xq.sum(axis=1, dtype=np.int32)
    out = run_gemm(layer, xq, xs, xsum, variant, threads=2)
    want = ref.gemm(xq, xs, layer.weight_int8, layer.weight_scale, layer.bias)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("variant", VARIANTS)
@given(m=ROWS, n=CHANNELS, k=INPUTS, scale=st.sampled_from([1e-3, 1.0, 1e4]),
       zero_row=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_equals_reference(variant, m, n, k, scale, zero_row, seed):
    """Quantisation of weights (once) and activations (per call) as the reference: the
    float output is the reference's bit for bit."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, k)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    x = (rng.standard_normal((m, k)) * scale).astype(np.float32)
    if zero_row:
        x[m // 2] = 0
    layer = fastattn.Int8Linear(w, b)
    wq, ws = ref.quantize_rows(w)
    np.testing.assert_array_equal(layer.weight_int8, wq)
    np.testing.assert_array_equal(layer.weight_scale, ws)
    np.testing.assert_array_equal(layer(x, variant=variant), ref.linear(x, w, b))


@pytest.mark.parametrize("variant", VARIANTS)
def test_extreme_values_do_not_overflow(variant):
    """±127 everywhere at the largest K: the sums (and VNNI's biased u8 sums, up to
    255 · 127 · K) stay exact in int32."""
    k = KMAX
    w = np.full((2 * NR, k), 1.0, dtype=np.float32)
    w[NR:] = -1.0
    layer = fastattn.Int8Linear(w)
    xq = np.full((3, k), 127, dtype=np.int8)
    xq[1] = -127
    xs = np.ones(3, dtype=np.float32)
    out = run_gemm(layer, xq, xs, xq.sum(axis=1, dtype=np.int32), variant)
    want = ref.gemm(xq, xs, layer.weight_int8, layer.weight_scale)
    np.testing.assert_array_equal(out, want)
    assert abs(out).max() == pytest.approx(127 * k, rel=1e-6)  # acc 127² K times 1/127


def test_threads_do_not_change_results():
    rng = np.random.default_rng(3)
    layer = fastattn.Int8Linear(rng.standard_normal((200, 96)))
    x = rng.standard_normal((150, 96)).astype(np.float32)
    np.testing.assert_array_equal(layer(x, num_threads=1), layer(x, num_threads=2))


def test_accuracy_against_float32():
    """Documented accuracy: about 1 % relative error on unit-variance data at K = 384."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((384, 384)).astype(np.float32) / np.sqrt(384)
    x = rng.standard_normal((256, 384)).astype(np.float32)
    y, exact = fastattn.Int8Linear(w)(x), x @ w.T
    assert np.linalg.norm(y - exact) / np.linalg.norm(exact) < 0.015


def test_shapes_strides_and_dtypes():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((40, 24))
    layer = fastattn.Int8Linear(w)
    x = rng.standard_normal((2, 3, 48))[..., ::2]  # strided last axis, float64, 3-d
    y = layer(x)
    assert y.shape == (2, 3, 40) and y.dtype == np.float32
    np.testing.assert_array_equal(y.reshape(6, 40),
                                  ref.linear(x.reshape(6, 24).astype(np.float32), w))
    assert layer(np.zeros((0, 24))).shape == (0, 40)
    np.testing.assert_allclose(layer.dequantize(), w, atol=np.abs(w).max() / 254 + 1e-7)


def test_bad_inputs():
    w = np.ones((8, 4), dtype=np.float32)
    with pytest.raises(TypeError, match="weight must be a float array"):
        fastattn.Int8Linear(w.astype(np.int8))
    with pytest.raises(ValueError, match="weight must be 2-d"):
        fastattn.Int8Linear(w[0])
    with pytest.raises(ValueError, match="weight must be finite"):
        fastattn.Int8Linear(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="bias must have shape"):
        fastattn.Int8Linear(w, np.ones(3))
    with pytest.raises(ValueError, match="in_features"):
        fastattn.Int8Linear(np.ones((1, KMAX + 1), dtype=np.float32))
    layer = fastattn.Int8Linear(w)
    with pytest.raises(ValueError, match="x must have last dim in_features=4"):
        layer(np.ones((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="x must be finite"):
        layer(np.array([[1, np.inf, 0, 0]], dtype=np.float32))
    with pytest.raises(ValueError, match="unknown variant"):
        layer(np.ones((2, 4), dtype=np.float32), variant="i8-nope")
