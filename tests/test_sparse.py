"""Block-sparse float32 attention: every compiled variant against reference/sparse.py,
on random layouts and on every pattern, plus layout validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastattn
from fastattn import _core
from fastattn._dispatch import SPARSE_F32
from fastattn.reference import dense as dense_ref
from fastattn.reference import sparse as ref
from helpers import (
    assert_unseen_rows_zero,
    check_close,
    check_empty_rows,
    compiled,
    gaussian,
    lengths,
    max_logit,
    over_patterns,
    raises,
    random_layouts,
    rejects_corrupt_csr,
    sparse_patterns,
    sparse_reference,
    tile,
)

VARIANTS = compiled("sparse-f32")
# Around the float32 engine's query block and key tile (_core.TILES), and the layout's blocks:
# a layout block taller than the engine's query block runs its per-block query loop twice.
EDGE_LENGTHS = st.sampled_from(lengths("f32", 2, 7, 63, 64, 65, 200))
ROWS, KEYS = tile("f32")
BLOCKS = st.sampled_from(sorted({1, 16, 32, 63, 64, 65, 100, ROWS - 1, ROWS, ROWS + 1, KEYS + 1}))
DIMS = st.sampled_from([1, 8, 17, 32, 64])
WINDOWS = st.sampled_from([None, 0, 5, (3, 40), (0, 0), (70, 2), 10_000])


def check_layout(variant, layout, rng, batch=1, heads=2, kv_heads=1, d=16, dv=8, mask=None):
    q = gaussian(rng, batch, heads, layout.lq, d)
    k = gaussian(rng, batch, kv_heads, layout.lk, d)
    v = gaussian(rng, batch, kv_heads, layout.lk, dv)
    out = fastattn.block_sparse_attention(q, k, v, layout, mask=mask, variant=variant)
    check_close(out, sparse_reference(q, k, v, layout, mask), v, max_logit(q, k, d ** -0.5),
                layout.lk)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@given(case=random_layouts(EDGE_LENGTHS, BLOCKS, WINDOWS), d=DIMS, dv=DIMS, masked=st.booleans())
def test_random_layouts_match_reference(variant, case, d, dv, masked):
    layout, rng = case.layout, case.rng
    np.testing.assert_array_equal(layout.to_dense_mask(), ref.token_mask(
        layout.indptr, layout.indices, layout.lq, layout.lk, layout.block_q, layout.block_k,
        layout.window, layout.causal, case.global_tokens))
    mask = rng.random((1, case.heads, layout.lq, layout.lk)) < 0.8 if masked else None
    out = check_layout(variant, layout, rng, case.batch, case.heads, case.kv_heads, d, dv, mask)
    if mask is None:
        assert_unseen_rows_zero(out, layout)


PATTERNS = sparse_patterns(bigbird_heads=2)


@over_patterns(VARIANTS, PATTERNS, EDGE_LENGTHS)
def test_patterns_match_reference(variant, pattern, lq, lk, causal, seed):
    layout = PATTERNS[pattern](lq, lk, causal)
    check_layout(variant, layout, np.random.default_rng(seed), kv_heads=2)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("window", [0, 1, 50, 64, 65, 500])
@pytest.mark.parametrize("causal", [False, True])
def test_local_attention_has_exact_borders(variant, window, causal):
    rng = np.random.default_rng(window)
    q, k, v = gaussian(rng, 2, 300, 16), gaussian(rng, 2, 300, 16), gaussian(rng, 2, 300, 8)
    i, j = np.arange(300)[:, None], np.arange(300)[None, :]
    visible = np.abs(i - j) <= window
    if causal:
        visible &= j <= i
    out = fastattn.local_attention(q, k, v, window=window, causal=causal, variant=variant)
    check_close(out, dense_ref.attention(q, k, v, mask=visible), v, max_logit(q, k, 0.25), 300)
    left, right = 7, 90
    out = fastattn.local_attention(q, k, v, window=(left, right), variant=variant)
    visible = (j >= i - left) & (j <= i + right)
    check_close(out, dense_ref.attention(q, k, v, mask=visible), v, max_logit(q, k, 0.25), 300)


@pytest.mark.parametrize("variant", VARIANTS)
def test_window_wider_than_sequence_is_dense(variant):
    rng = np.random.default_rng(1)
    q, k, v = gaussian(rng, 3, 130, 32), gaussian(rng, 3, 70, 32), gaussian(rng, 3, 70, 32)
    for causal in (False, True):
        out = fastattn.local_attention(q, k, v, window=1000, causal=causal, variant=variant)
        want = fastattn.attention(q, k, v, causal=causal)
        np.testing.assert_allclose(out, want, atol=1e-6)


def test_longformer_global_tokens():
    rng = np.random.default_rng(2)
    q, k, v = gaussian(rng, 2, 256, 16), gaussian(rng, 2, 256, 16), gaussian(rng, 2, 256, 16)
    g = [3, 200]
    out = fastattn.local_attention(q, k, v, window=8, global_tokens=g)
    i, j = np.arange(256)[:, None], np.arange(256)[None, :]
    visible = (np.abs(i - j) <= 8) | np.isin(i, g) | np.isin(j, g)
    check_close(out, dense_ref.attention(q, k, v, mask=visible), v, max_logit(q, k, 0.25), 256)
    # A global query sees everything: its row equals dense attention's.
    np.testing.assert_allclose(out[:, 200], fastattn.attention(q, k, v)[:, 200], atol=1e-6)


def test_to_dense_mask_and_density():
    layout = fastattn.local_layout(256, 256, window=(64, 0), causal=True, block=64)
    i, j = np.arange(256)[:, None], np.arange(256)[None, :]
    np.testing.assert_array_equal(layout.to_dense_mask(), (j <= i) & (j >= i - 64))
    assert layout.nnz == 7 and layout.density == 7 / 16
    np.testing.assert_array_equal(layout.block_mask(), np.eye(4, dtype=bool)
                                  | np.eye(4, k=-1, dtype=bool))
    np.testing.assert_array_equal(
        ref.token_mask(layout.indptr, layout.indices, 256, 256, 64, 64, (64, 0), True),
        layout.to_dense_mask())
    assert "density=0.438" in repr(layout)


def test_bigbird_is_seeded_and_reproducible():
    a = fastattn.bigbird_layout(1024, 1024, heads=4, seed=11)
    b = fastattn.bigbird_layout(1024, 1024, heads=4, seed=11)
    c = fastattn.bigbird_layout(1024, 1024, heads=4, seed=12)
    np.testing.assert_array_equal(a.block_mask(), b.block_mask())
    assert not np.array_equal(a.block_mask(), c.block_mask())
    m = a.block_mask()
    assert m.shape == (4, 16, 16)
    assert m[:, 0].all() and m[:, :, 0].all()  # global block, both directions
    rows = m[:, 1:].sum(axis=-1)
    assert rows.max() <= 1 + 3 + 3 and rows.min() >= 1 + 2 + 3  # global + window + random


@pytest.mark.parametrize("variant", VARIANTS)
def test_empty_rows_give_zeros(variant):
    rng = np.random.default_rng(3)
    empty = check_empty_rows(check_layout, variant, rng)
    assert empty.density == 0.0
    assert np.all(fastattn.block_sparse_attention(*(gaussian(rng, 250, 8),) * 1,
                                                  gaussian(rng, 150, 8), gaussian(rng, 150, 8),
                                                  empty, variant=variant) == 0)


def test_gqa_threads_dtypes_and_strides():
    rng = np.random.default_rng(4)
    q = gaussian(rng, 2, 6, 200, 32)
    k, v = gaussian(rng, 2, 2, 200, 32), gaussian(rng, 2, 2, 200, 32)
    layout = fastattn.bigbird_layout(200, 200, heads=6, seed=1, block=32)
    one = fastattn.block_sparse_attention(q, k, v, layout, num_threads=1)
    for n in (2, 5):
        np.testing.assert_array_equal(fastattn.block_sparse_attention(q, k, v, layout,
                                                                      num_threads=n), one)
    for h in range(6):  # query head h reads key/value head h // 3, with its own layout
        single = fastattn.BlockLayout(layout.indptr[h], layout.indices, (200, 200), 32)
        np.testing.assert_array_equal(
            fastattn.block_sparse_attention(q[:, h], k[:, h // 3], v[:, h // 3], single),
            one[:, h])
    out = fastattn.block_sparse_attention(q.astype(np.float64), k[..., ::1], v, layout)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, one, atol=1e-6)
    wide = gaussian(rng, 2, 2, 200, 64)[..., ::2]  # non-contiguous last axis
    check_close(fastattn.block_sparse_attention(q, wide, v, layout),
                sparse_reference(q, wide, v, layout), v, max_logit(q, wide, 32 ** -0.5), 200)


def test_bad_layouts_are_rejected_clearly():
    layout = fastattn.BlockLayout
    raises(r"indptr must have shape", layout, [0, 1], [0], (128, 128), 64)
    raises(r"indices\[1\] = 2 .* outside \[0, nkblocks = 2\)", layout, [0, 1, 2], [0, 2],
           (128, 128), 64)
    raises(r"indices\[0\] = -1", layout, [0, 1, 2], [-1, 0], (128, 128), 64)
    raises(r"strictly increasing: 1 then 0", layout, [0, 2, 2], [1, 0], (128, 128), 64)
    raises(r"strictly increasing: 1 then 1", layout, [0, 2, 2], [1, 1], (128, 128), 64)
    raises(r"indptr decreases", layout, [0, 2, 1], [0, 1], (128, 128), 64)
    raises(r"indptr\[.*\] = 3 is outside \[0, nnz = 2\]", layout, [0, 2, 3], [0, 1], (128, 128), 64)
    raises(r"must be integers", layout, [0.0, 1.0, 1.0], [0], (128, 128), 64, exc=TypeError)
    raises(r"block must be >= 1", layout, [0], [], (128, 128), 0)
    raises(r"shape must be", layout, [0, 0, 0], [], (0, 128), 64)
    raises(r"global token 500 is outside", layout, [0, 0, 0], [], (128, 128), 64,
           global_tokens=[500])
    raises(r"window\[0\] \(left\) must be >= 0", fastattn.local_layout, 10, 10, (-1, 3))
    raises(r"window must be an int or a pair", fastattn.local_layout, 10, 10, "wide",
           exc=TypeError)
    raises(r"summary_blocks \(4\) must not exceed", fastattn.fixed_layout, 64, 64, 3,
           summary_blocks=4)
    x = np.ones((2, 128, 8), np.float32)
    ok = fastattn.local_layout(128, 128, 10)
    raises(r"layout is for \(Lq, Lk\) = \(128, 128\) but .* Lk=64", fastattn.block_sparse_attention,
           x, x[:, :64], x[:, :64], ok)
    per_head = fastattn.bigbird_layout(128, 128, heads=3)
    raises(r"leading dims \(3,\) do not broadcast", fastattn.block_sparse_attention, x, x, x,
           per_head)
    raises(r"must be a fastattn.BlockLayout", fastattn.block_sparse_attention, x, x, x, "dense",
           exc=TypeError)


@pytest.mark.parametrize("variant", VARIANTS)
def test_kernel_validates_raw_csr(variant):
    """The C side re-checks every index: a corrupt CSR that bypasses BlockLayout gives
    an error, never an out-of-bounds read."""
    rng = np.random.default_rng(5)
    q = gaussian(rng, 1, 1, 128, 8)
    out = np.empty_like(q)
    index = SPARSE_F32.resolve(variant).index

    def call(indptr, indices, layout_of=(0,), block=64):
        _core.sparse_f32(q, q, q, out, None, 1.0, -_core.BAND_NONE, _core.BAND_NONE,
                         np.asarray(indptr, np.int32).reshape(-1, 3), np.asarray(indices, np.int32),
                         np.asarray(layout_of, np.int32), block, block, None, None,
                         _core.BAND_NONE, index, 1)

    rejects_corrupt_csr(call)
