"""Dense int8 attention: every compiled int8 variant against the int8 reference,
the API around it (quantize, QuantizedTensor, precision=) and bad input. Tolerance:
`helpers.INT8_RTOL` (the integers match the reference exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastattn
from fastattn import _core
from fastattn.reference import int8 as ref8
from helpers import assert_close_i8, check_variant_table, compiled, edges, fallback, gaussian, tile

QTILE, KTILE = tile("i8")  # query rows per block, keys per tile of the int8 engine
QJOB = _core.TILES["i8"]["job_rows"]  # query rows per job: its blocks share each packed key tile
Q_EDGES = sorted([2, QJOB + 1] + edges(QTILE))
K_EDGES = sorted([2] + edges(KTILE))

VARIANTS = compiled("dense-i8")


def run_both(variant, q, k, v, *, mask=None, causal=False, block=ref8.DEFAULT_BLOCK, scale=None):
    """Kernel (via the public API) and reference on the same float inputs."""
    qk = fastattn.quantize(k, block=block)
    qv = fastattn.quantize(v, kind="value")
    out = fastattn.attention(q, qk, qv, mask=mask, causal=causal, scale=scale, precision="int8",
                             variant=variant, num_threads=2)
    ref = ref8.attention(q, k, v, mask=mask, causal=causal, scale=scale, block=block)
    return out, ref


def test_variants_listed():
    check_variant_table("dense-i8", "i8-")


def test_quantize_matches_reference():
    rng = np.random.default_rng(1)
    k = gaussian(rng, 2, 3, 130, 24) + 5.0
    v = gaussian(rng, 2, 3, 130, 20)
    qk = fastattn.quantize(k, block=32)
    ks, mean = ref8.smooth_keys(k)
    data, scale = ref8.quantize_blocks(ks, 32)
    np.testing.assert_array_equal(qk.data, data)
    np.testing.assert_array_equal(qk.scale, scale)
    np.testing.assert_array_equal(qk.mean, mean)
    qv = fastattn.quantize(v, kind="value")
    data, scale = ref8.quantize_channels(v)
    np.testing.assert_array_equal(qv.data, data)
    np.testing.assert_array_equal(qv.scale, scale)
    assert np.abs(qk.dequantize() - k).max() <= qk.scale.max() / 2 + 1e-5
    assert qk.data.min() >= -127 and qv.data.min() >= -127


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("causal", [False, True])
def test_edges(variant, causal):
    rng = np.random.default_rng(2)
    for lq in Q_EDGES:
        for lk in (1, KTILE - 1, KTILE + 1, 2 * KTILE + 3):
            q, k, v = gaussian(rng, 2, lq, 16), gaussian(rng, 2, lk, 16), gaussian(rng, 2, lk, 8)
            out, ref = run_both(variant, q[None], k[None], v[None], causal=causal, block=16)
            assert_close_i8(out, ref)


@pytest.mark.parametrize("variant", VARIANTS)
@settings(max_examples=25)
@given(
    lq=st.sampled_from(Q_EDGES + [70]),
    lk=st.sampled_from(K_EDGES + [200]),
    d=st.integers(1, 80),
    dv=st.integers(1, 72),
    heads=st.sampled_from([(1, 1), (2, 2), (4, 2), (3, 1)]),
    causal=st.booleans(),
    mask_kind=st.sampled_from([None, "bool", "float"]),
    block=st.sampled_from([1, 16, 64, 100]),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_reference(variant, lq, lk, d, dv, heads, causal, mask_kind, block, seed):
    rng = np.random.default_rng(seed)
    hq, hkv = heads
    q = gaussian(rng, 1, hq, lq, d, scale=2.0)
    k = gaussian(rng, 1, hkv, lk, d) + rng.standard_normal(d).astype(np.float32)
    v = gaussian(rng, 1, hkv, lk, dv)
    mask = None
    if mask_kind == "bool":
        mask = rng.random((lq, lk)) < 0.8
    elif mask_kind == "float":
        mask = (rng.standard_normal((1, hq, lq, lk)) * 2).astype(np.float32)
    out, ref = run_both(variant, q, k, v, mask=mask, causal=causal, block=block)
    assert_close_i8(out, ref)


@pytest.mark.parametrize("variant", VARIANTS)
def test_fully_masked_rows_are_zero(variant):
    rng = np.random.default_rng(3)
    q, k, v = gaussian(rng, 1, 1, 70, 32), gaussian(rng, 1, 1, 90, 32), gaussian(rng, 1, 1, 90, 32)
    mask = np.ones((70, 90), bool)
    mask[5] = False
    out, ref = run_both(variant, q, k, v, mask=mask)
    assert_close_i8(out, ref)
    assert np.all(out[0, 0, 5] == 0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_all_equal_keys_and_one_dominant_key(variant):
    rng = np.random.default_rng(4)
    q = gaussian(rng, 1, 2, 65, 64)
    k = np.ones((1, 2, 130, 64), np.float32)
    v = gaussian(rng, 1, 2, 130, 64)
    out, ref = run_both(variant, q, k, v)
    assert_close_i8(out, ref)
    # all keys equal: every P is 127, the output is the mean of the quantised values
    qv = fastattn.quantize(v, kind="value")
    np.testing.assert_allclose(out, np.broadcast_to(qv.dequantize().mean(axis=-2, keepdims=True),
                                                    out.shape), rtol=1e-5, atol=1e-6)
    k = gaussian(rng, 1, 2, 130, 64)
    k[:, :, 77] = 40.0 * q[:, :, :1].mean(axis=2)
    out, ref = run_both(variant, q, k, v)
    assert_close_i8(out, ref)


@pytest.mark.parametrize("variant", VARIANTS)
def test_huge_logits(variant):
    rng = np.random.default_rng(5)
    q, k, v = gaussian(rng, 2, 80, 64, scale=1e4), gaussian(rng, 2, 150, 64, scale=1e4), \
        gaussian(rng, 2, 150, 64)
    out, ref = run_both(variant, q[None], k[None], v[None], causal=True)
    assert_close_i8(out, ref)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("variant", VARIANTS)
def test_int32_bounds_extreme_values(variant):
    """Every q·k at the int32 bound d·63·127 (7-bit queries, d = 65535 < 2¹⁶; on AVX2
    every vpmaddubsw pair of q·k at its int16 bound 2·255·63) and every P·v tile sum at
    128·127·127 (every P·v pair at 2·127·127), over a long sequence: the kernel must equal
    the exact result."""
    d = 65535
    qi = np.full((1, 1, 2, d), 127, np.int8)
    qi[0, 0, 1] = -127
    ki = np.full((1, 1, 3, d), 127, np.int8)
    s = ref8.attend_row(qi[0, 0, 0], np.float32(1e-6), ki[0, 0], np.full(3, 1e-6, np.float32),
                        np.ones((3, 1), np.int8), np.ones(1, np.float32), np.float32(1.0),
                        np.zeros(3, np.float32))[1]
    assert abs(s).max() == d * 127 * 127
    qk = fastattn.QuantizedTensor(ki, np.full((1, 1, 1), 1e-6, np.float32), "key", block=64)
    vdata = np.full((1, 1, 3, 4), 127, np.int8)
    vdata[..., 1] = -127
    qv = fastattn.QuantizedTensor(vdata, np.full((1, 1, 4), 0.5, np.float32), "value")
    q = qi.astype(np.float32)
    out = fastattn.attention(q, qk, qv, precision="int8", variant=variant)
    np.testing.assert_allclose(out[0, 0], np.tile([63.5, -63.5, 63.5, 63.5], (2, 1)), rtol=1e-6)

    lk = 8192  # all keys equal: P = 127 everywhere, P·v tile sums 128·127·127 each
    k = np.ones((1, 1, lk, 64), np.float32)
    vdata = np.where(np.arange(lk)[:, None] % 2 == 0, 127, -127).astype(np.int8)
    vdata = np.broadcast_to(vdata, (1, 1, lk, 64)).copy()
    vdata[..., :, 3] = 127
    qv = fastattn.QuantizedTensor(vdata, np.ones((1, 1, 64), np.float32), "value")
    q = gaussian(np.random.default_rng(6), 1, 1, 3, 64)
    out = fastattn.attention(q, k, qv, precision="int8", variant=variant)
    expect = np.zeros(64)
    expect[3] = 127.0
    np.testing.assert_allclose(out[0, 0], np.broadcast_to(expect, (3, 64)), atol=1e-4)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("quad", [128, 129])
def test_query_quadruples_at_the_int16_pair_bound(variant, quad):
    """AVX2 adds two vpmaddubsw results of q·(k + 128) in int16 when every lane's 4 query
    bytes sum to at most 128 in absolute value: 255 · 128 = 32,640 fits, 255 · 129 = 32,895
    would saturate. Queries whose lanes sum to exactly `quad`, on either side of that
    bound, against keys built so that a saturated lane would show: key A is 127 on lane 0's
    features and -127 on lane 1's (q·k = 0, but lane 0 of q·(k + 128) is 255 · quad), key B
    is 0 (q·k = 0, no lane near the bound). Every score is 0 exactly, so every P is 127; a
    saturated sum would lower A's scores by about 1024 · 0.01 · log2(e) / 8 = 1.8 base-2
    units and move the output."""
    lane0, lane1 = np.array([0, 1, 4, 5]), np.array([2, 3, 6, 7])
    pattern = np.zeros(8, np.float32)
    pattern[lane0[:3]] = pattern[lane1[:3]] = [63.0, 63.0, quad - 126]
    q = np.tile(pattern, 8)[None, None, None, :].repeat(8, axis=2)
    q[0, 0, 1::2] *= -1  # both signs in one 4-row group
    key_a = np.zeros(8, np.int8)
    key_a[lane0], key_a[lane1] = 127, -127
    kdata = np.zeros((1, 1, 40, 64), np.int8)
    kdata[0, 0, ::2] = np.tile(key_a, 8)
    qk = fastattn.QuantizedTensor(kdata, np.full((1, 1, 1), 0.01, np.float32), "key", block=64)
    qv = fastattn.quantize(gaussian(np.random.default_rng(7), 1, 1, 40, 64), kind="value")
    out = fastattn.attention(q, qk, qv, precision="int8", variant=variant)
    ref = ref8.attention_quantized(*ref8.quantize_queries(q, 64), 64, qk.data, qk.scale, 64,
                                   qv.data, qv.scale)
    assert_close_i8(out, ref)


@pytest.mark.parametrize("variant", VARIANTS)
def test_long_sequence_causal(variant):
    rng = np.random.default_rng(7)
    q = gaussian(rng, 1, 1, 3, 64)
    k, v = gaussian(rng, 1, 1, 4100, 64), gaussian(rng, 1, 1, 4100, 64)
    out, ref = run_both(variant, q, k, v, causal=True)
    assert_close_i8(out, ref)


def _kernel_out(prep, variant, q_limit):
    """(whether the kernel took q, its output) for a `_precision.prepare` result."""
    i8, out = prep.int8, np.zeros(prep.q.shape[:3] + (prep.v.shape[-1],), np.float32)
    done = _core.dense_i8(prep.q, i8.block, prep.k, i8.k_scale, i8.block, prep.v, i8.v_scale,
                          out, None, prep.scale, -_core.BAND_NONE, _core.BAND_NONE,
                          fastattn._dispatch.DENSE_I8.resolve(variant).index, 1, q_limit)
    return done, out


@pytest.mark.parametrize("variant", VARIANTS)
def test_query_checked_by_the_kernel(variant):
    """attention() leaves the pass over q that proves it finite and in range to the kernel
    (q_limit): the kernel takes q only when every block's max |q| is below the limit, and the
    API then checks q itself (a ValueError, or q rescaled) and gets the eager path's bytes."""
    rng = np.random.default_rng(12)
    q, k, v = gaussian(rng, 3, 150, 32), gaussian(rng, 1, 150, 32), gaussian(rng, 1, 150, 32)
    prep = fastattn._precision.prepare(q, k, v, precision="int8")
    top = float(np.abs(q).max())
    assert _kernel_out(prep, variant, np.nextafter(np.float32(top), np.float32(np.inf)))[0]
    assert not _kernel_out(prep, variant, top)[0]  # the max itself is not below it
    assert not _kernel_out(prep, variant, 0.5 * top)[0]
    done, out = _kernel_out(prep, variant, 2 * top)
    assert done and np.array_equal(out, _kernel_out(prep, variant, 0.0)[1])
    for bad in (np.nan, np.inf, -np.inf):
        q2 = q.copy()
        q2[2, 140, 7] = bad  # one element of the last block of the last head
        with pytest.raises(ValueError, match="finite"):
            fastattn.attention(q2, k, v, precision="int8", variant=variant)
    for big in (2.0**70, 2.0**100):  # beyond the limit: the API rescales q, then reruns
        qb = (q * big).astype(np.float32)
        eager = fastattn._precision.prepare(qb, k, v, precision="int8")
        assert eager.scale != prep.scale  # the rescaled path
        out = fastattn.attention(qb, k, v, precision="int8", variant=variant)
        assert np.array_equal(out, _kernel_out(eager, variant, 0.0)[1].reshape(out.shape))


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_agree_bitwise(variant):
    rng = np.random.default_rng(8)
    q = gaussian(rng, 2, 4, 100, 64)
    k, v = gaussian(rng, 2, 2, 300, 64), gaussian(rng, 2, 2, 300, 48)
    a = fastattn.attention(q, k, v, causal=True, precision="int8", variant=variant)
    b = fastattn.attention(q, k, v, causal=True, precision="int8", variant=fallback("dense-i8"))
    np.testing.assert_array_equal(a, b)


def test_shapes_dtypes_and_reuse():
    rng = np.random.default_rng(9)
    q = gaussian(rng, 4, 33, 64)
    k, v = gaussian(rng, 4, 70, 64), gaussian(rng, 4, 70, 64)
    out = fastattn.attention(q, k, v, precision="int8")
    assert out.shape == (4, 33, 64) and out.dtype == np.float32
    out16 = fastattn.attention(q.astype(np.float16), k.astype(np.float16), v.astype(np.float16),
                                precision="int8")
    assert out16.dtype == np.float16
    qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
    again = fastattn.attention(q, qk, qv, precision="int8")
    np.testing.assert_array_equal(out, again)
    out2d = fastattn.attention(q[0], k[0], v[0], precision="int8")
    assert out2d.shape == (33, 64)
    assert qk.data.nbytes * 4 == k.nbytes and qv.data.nbytes * 4 == v.nbytes
    assert (k.nbytes + v.nbytes) / (qk.nbytes + qv.nbytes) > 3.7  # + scales and key means


def test_bad_input():
    rng = np.random.default_rng(10)
    q, k, v = gaussian(rng, 2, 10, 16), gaussian(rng, 2, 12, 16), gaussian(rng, 2, 12, 16)
    qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
    with pytest.raises(ValueError, match="scale has shape"):
        fastattn.QuantizedTensor(qk.data, np.ones((2, 5), np.float32), "key", block=64)
    with pytest.raises(ValueError, match="scale has shape"):
        fastattn.QuantizedTensor(qv.data, np.ones((2, 1), np.float32), "value")
    with pytest.raises(TypeError, match="int8"):
        fastattn.QuantizedTensor(qk.data.astype(np.int16), qk.scale, "key", block=64)
    with pytest.raises(ValueError, match=r"\[-127, 127\]"):
        fastattn.QuantizedTensor(np.full((1, 2, 3), -128, np.int8), np.ones((1, 1), np.float32),
                                 "key", block=64)
    with pytest.raises(ValueError, match="same length Lk"):
        fastattn.attention(q, qk, gaussian(rng, 2, 13, 16), precision="int8")
    with pytest.raises(ValueError, match="kind 'value'"):
        fastattn.attention(q, qv, qv, precision="int8")
    with pytest.raises(ValueError, match="kind 'key'"):
        fastattn.attention(q, qk, qk, precision="int8")
    with pytest.raises(TypeError, match="precision='int8'"):
        fastattn.attention(q, qk, qv)
    with pytest.raises(ValueError, match="precision"):
        fastattn.attention(q, k, v, precision="int4")
    with pytest.raises(ValueError, match="last dim D"):
        fastattn.attention(gaussian(rng, 2, 10, 8), qk, qv, precision="int8")
    with pytest.raises(ValueError, match="finite"):
        fastattn.attention(np.full((2, 10, 16), np.nan, np.float32), qk, qv, precision="int8")
    with pytest.raises(ValueError, match="finite"):
        fastattn.quantize(np.full((4, 8), np.inf, np.float32))
    with pytest.raises(ValueError, match="finite"):
        fastattn.attention(q, k, np.full((2, 12, 16), np.nan, np.float32), precision="int8")
    with pytest.raises(ValueError, match="block"):
        fastattn.quantize(k, block=0)
    with pytest.raises(ValueError, match="kind"):
        fastattn.quantize(k, kind="query")
    with pytest.raises(ValueError, match="unknown variant"):
        fastattn.attention(q, k, v, precision="int8", variant=fallback("dense-f32"))
    with pytest.raises(ValueError, match="65536"):
        fastattn.attention(np.ones((1, 65536), np.float32), np.ones((1, 65536), np.float32),
                           np.ones((1, 4), np.float32), precision="int8")


def test_lut_size_error_figures():
    """The table size is justified by these measured figures (see reference.int8)."""
    errs = {bits: ref8.lut_error(bits)["max_abs_p"] for bits in (6, 8, 10)}
    assert errs[8] < 0.9 < errs[6]
    assert errs[10] < errs[8]
    assert ref8.lut_error(8)["max_rel_index"] < 0.2 / 127
    z = np.arange(4096)
    p = ref8.exp_lut(z)
    assert p[0] == 127 and p.min() == 0 and np.all(np.diff(p) <= 0)
    assert np.abs(p - 127 * np.exp2(-z / 256)).max() < 0.9


def test_tile_weights():
    """beta = 2^(-d/256) from two float32 tables and an exact power of two: within 2 ulp
    of the true value for every d, 1 at d = 0 and exact at multiples of 256."""
    d = np.arange(ref8.D_SKIP)
    beta = np.array([ref8.tile_weight(int(x)) for x in d], np.float64)
    exact = np.exp2(-d / 256.0)
    assert np.all(np.abs(beta - exact) <= 2 * np.spacing(exact.astype(np.float32)))
    assert beta[0] == 1.0 and np.all(beta[::256] == exact[::256])


@pytest.mark.parametrize("variant", VARIANTS)
def test_tile_reference_points(variant):
    """Tiles whose maxima fall 0 to 20 base-2 units below the running max (an additive mask
    per tile): each tile's P is taken against its own reference point, so every tile the
    reference does not skip reaches P = 127, and tiles more than 16 units down are skipped
    (P = 0); every kernel matches the reference on them."""
    rng = np.random.default_rng(11)
    lk, kt = 24 * KTILE, KTILE
    q, k, v = gaussian(rng, 1, 1, 5, 64), gaussian(rng, 1, 1, lk, 64), gaussian(rng, 1, 1, lk, 32)
    drop = np.repeat(np.linspace(0.0, 20.0, lk // kt) * np.log(2.0), kt)  # natural-log units
    mask = np.broadcast_to(-drop.astype(np.float32), (5, lk))
    out, ref = run_both(variant, q, k, v, mask=mask)
    assert_close_i8(out, ref)
    qi, qs = ref8.quantize_queries(q, ref8.DEFAULT_BLOCK)
    ks_, _ = ref8.smooth_keys(k)
    ki, kscale = ref8.quantize_blocks(ks_, ref8.DEFAULT_BLOCK)
    vi, vs = ref8.quantize_channels(v)
    c = np.float32(1 / 8) * ref8.LOG2E
    p = ref8.attend_row(qi[0, 0, 0], qs[0, 0, 0], ki[0, 0], np.repeat(kscale[0, 0], 64)[:lk],
                        vi[0, 0], vs[0, 0], c, (mask[0] * ref8.LOG2E).astype(np.float32))[2]
    tile_max = p.reshape(-1, kt).max(axis=1)
    assert tile_max[0] == 127 and set(tile_max) <= {0, 127}
    assert 0 < np.count_nonzero(tile_max == 0) < len(tile_max) // 2


def test_peak_loop_runs():
    assert _core.i8_peak_loop(1000) > 0
