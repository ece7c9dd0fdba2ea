"""fastattn.profile and fastattn.cost: the figures follow from the cost models, the options
never reach the op, peak memory sees the NumPy buffers the call allocates."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import fastattn
from fastattn import costs, energy

SHAPE = (1, 2, 256, 32)


def arrays(shape=SHAPE, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for _ in range(3))


def test_dense_cost_counts():
    b, h, n, d = SHAPE
    c = fastattn.cost(fastattn.attention, SHAPE, SHAPE, SHAPE)
    assert c.macs == {"fp32": b * h * n * n * 2 * d}
    assert c.ops == 2 * c.macs["fp32"]
    assert c.bytes_read == 3 * 4 * b * h * n * d and c.bytes_written == 4 * b * h * n * d
    causal = fastattn.cost(fastattn.attention, SHAPE, SHAPE, SHAPE, causal=True)
    assert causal.macs["fp32"] == b * h * n * (n + 1) // 2 * 2 * d
    # bottom-right alignment: 3 queries against 5 keys see 3, 4 and 5 keys
    assert costs.band_pairs(3, 5, 5 - 3) == 12
    # PyTorch's top-left alignment: 1, 2, 3
    assert fastattn.cost(fastattn.scaled_dot_product_attention, (3, 4), (5, 4), (5, 4),
                         is_causal=True).macs["fp32"] == 6 * 8


def test_arrays_and_shapes_agree_and_dtypes_count():
    q, k, v = arrays()
    assert fastattn.cost(fastattn.attention, q, k, v) == fastattn.cost(
        fastattn.attention, SHAPE, SHAPE, SHAPE)
    q64, k64, v64 = arrays(dtype=np.float64)
    c64 = fastattn.cost(fastattn.attention, q64, k64, v64)
    c32 = fastattn.cost(fastattn.attention, q, k, v)
    assert c64.bytes_read > c32.bytes_read and c64.allocated_bytes > c32.allocated_bytes


def test_gqa_counts_query_heads():
    c = fastattn.cost(fastattn.attention, (2, 8, 64, 16), (2, 2, 64, 16), (2, 2, 64, 16))
    assert c.macs["fp32"] == 2 * 8 * 64 * 64 * 32


def test_int8_cost_and_prequantised_keys():
    q, k, v = arrays()
    c8 = fastattn.cost(fastattn.attention, q, k, v, precision="int8")
    assert set(c8.macs) == {"int8"}
    assert c8.macs["int8"] == fastattn.cost(fastattn.attention, q, k, v).macs["fp32"]
    qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
    cq = fastattn.cost(fastattn.attention, q, qk, qv, precision="int8")
    assert cq.bytes_read < c8.bytes_read and cq.other_ops["fp32"] < c8.other_ops["fp32"]


def test_sparse_costs_follow_the_layout():
    q, k, v = arrays(shape=(1, 2, 512, 32))
    dense = fastattn.cost(fastattn.attention, q, k, v).macs["fp32"]
    full = fastattn.BlockLayout.from_block_mask(np.ones((8, 8), bool), (512, 512), 64)
    assert fastattn.cost(fastattn.block_sparse_attention, q, k, v, full).macs["fp32"] == dense
    layout = fastattn.local_layout(512, 512, 64, block=64)
    local = fastattn.cost(fastattn.local_attention, q, k, v, window=64).macs["fp32"]
    assert local == pytest.approx(dense * layout.density)
    routed = fastattn.cost(fastattn.routed_attention, q, k, v, density=0.25)
    assert dense * 0.2 < routed.macs["fp32"] < dense * 0.4


def test_cost_of_an_unregistered_function():
    with pytest.raises(TypeError, match="no cost model registered"):
        fastattn.cost(np.matmul, (2, 2), (2, 2))


def test_register_a_new_model():
    def my_op(x, *, width=2):
        return x

    @costs.register(my_op)
    def _model(args):
        return costs.Cost(macs={"int8": costs.describe(args["x"]).nbytes * args["width"]})

    assert fastattn.cost(my_op, (4, 4)).macs == {"int8": 128}
    assert my_op in costs.registered()


def test_profile_reports_everything():
    q, k, v = arrays()
    p = fastattn.profile(fastattn.attention, q, k, v, causal=True, repeat=5, warmup=1)
    assert len(p.times) == 5 and p.min_s <= p.median_s
    assert p.cost == fastattn.cost(fastattn.attention, q, k, v, causal=True)
    assert p.gops == pytest.approx(p.cost.ops / p.median_s / 1e9)
    # the output (2 * 256 * 32 float32) is allocated by every call and traced
    assert p.peak_bytes >= q.nbytes
    assert p.energy is not None and p.energy.source in ("measured", "modelled")
    assert p.modelled_energy.joules == pytest.approx(energy.EnergyModel().joules(p.cost))
    if p.energy.source == "modelled":
        assert p.tops_per_w == pytest.approx(p.cost.ops / p.energy.joules / 1e12)
    text = str(p)
    for word in ("median", "MiB traced", "fp32 MACs", "GOP/s", "mJ/call", "TOPS/W"):
        assert word in text
    assert p.as_dict()["cost"]["macs"] == p.cost.macs


def test_profile_sees_the_output_and_the_int8_copies():
    """The C kernels allocate nothing; the output, the binding's workspace and the int8
    path's quantised copies are NumPy buffers, so tracemalloc sees all of them."""
    q, k, v = arrays(shape=(1, 2, 512, 64))
    f32 = fastattn.profile(fastattn.attention, q, k, v, repeat=1)
    assert f32.peak_bytes >= q.nbytes
    i8 = fastattn.profile(fastattn.attention, q, k, v, precision="int8", repeat=1)
    assert i8.peak_bytes >= q.nbytes + 3 * q.nbytes // 4  # output + int8 q, k, v


def test_profile_options_never_reach_the_op():
    seen = {}

    def op(x, *, scale=1.0):
        seen.update(x=x, scale=scale)
        return x

    p = fastattn.profile(op, 3, scale=2.0, repeat=2, warmup=0, measure_energy=False)
    assert seen == {"x": 3, "scale": 2.0} and p.cost is None and p.energy is None
    assert p.tops_per_w is None and p.gops is None

    def clash(x, repeat=1):
        return x

    with pytest.raises(TypeError, match="functools.partial"):
        fastattn.profile(clash, 1)
    assert fastattn.profile(functools.partial(clash, repeat=3), 1, repeat=1).times
    with pytest.raises(ValueError, match="repeat"):
        fastattn.profile(op, 1, repeat=0)


def test_kvcache_attend_cost():
    cache = fastattn.KVCache(1, 2, 32, 100, precision="int8")
    rng = np.random.default_rng(0)
    cache.append(*(rng.standard_normal((1, 2, 100, 32)).astype(np.float32) for _ in range(2)))
    q = rng.standard_normal((1, 4, 1, 32)).astype(np.float32)
    c = fastattn.cost(cache.attend, q)
    assert c.macs == {"int8": 4 * 100 * 64}
    assert c.bytes_read < 4 * 2 * 100 * 32  # int8 tokens, not float32
