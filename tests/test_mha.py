"""MultiHeadAttention against a plain float64 NumPy multi-head attention."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import dense as ref_dense
from fastattn.varlen import pack

# float32 GEMMs over d_model <= 96 and attention over <= 40 keys, against float64:
# a few hundred float32 roundings relative to outputs of order 1.
ATOL = 2e-4


def make_weights(d_model, heads, dh, d_context=None, d_out=None, seed=0):
    rng = np.random.default_rng(seed)
    inner, d_context, d_out = heads * dh, d_context or d_model, d_out or d_model
    w = dict(wq=rng.standard_normal((inner, d_model)) / np.sqrt(d_model),
             wk=rng.standard_normal((inner, d_context)) / np.sqrt(d_context),
             wv=rng.standard_normal((inner, d_context)) / np.sqrt(d_context),
             wo=rng.standard_normal((d_out, inner)) / np.sqrt(inner))
    w.update({f"b{n}": rng.standard_normal(w[f"w{n}"].shape[0]) * 0.1 for n in "qkvo"})
    return {n: a.astype(np.float32) for n, a in w.items()}


def reference_mha(w, heads, x, context=None, heads_kept=None, **attn):
    """float64: separate projections, per-head attention, concatenation, output projection;
    `heads_kept` restricts the sum to those heads (what pruning promises)."""
    w = {n: a.astype(np.float64) for n, a in w.items()}
    c = x if context is None else context
    dh = w["wq"].shape[0] // heads

    def split(t):
        return t.reshape(t.shape[:-1] + (heads, dh)).swapaxes(-2, -3)  # (..., H, L, dh)

    q = split(x @ w["wq"].T + w["bq"])
    k = split(c @ w["wk"].T + w["bk"])
    v = split(c @ w["wv"].T + w["bv"])
    o = ref_dense.attention(q, k, v, **attn)  # (..., H, L, dh)
    keep = np.arange(heads) if heads_kept is None else np.asarray(heads_kept)
    wo = w["wo"].reshape(-1, heads, dh)
    return np.einsum("...hld,ohd->...lo", o[..., keep, :, :], wo[:, keep]) + w["bo"]


def block(w, heads, **kw):
    return fastattn.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"], w["bq"], w["bk"],
                                       w["bv"], w["bo"], num_heads=heads, **kw)


@given(heads=st.sampled_from([1, 2, 4]), dh=st.sampled_from([8, 16]),
       length=st.integers(1, 40), batch=st.sampled_from([None, 1, 3]),
       causal=st.booleans(), fused=st.booleans(), seed=st.integers(0, 2**16))
def test_self_attention_matches_reference(heads, dh, length, batch, causal, fused, seed):
    d_model = 48
    w = make_weights(d_model, heads, dh, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(((batch,) if batch else ()) + (length, d_model), dtype=np.float32)
    out = block(w, heads, fused=fused)(x, causal=causal)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, reference_mha(w, heads, x, causal=causal), atol=ATOL)


@given(lq=st.integers(1, 30), lk=st.integers(1, 30), fused=st.booleans(),
       seed=st.integers(0, 2**16))
def test_cross_attention_matches_reference(lq, lk, fused, seed):
    w = make_weights(32, 4, 8, d_context=24, d_out=40, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, lq, 32), dtype=np.float32)
    c = rng.standard_normal((2, lk, 24), dtype=np.float32)
    mask = rng.random((lq, lk)) < 0.8
    out = block(w, 4, fused=fused)(x, c, mask=mask)
    assert out.shape == (2, lq, 40)
    np.testing.assert_allclose(out, reference_mha(w, 4, x, c, mask=mask), atol=ATOL)


def test_fused_equals_unfused():
    w = make_weights(64, 4, 16, seed=3)
    x = np.random.default_rng(3).standard_normal((2, 33, 64), dtype=np.float32)
    np.testing.assert_allclose(block(w, 4)(x), block(w, 4, fused=False)(x), atol=1e-5)


def test_varlen_equals_per_sequence_calls():
    w = make_weights(48, 4, 12, seed=4)
    lengths = [5, 1, 19, 8]
    cu = pack(lengths)
    x = np.random.default_rng(4).standard_normal((sum(lengths), 48), dtype=np.float32)
    mha = block(w, 4)
    for kw in ({}, {"causal": True}, {"precision": "int8"}):
        out = mha.varlen(x, cu, **kw)
        want = np.concatenate([mha(x[a:b], **kw) for a, b in zip(cu[:-1], cu[1:])])
        np.testing.assert_allclose(out, want, atol=1e-5)


def test_variants_by_argument():
    w = make_weights(48, 4, 12, seed=5)
    x = np.random.default_rng(5).standard_normal((1, 50, 48), dtype=np.float32)
    mha = block(w, 4)
    dense = mha(x)
    np.testing.assert_allclose(mha(x, attention="local", window=100), dense, atol=1e-5)
    np.testing.assert_allclose(mha(x, attention="routed", density=1.0, block=16), dense,
                               atol=1e-5)
    local = mha(x, attention="local", window=3)
    np.testing.assert_allclose(local, reference_mha(w, 4, x, mask=np.abs(
        np.arange(50)[:, None] - np.arange(50)[None]) <= 3), atol=ATOL)
    assert np.abs(mha(x, precision="int8") - dense).max() < 0.05


def test_prune_heads_removes_exactly_those_heads():
    w = make_weights(64, 8, 8, seed=6)
    x = np.random.default_rng(6).standard_normal((2, 20, 64), dtype=np.float32)
    mha = block(w, 8)
    assert mha.prune_heads([1, 6, 6]) is mha
    assert mha.num_heads == 6 and mha.kept_heads.tolist() == [0, 2, 3, 4, 5, 7]
    np.testing.assert_allclose(mha(x), reference_mha(w, 8, x, heads_kept=mha.kept_heads),
                               atol=ATOL)
    mha.prune_heads([0])  # indices into the current heads: original head 0
    assert mha.kept_heads.tolist() == [2, 3, 4, 5, 7]
    np.testing.assert_allclose(mha(x), reference_mha(w, 8, x, heads_kept=mha.kept_heads),
                               atol=ATOL)
    assert mha._qkv.weight_t.shape == (64, 3 * 5 * 8)  # the fused GEMM shrank


def test_head_importance_is_the_single_head_ablation():
    w = make_weights(64, 4, 16, seed=7)
    x = np.random.default_rng(7).standard_normal((3, 25, 64), dtype=np.float32)
    mha = block(w, 4)
    parts = mha.head_outputs(x, causal=True)
    np.testing.assert_allclose(parts.sum(0) + w["bo"], mha(x, causal=True).reshape(-1, 64),
                               atol=1e-4)
    imp = mha.head_importance(x, causal=True)
    full = mha(x, causal=True)
    for h in range(4):
        moved = full - copy.deepcopy(mha).prune_heads([h])(x, causal=True)
        want = np.linalg.norm(moved) / np.linalg.norm(full - w["bo"])
        assert imp[h] == pytest.approx(want, rel=1e-3)


def test_bad_weights_and_heads():
    w = make_weights(32, 4, 8)
    with pytest.raises(ValueError, match="wk must have 32 output rows"):
        fastattn.MultiHeadAttention(w["wq"], w["wk"][:16], w["wv"], w["wo"], num_heads=4)
    with pytest.raises(ValueError, match="wv must have shape"):
        fastattn.MultiHeadAttention(w["wq"], w["wk"], w["wv"][:, :8], w["wo"], num_heads=4)
    with pytest.raises(ValueError, match="wo must have 32 input columns"):
        fastattn.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"][:, :8], num_heads=4)
    with pytest.raises(TypeError, match="wq must be a float array"):
        fastattn.MultiHeadAttention(w["wq"].astype(np.int8), w["wk"], w["wv"], w["wo"],
                                    num_heads=4)
    with pytest.raises(ValueError, match="not a multiple of num_heads=5"):
        fastattn.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"], num_heads=5)
    with pytest.raises(ValueError, match="bq must have shape"):
        fastattn.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"], w["bq"][:3],
                                    num_heads=4)
    with pytest.raises(ValueError, match="wq must be 2-d"):
        fastattn.MultiHeadAttention(w["wq"][None], w["wk"], w["wv"], w["wo"], num_heads=4)
    mha = block(w, 4)
    with pytest.raises(ValueError, match="heads: head 4 does not exist"):
        mha.prune_heads([4])
    with pytest.raises(ValueError, match="heads: head -1 does not exist"):
        mha.prune_heads([-1])
    with pytest.raises(ValueError, match="pruning all 4 heads"):
        mha.prune_heads([0, 1, 2, 3])
    with pytest.raises(ValueError, match="x must have last dim 32"):
        mha(np.zeros((3, 5, 31), dtype=np.float32))
    with pytest.raises(ValueError, match="context must have"):
        mha(np.zeros((3, 5, 32), dtype=np.float32), np.zeros((2, 5, 32), dtype=np.float32))


def test_int8_weights():
    """int8 weights: every projection through fastattn.Int8Linear; about 1 % relative
    error against float32 weights; pruning re-quantises exactly like a fresh block."""
    w = make_weights(96, 6, 16, seed=8)
    x = np.random.default_rng(8).standard_normal((2, 30, 96), dtype=np.float32)
    full, q8 = block(w, 6), block(w, 6, weights="int8")
    y32, y8 = full(x), q8(x)
    assert np.linalg.norm(y8 - y32) / np.linalg.norm(y32) < 0.03
    assert q8.nbytes < full.nbytes / 3
    np.testing.assert_allclose(block(w, 6, weights="int8", fused=False)(x), y8, atol=1e-5)
    q8.prune_heads([2, 5])
    rows = np.concatenate([np.arange(h * 16, h * 16 + 16) for h in q8.kept_heads])
    fresh = fastattn.MultiHeadAttention(
        w["wq"][rows], w["wk"][rows], w["wv"][rows], w["wo"][:, rows], w["bq"][rows],
        w["bk"][rows], w["bv"][rows], w["bo"], num_heads=4, weights="int8")
    np.testing.assert_array_equal(q8(x), fresh(x))
    with pytest.raises(ValueError, match="weights must be one of"):
        block(w, 6, weights="int4")


def test_head_importance_on_a_packed_batch():
    w = make_weights(48, 4, 12, seed=9)
    cu = pack([6, 14, 3])
    x = np.random.default_rng(9).standard_normal((23, 48), dtype=np.float32)
    mha = block(w, 4)
    parts = mha.head_outputs(x, cu_seqlens=cu)
    np.testing.assert_allclose(parts.sum(0) + w["bo"], mha.varlen(x, cu), atol=1e-4)
    assert mha.head_importance(x, cu_seqlens=cu).shape == (4,)


@pytest.mark.parametrize("weights", ["fp32", "int8"])
def test_decode_with_a_kv_cache_equals_one_causal_call(weights):
    w = make_weights(64, 4, 16, seed=10)
    x = np.random.default_rng(10).standard_normal((2, 23, 64), dtype=np.float32)
    mha = block(w, 4, weights=weights).prune_heads([1])
    full = mha(x, causal=True)
    cache = mha.new_cache(2, capacity=8, grow=True)
    steps = [mha.decode(x[:, :15], cache)] + [mha.decode(x[:, t:t + 1], cache)
                                              for t in range(15, 23)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    assert len(cache) == 23 and cache.capacity >= 23
    cache8 = mha.new_cache(2, capacity=23, precision="int8")
    out8 = np.concatenate([mha.decode(x[:, :20], cache8), mha.decode(x[:, 20:], cache8)], axis=1)
    assert np.abs(out8 - full).max() < 0.05 * np.abs(full).max()
    with pytest.raises(TypeError, match="cache must be a fastattn.KVCache"):
        mha.decode(x, None)
