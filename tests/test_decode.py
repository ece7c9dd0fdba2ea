"""Decode kernels (csrc/decode): every compiled variant against its reference.

float32 against reference/dense.py (causal bottom-right) within the float32 tolerance,
int8 against reference/decode_int8.py on the cache's own quantised tensors, bit for bit
(the reference does the kernels' integer and float32 arithmetic in their order). Sizes come from the
library: keys split every DECODE_SPLIT keys, softmax tiles of DECODE_TILE keys, int8
weight blocks of DECODE_BLOCK keys, scores 16 (AVX-512 VNNI), 8 (AVX2) or 4 (NEON) keys at
a time, features and value channels in chunks of 4/8/16/32/64.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn import _core, _dispatch
from fastattn.reference import decode_int8 as ref8
from fastattn.reference import dense as ref
from helpers import compiled, f32_tolerance, gaussian, max_logit

F32 = compiled("decode-f32")
I8 = compiled("decode-i8")
SPLIT, TILE = _core.DECODE_SPLIT, _core.DECODE_TILE
LENGTHS = st.sampled_from(sorted({1, 2, 5, 7, 9, TILE - 1, TILE, TILE + 1, SPLIT - 1, SPLIT,
                                  SPLIT + 1, 2 * SPLIT + TILE + 3, 3 * SPLIT - 1}))
DIMS = st.sampled_from([1, 3, 8, 16, 17, 31, 32, 33, 64, 80])
LQ = st.sampled_from([1, 2, 3, 7, 16])
MASKS = st.sampled_from(["none", "bool", "float", "bool-row", "dead-row"])


def make_mask(rng, kind, batch, heads, lq, lk):
    if kind == "bool":
        return rng.random((batch, heads, lq, lk)) < 0.7
    if kind == "float":
        return gaussian(rng, 1, heads, lq, lk, scale=2.0)
    if kind == "bool-row":  # broadcast over batch, heads and query rows
        return rng.random((lk,)) < 0.5
    if kind == "dead-row":  # the first query row of every head sees nothing
        m = np.ones((batch, heads, lq, lk), dtype=bool)
        m[:, :, 0] = False
        return m
    return None


def check_close(out, expected, vmax, max_logit, lk):
    assert out.shape == expected.shape
    tol = f32_tolerance(max_logit, lk) * max(1.0, vmax)
    err = np.abs(out.astype(np.float64) - expected)
    assert np.all(np.isfinite(out))
    assert err.max(initial=0.0) <= tol, (err.max(), tol)


@pytest.mark.parametrize("variant", F32)
@given(batch=st.integers(1, 2), kv_heads=st.integers(1, 2), group=st.sampled_from([1, 3, 4]),
       lq=LQ, lk=LENGTHS, d=DIMS, dv=DIMS, causal=st.booleans(), mask_kind=MASKS,
       logit_scale=st.sampled_from([0.1, 1.0, 8.0]), seed=st.integers(0, 2**32 - 1))
def test_f32_matches_reference(variant, batch, kv_heads, group, lq, lk, d, dv, causal,
                               mask_kind, logit_scale, seed):
    lq = min(lq, lk)
    rng = np.random.default_rng(seed)
    heads = kv_heads * group
    q = gaussian(rng, batch, heads, lq, d, scale=logit_scale)
    k, v = gaussian(rng, batch, kv_heads, lk, d), gaussian(rng, batch, kv_heads, lk, dv)
    mask = make_mask(rng, mask_kind, batch, heads, lq, lk)
    cache = fastattn.KVCache(batch, kv_heads, d, lk + 5, head_dim_v=dv)
    cache.append(k, v)
    out = cache.attend(q, causal=causal, mask=mask, variant=variant, num_threads=2)
    expected = ref.attention(q, k, v, mask=mask, causal=causal)
    logit = float(np.abs(q).max() * np.abs(k).max() * np.sqrt(d)) + (mask_kind == "float") * 20
    check_close(out, expected, float(np.abs(v).max()), logit, lk)


@pytest.mark.parametrize("variant", I8)
@given(batch=st.integers(1, 2), kv_heads=st.integers(1, 2), group=st.sampled_from([1, 3, 4]),
       lq=LQ, lk=LENGTHS, first=st.sampled_from([1, 7, 1000]), d=DIMS, dv=DIMS,
       causal=st.booleans(), mask_kind=MASKS, logit_scale=st.sampled_from([0.1, 1.0, 8.0]),
       seed=st.integers(0, 2**32 - 1))
def test_i8_matches_reference(variant, batch, kv_heads, group, lq, lk, first, d, dv, causal,
                              mask_kind, logit_scale, seed):
    lq, first = min(lq, lk), min(first, lk)
    rng = np.random.default_rng(seed)
    heads = kv_heads * group
    q = gaussian(rng, batch, heads, lq, d, scale=logit_scale)
    k = gaussian(rng, batch, kv_heads, lk, d)
    k = k + gaussian(rng, 1, 1, 1, d, scale=4.0)  # shared offsets
    v = gaussian(rng, batch, kv_heads, lk, dv)
    mask = make_mask(rng, mask_kind, batch, heads, lq, lk)
    cache = fastattn.KVCache(batch, kv_heads, d, lk, head_dim_v=dv, precision="int8")
    cache.append(k[:, :, :first], v[:, :, :first])
    if first < lk:
        cache.append(k[:, :, first:], v[:, :, first:])
    out = cache.attend(q, causal=causal, mask=mask, variant=variant, num_threads=2)
    kq, ks, _, vq, vs = ref8.quantize_cache(k, v, first)
    expected = ref8.attention(q, kq, ks, vq, vs, mask=mask, causal=causal)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert np.array_equal(out, expected), np.abs(out - expected).max()  # bit for bit


def test_i8_scheme_sizes_are_the_library_s():
    """The reference's splits, tiles and weight blocks are the kernels' (read from the
    library), and its exp2 is 2^x within the polynomial's error."""
    assert (ref8.SPLIT, ref8.TILE, ref8.BLOCK) == (SPLIT, TILE, _core.DECODE_BLOCK)
    x = -np.linspace(0, 130, 100001).astype(np.float32)
    got, want = ref8.exp2(x).astype(np.float64), np.exp2(x.astype(np.float64))
    live = x >= -125
    assert np.all(got[~live] == 0) and ref8.exp2(np.float32(-np.inf)) == 0
    assert np.max(np.abs(got[live] - want[live]) / want[live]) < 3e-7
    assert ref8.exp2(np.float32(0.0)) == 1.0


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_threads_do_not_change_results(precision):
    """Splits depend on the key count only, so any thread count gives the same bits."""
    rng = np.random.default_rng(1)
    lk = 5 * SPLIT + 17
    cache = fastattn.KVCache(2, 2, 40, lk, precision=precision)
    cache.append(gaussian(rng, 2, 2, lk, 40), gaussian(rng, 2, 2, lk, 40))
    q = gaussian(rng, 2, 6, 3, 40)
    one = cache.attend(q, num_threads=1)
    for threads in (2, 3, 7):
        assert np.array_equal(cache.attend(q, num_threads=threads), one)


@pytest.mark.parametrize("variant", F32)
def test_attention_short_queries_take_any_strides(variant):
    """fastattn.attention sends short query blocks to the decode kernels: strided views."""
    rng = np.random.default_rng(2)
    q = gaussian(rng, 4, 2, 64, 3).transpose(1, 0, 3, 2)  # (2, 4, 3, 64), last axis strided
    k = gaussian(rng, 300, 2, 2, 64).transpose(2, 1, 0, 3)[:, :, ::2]  # (2, 2, 150, 64)
    v = gaussian(rng, 2, 2, 150, 48)[:, :, :, ::-1]
    out = fastattn.attention(q, k, v, causal=True, variant=variant)
    expected = ref.attention(q, k, v, causal=True)
    check_close(out, expected, float(np.abs(v).max()), 20.0, 150)


@pytest.mark.parametrize("variant", F32 + I8)
def test_empty_key_range_gives_zeros(variant):
    """lk = 0 at the C level: every row sees no key, so the output is zeros."""
    q = np.ones((1, 2, 1, 16), np.float32)
    out = np.full((1, 2, 1, 16), 7.0, np.float32)
    band = (-_core.BAND_NONE, _core.BAND_NONE)
    if variant.startswith("f32"):
        kv = np.ones((1, 1, 4, 16), np.float32)
        index = _dispatch.DECODE_F32.resolve(variant).index
        _core.decode_f32(q, kv, kv, 0, out, None, 0.25, *band, index, 2)
    else:
        kv, sc = np.ones((1, 1, 4, 16), np.int8), np.ones((1, 1, 4), np.float32)
        index = _dispatch.DECODE_I8.resolve(variant).index
        _core.decode_i8(q, kv, sc, kv, sc, 0, out, None, 0.25, *band, index, 2)
    assert np.array_equal(out, np.zeros_like(out))


@pytest.mark.parametrize("variant", I8)
def test_extreme_int8_values_do_not_overflow(variant):
    """head_dim at its limit, every query and key value at +-127: |s| = 65535 * 127^2
    stays below 2^31 and exact."""
    d = (1 << 16) - 1
    cache = fastattn.KVCache(1, 1, d, 3, precision="int8")
    cache.append(np.zeros((1, 1, 1, d), np.float32), np.zeros((1, 1, 1, d), np.float32))
    signs = np.array([1.0, -1.0], np.float32)[None, None, :, None]
    cache.append(np.full((1, 1, 2, d), 5.0, np.float32) * signs,
                 np.ones((1, 1, 2, d), np.float32) * signs)
    q = np.full((1, 1, 1, d), 3.0, np.float32)
    out = cache.attend(q, causal=False, scale=1e-9, variant=variant)
    t = cache.tensors()
    assert np.abs(t["k"]).min() == 0 and np.abs(t["k"][:, :, 1:]).min() == 127
    expected = ref8.attention(q, t["k"], t["k_scale"], t["v"], t["v_scale"], causal=False,
                              scale=1e-9)
    check_close(out, expected, 1.0, 4.0, 3)


def test_dense_variant_without_decode_twin_runs_the_dense_kernel(monkeypatch):
    """attention() sends Lq <= DECODE_MAX_LQ to the decode kernels; a dense variant that decode
    lacks (an ISA added to dense alone) must run that dense kernel, not fail in decode's table."""
    from fastattn import decode
    dense_only = _dispatch.DENSE_F32.chosen
    monkeypatch.setattr(decode, "DECODE_F32", _dispatch.Op(
        "decode f32", lambda: [(v.name, v.isa, v.runs_here) for v in _dispatch.DECODE_F32.variants
                               if v.name != dense_only.name],
        lambda cap: len(_dispatch.DECODE_F32.variants) - 2))
    assert not decode.has_variant(dense_only.name) and decode.has_variant(None)
    rng = np.random.default_rng(5)
    q, k, v = (gaussian(rng, 1, 2, n, 16) for n in (1, 40, 40))
    out = fastattn.attention(q, k, v, variant=dense_only.name)
    check_close(out, ref.attention(q, k, v), float(np.abs(v).max()), max_logit(q, k, 0.25), 40)
