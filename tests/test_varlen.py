"""varlen_attention on packed batches against per-sequence references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn.reference import dense as ref_dense
from fastattn.varlen import pack
from helpers import f32_tolerance, runnable


def packed_inputs(lengths_q, lengths_k, hq, hkv, d, dv, seed):
    rng = np.random.default_rng(seed)
    tq, tk = int(sum(lengths_q)), int(sum(lengths_k))
    q = rng.standard_normal((tq, hq, d), dtype=np.float32)
    k = rng.standard_normal((tk, hkv, d), dtype=np.float32)
    v = rng.standard_normal((tk, hkv, dv), dtype=np.float32)
    return q, k, v, pack(lengths_q), pack(lengths_k)


def per_sequence(fn, q, k, v, cu_q, cu_k, dv):
    """Runs fn(q_i, k_i, v_i) -> (H, Lq_i, Dv) for each sequence and packs the results."""
    out = np.zeros((q.shape[0], q.shape[1], dv))
    for i in range(cu_q.size - 1):
        (a, b), (c, e) = cu_q[i:i + 2], cu_k[i:i + 2]
        if a < b and c < e:
            res = fn(*(x.transpose(1, 0, 2) for x in (q[a:b], k[c:e], v[c:e])))
            out[a:b] = np.asarray(res).transpose(1, 0, 2)
    return out


batches = st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)), min_size=1, max_size=6)


@pytest.mark.parametrize("variant", runnable("dense-f32"))
@given(lengths=batches, heads=st.sampled_from([(1, 1), (4, 4), (4, 2), (6, 1)]),
       d=st.sampled_from([8, 32]), causal=st.booleans(), self_attn=st.booleans(),
       seed=st.integers(0, 2**16))
def test_fp32_matches_reference(variant, lengths, heads, d, causal, self_attn, seed):
    lq = [a for a, _ in lengths]
    lk = lq if self_attn else [b for _, b in lengths]
    q, k, v, cu_q, cu_k = packed_inputs(lq, lk, *heads, d, d + 8, seed)
    out = fastattn.varlen_attention(q, k, v, cu_seqlens_q=cu_q, cu_seqlens_k=cu_k,
                                    causal=causal, variant=variant, num_threads=2)
    want = per_sequence(lambda a, b, c: ref_dense.attention(a, b, c, causal=causal),
                        q, k, v, cu_q, cu_k, d + 8)
    assert out.shape == want.shape and out.dtype == np.float32
    tol = f32_tolerance(3 * np.sqrt(d), max(lk + [1])) * np.abs(v).max(initial=1.0)
    np.testing.assert_allclose(out, want, atol=tol, rtol=0)


@given(lengths=batches, causal=st.booleans(), seed=st.integers(0, 2**16))
def test_int8_equals_per_sequence_int8(lengths, causal, seed):
    """int8 quantises each sequence on its own: the same numbers as one call per sequence."""
    lq, lk = [a for a, _ in lengths], [b for _, b in lengths]
    q, k, v, cu_q, cu_k = packed_inputs(lq, lk, 4, 2, 32, 32, seed)
    out = fastattn.varlen_attention(q, k, v, cu_seqlens_q=cu_q, cu_seqlens_k=cu_k,
                                    causal=causal, precision="int8")
    want = per_sequence(lambda a, b, c: fastattn.attention(a, b, c, causal=causal,
                                                           precision="int8"),
                        q, k, v, cu_q, cu_k, 32)
    np.testing.assert_array_equal(out, want.astype(np.float32))
    exact = per_sequence(lambda a, b, c: ref_dense.attention(a, b, c, causal=causal),
                         q, k, v, cu_q, cu_k, 32)
    assert np.abs(out - exact).max(initial=0) < 0.1  # int8: about 1 % of max|v|


@pytest.mark.parametrize("attention, options", [("local", {"window": 9}),
                                                ("routed", {"density": 0.5, "block": 16}),
                                                ("linear", {}),
                                                ("performer", {"num_features": 64})])
def test_sparse_variants_equal_per_sequence_calls(attention, options):
    lengths = [40, 3, 0, 100, 17]
    q, k, v, cu, _ = packed_inputs(lengths, lengths, 4, 4, 32, 32, 5)
    out = fastattn.varlen_attention(q, k, v, cu_seqlens_q=cu, cu_seqlens_k=cu,
                                    attention=attention, **options)
    fn = fastattn.varlen.ATTENTIONS[attention]
    want = per_sequence(lambda a, b, c: fn(a, b, c, **options), q, k, v, cu, cu, 32)
    np.testing.assert_array_equal(out, want.astype(np.float32))


def test_views_of_a_fused_projection_and_dtypes():
    """q, k, v as strided views of one (total, 3, H, D) array; float64 in, float64 out."""
    rng = np.random.default_rng(1)
    cu = pack([7, 30, 1])
    qkv = rng.standard_normal((38, 3, 4, 16))
    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
    out = fastattn.varlen_attention(q, k, v, cu_seqlens_q=cu, cu_seqlens_k=cu, causal=True)
    assert out.dtype == np.float64
    want = per_sequence(lambda a, b, c: ref_dense.attention(a, b, c, causal=True),
                        q, k, v, cu, cu, 16)
    np.testing.assert_allclose(out, want, atol=1e-5)


@pytest.mark.parametrize("cu, words", [
    ([1, 5, 10], "start at 0"),
    ([0, 6, 5, 10], "non-decreasing"),
    ([0, 5, 9], "end at the packed length 10"),
    ([[0, 10]], "1-d integer"),
    ([0.0, 10.0], "1-d integer"),
    ([0], "1-d integer"),
])
def test_bad_cu_seqlens(cu, words):
    q = np.zeros((10, 2, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="cu_seqlens_q") as err:
        fastattn.varlen_attention(q, q, q, cu_seqlens_q=cu, cu_seqlens_k=[0, 10])
    assert words in str(err.value)


def test_bad_inputs():
    q = np.zeros((10, 2, 8), dtype=np.float32)
    cu = [0, 4, 10]
    with pytest.raises(ValueError, match="same number of sequences"):
        fastattn.varlen_attention(q, q, q, cu_seqlens_q=cu, cu_seqlens_k=[0, 10])
    with pytest.raises(ValueError, match="q must be packed"):
        fastattn.varlen_attention(q[None], q, q, cu_seqlens_q=cu, cu_seqlens_k=cu)
    with pytest.raises(ValueError, match="last dim"):
        fastattn.varlen_attention(q, q[..., :4], q, cu_seqlens_q=cu, cu_seqlens_k=cu)
    with pytest.raises(ValueError, match="attention must be one of"):
        fastattn.varlen_attention(q, q, q, cu_seqlens_q=cu, cu_seqlens_k=cu, attention="nope")
    with pytest.raises(ValueError, match="precision"):
        fastattn.varlen_attention(q, q, q, cu_seqlens_q=cu, cu_seqlens_k=cu, precision="fp8")
    with pytest.raises(ValueError, match="no int8 kernel"):
        fastattn.varlen_attention(q, q, q, cu_seqlens_q=cu, cu_seqlens_k=cu, attention="linear",
                                  precision="int8")
    with pytest.raises(TypeError, match="k must be float"):
        fastattn.varlen_attention(q, q.astype(np.int32), q, cu_seqlens_q=cu, cu_seqlens_k=cu)
