"""Routed attention: the router against reference/routed.py, the kernel on the router's
layout, dense equivalence at full budget, a planted needle, and quality retention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn import _core
from fastattn._workloads import retention, structured_inputs
from fastattn.reference import routed as ref
from helpers import attention_shapes, check_close, compiled, gaussian, max_logit, tile

VARIANTS = compiled("sparse-f32")
# The float32 engine's query block edges (_core.TILES), and lengths around 64-token blocks.
ROWS = tile("f32")[0]
LENGTHS = st.sampled_from([1, 40, 64, 65, 130, ROWS - 1, ROWS, ROWS + 1, 257])


def check_routed(out, expected, q, k, v):
    check_close(out, expected, v, max_logit(q, k, q.shape[-1] ** -0.5), k.shape[-2])


@pytest.mark.parametrize("variant", VARIANTS)
@given(
    shape=attention_shapes(LENGTHS, st.just(16), dv=st.just(8), batch=(2, 2), group=(1, 2)),
    block=st.sampled_from([16, 32, 64]),
    budget=st.sampled_from([("top_k", 1), ("top_k", 3), ("density", 0.125), ("density", 0.5)]),
    local_blocks=st.integers(1, 2),
    sink_blocks=st.integers(0, 2),
    causal=st.booleans(),
    projected=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_router_and_kernel_match_reference(variant, shape, block, budget, local_blocks,
                                           sink_blocks, causal, projected, seed):
    """(a) the router picks the reference's blocks, and the kernel computes the reference's
    attention over them."""
    rng = np.random.default_rng(seed)
    q, k, v = shape.inputs(rng)
    proj = rng.standard_normal((shape.d, 4)) if projected else None
    kwargs = dict(block=block, local_blocks=local_blocks, sink_blocks=sink_blocks,
                  causal=causal, proj=proj, **{budget[0]: budget[1]})
    out = fastattn.routed_attention(q, k, v, variant=variant, **kwargs)
    layout = fastattn.route(q, k, **kwargs)
    expected_blocks = ref.route(q, k, **kwargs)
    np.testing.assert_array_equal(layout.block_mask(), expected_blocks)
    expected = ref.attention_over_blocks(q, k, v, expected_blocks, block, causal)
    check_routed(out, expected, q, k, v)


@given(
    shape=attention_shapes(st.sampled_from([1, 16, 40, 64, 100, 256]), st.sampled_from([1, 4]),
                           batch=(1, 2), group=(1, 2)),
    block=st.sampled_from([1, 8, 16, 32]),
    budget=st.sampled_from([("top_k", 1), ("top_k", 3), ("density", 0.125), ("density", 0.5)]),
    local_blocks=st.integers(1, 3),
    sink_blocks=st.integers(0, 2),
    causal=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_router_breaks_ties_as_the_reference(shape, block, budget, local_blocks, sink_blocks,
                                             causal, seed):
    """The C selection (csrc/sparse/route.c) on scores full of exact ties: entries in {-1, 0,
    1} and power-of-two blocks make every block mean and score exact in float64, so ties are
    real and must go to the lower block index, as in the reference's sort."""
    rng = np.random.default_rng(seed)
    q = rng.integers(-1, 2, (shape.batch, shape.heads, shape.lq, shape.d)).astype(np.float32)
    k = rng.integers(-1, 2, (shape.batch, shape.kv_heads, shape.lk, shape.d)).astype(np.float32)
    kwargs = dict(block=block, local_blocks=local_blocks, sink_blocks=sink_blocks,
                  causal=causal, **{budget[0]: budget[1]})
    layout = fastattn.route(q, k, **kwargs)
    np.testing.assert_array_equal(layout.block_mask(), ref.route(q, k, **kwargs))


def test_router_ranks_nan_scores_last():
    """A block whose summary is NaN is kept only when the budget needs it, after every block
    with a score (the forced blocks stay first)."""
    q = np.ones((1, 256, 4), np.float32)
    k = np.arange(256 * 4, dtype=np.float32).reshape(1, 256, 4) / 1024
    k[0, 70, 2] = np.nan  # key block 1 of 4 (block 64)
    blocks = fastattn.route(q, k, block=64, top_k=3, sink_blocks=0, local_blocks=1).block_mask()
    # Query block r keeps r and the two best others; block 1 only when nothing else is left.
    assert not blocks[0, 0, 1] and not blocks[0, 2, 1] and not blocks[0, 3, 1]
    assert blocks[0, 1, 1]  # forced: its own diagonal block
    full = fastattn.route(q, k, block=64, top_k=4, sink_blocks=0).block_mask()
    assert full.all()


def test_route_select_checks_its_arrays():
    scores = np.zeros((1, 2, 3))
    rows = np.array([3, 3], np.int64), np.array([0, 1], np.int64), np.array([2, 2], np.int64)
    indptr, scratch = np.empty((1, 3), np.int32), np.empty(6)
    assert _core.route_select(scores, *rows, 1, 0, indptr, np.empty(4, np.int32), scratch) == 4
    with pytest.raises(ValueError):  # indices too short for the budget
        _core.route_select(scores, *rows, 1, 0, indptr, np.empty(3, np.int32), scratch)
    with pytest.raises(ValueError):  # scratch shorter than 2 nk
        _core.route_select(scores, *rows, 1, 0, indptr, np.empty(4, np.int32), np.empty(5))
    empty = np.full((2, 1), -1, np.int32)  # no query block: each layout's indptr is [0]
    none = np.empty(0, np.int64)
    assert _core.route_select(np.zeros((2, 0, 3)), none, none, none, 1, 0, empty,
                              np.empty(0, np.int32), scratch) == 0
    np.testing.assert_array_equal(empty, 0)
    with pytest.raises(ValueError):  # a visible count beyond nk
        _core.route_select(scores, np.array([4, 3], np.int64), *rows[1:], 1, 0, indptr,
                           np.empty(8, np.int32), scratch)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lq,lk", [(256, 256), (200, 330), (330, 200)])
def test_full_budget_is_dense(variant, causal, lq, lk):
    """(b) top_k = every key block gives dense attention."""
    rng = np.random.default_rng(lq + lk)
    q, k, v = gaussian(rng, 1, 4, lq, 32), gaussian(rng, 1, 2, lk, 32), gaussian(rng, 1, 2, lk, 32)
    kwargs = dict(block=64, top_k=-(-lk // 64), causal=causal)
    out = fastattn.routed_attention(q, k, v, variant=variant, **kwargs)
    layout = fastattn.route(q, k, **kwargs)
    dense = fastattn.attention(q, k, v, causal=causal)
    np.testing.assert_allclose(out, dense, atol=2e-6)
    if not causal:
        assert layout.density == 1.0


def test_planted_needle_is_found_by_the_router_not_by_the_window():
    """(c) One far key strongly matched by every query of one block: the router keeps
    its block; a sliding window of the same density cannot reach it."""
    rng = np.random.default_rng(0)
    length, dim, block = 2048, 64, 64
    q = gaussian(rng, 1, length, dim, scale=0.5)
    k = gaussian(rng, 1, length, dim, scale=0.5)
    v = gaussian(rng, 1, length, dim)
    needle, query_block = 350, 28  # key block 5, queries 1792..1855: 1400+ tokens apart
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    k[0, needle] = 12 * direction
    rows = slice(query_block * block, (query_block + 1) * block)
    q[0, rows] += 12 * direction  # logit ~ 18 against ~0 for the rest
    v[0, needle] = 10.0

    out = fastattn.routed_attention(q, k, v, block=block, density=0.125)
    layout = fastattn.route(q, k, block=block, density=0.125)
    window = fastattn.local_layout(length, length, window=128, block=block)
    assert abs(window.density - layout.density) < 0.05  # the same budget
    assert layout.block_mask()[0, query_block, needle // block]
    assert not window.to_dense_mask()[rows, needle].any()

    dense = fastattn.attention(q, k, v)
    local = fastattn.block_sparse_attention(q, k, v, window)
    assert np.all(dense[0, rows, 0] > 9.0)                 # the needle dominates
    np.testing.assert_allclose(out[0, rows], dense[0, rows], atol=1e-2)  # the rest is ~1e-4
    assert np.all(np.abs(local[0, rows, 0]) < 2.0)          # the window misses it


def test_quality_retention_at_one_eighth_density():
    """(d) On inputs with local structure plus long-range matches, routed attention at
    12.5% block density keeps 0.892 of dense attention (1 - relative Frobenius error,
    measured at L = 2048, 4 heads, seed 0) where a sliding window |i - j| <= 128 keeps
    0.625 with a larger budget (15.0% of blocks); asserted with margins."""
    q, k, v = structured_inputs(2048, heads=4)
    dense = fastattn.attention(q, k, v)
    out = fastattn.routed_attention(q, k, v, block=64, density=0.125)
    layout = fastattn.route(q, k, block=64, density=0.125)
    window = fastattn.local_layout(2048, 2048, window=128, block=64)
    kept_routed = retention(out, dense)
    kept_window = retention(fastattn.block_sparse_attention(q, k, v, window), dense)
    assert layout.density == 0.125
    assert kept_routed >= 0.85, kept_routed
    assert kept_routed >= kept_window + 0.2, (kept_routed, kept_window)


def test_routing_cost_is_reported():
    rng = np.random.default_rng(1)
    q = gaussian(rng, 2, 1024, 32)
    layout = fastattn.route(q, q, top_k=4)
    assert layout.meta["pattern"] == "routed"
    assert layout.meta["routing_seconds"] > 0
    # routed_attention is route + block_sparse_attention (the attention time is the caller's
    # to measure: it has no layout to report it in).
    np.testing.assert_array_equal(fastattn.routed_attention(q, q, q, top_k=4),
                                  fastattn.block_sparse_attention(q, q, q, layout))
    assert layout.meta["block_pairs_scored"] == 2 * 16 * 16
    assert layout.lead_shape == (2,) and layout.density == 4 / 16


@given(
    lead=st.tuples(st.integers(1, 2), st.integers(1, 3)),
    length=st.sampled_from([1, 15, 16, 17, 64, 65, 130]),
    d=st.sampled_from([1, 3, 16, 33]),
    block=st.sampled_from([1, 7, 16, 64, 200]),
    step=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_means_match_reference(lead, length, d, block, step, seed):
    """The router's C pooling (csrc/sparse/pool.c) against reference block_means, on
    strided and broadcast views (every row is summed in float64, so only the summation
    order differs)."""
    rng = np.random.default_rng(seed)
    x = gaussian(rng, lead[0], lead[1], length * step, d + 2, scale=3.0)[:, :, ::step, 1:d + 1]
    if lead[0] == 2:
        x = np.broadcast_to(x[:1], x.shape)  # stride 0 on the batch axis
    out = np.full((*lead, -(-length // block), d), np.nan)
    _core.block_means(x, block, out)
    expected = ref.block_means(x.astype(np.float64), block)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)


def test_block_means_checks_its_arrays():
    x = np.ones((1, 2, 10, 4), np.float32)
    with pytest.raises(ValueError, match="out has shape"):
        _core.block_means(x, 4, np.empty((1, 2, 2, 4)))
    with pytest.raises(ValueError):
        _core.block_means(x, 0, np.empty((1, 2, 3, 4)))
    with pytest.raises(ValueError):
        _core.block_means(x[:, :, ::-1], 4, np.empty((1, 2, 3, 4)))


def test_bad_arguments():
    x = np.ones((2, 128, 8), np.float32)
    with pytest.raises(ValueError, match="top_k or density, not both"):
        fastattn.routed_attention(x, x, x, top_k=2, density=0.5)
    with pytest.raises(ValueError, match=r"density must be in \(0, 1\]"):
        fastattn.routed_attention(x, x, x, density=1.5)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        fastattn.routed_attention(x, x, x, top_k=0)
    with pytest.raises(ValueError, match=r"proj must have shape \(D, r\) = \(8, r\)"):
        fastattn.routed_attention(x, x, x, proj=np.ones((4, 2)))
    with pytest.raises(TypeError, match="block must be an int"):
        fastattn.routed_attention(x, x, x, block=1.5)
    with pytest.raises(ValueError, match="local_blocks must be >= 1"):
        fastattn.route(x, x, local_blocks=0)
