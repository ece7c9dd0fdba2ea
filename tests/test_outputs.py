"""Output arrays of the ops: large ones are 64-byte aligned and recycled once the caller
has dropped them, never while any view of them lives (fastattn/_outputs.pxi)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import fastattn
from fastattn import _core, _outputs

SHAPE = (1, 4, 1024, 64)  # a float32 output of exactly 1 MiB: _outputs.BLOCK_MIN


@pytest.fixture
def qkv():
    rng = np.random.default_rng(7)
    return tuple(rng.standard_normal(SHAPE).astype(np.float32) for _ in range(3))


@pytest.fixture(autouse=True)
def cache_limit():
    before = _core.output_cache_limit()
    _core.set_output_cache_limit(0)  # an empty idle list: earlier tests leave blocks there
    _core.set_output_cache_limit(64 << 20)
    yield
    _core.set_output_cache_limit(before)


@pytest.mark.parametrize("op", ["dense", "linear"])
def test_large_output_aligned_and_recycled_after_drop(qkv, op):
    call = {"dense": lambda: fastattn.attention(*qkv),
            "linear": lambda: fastattn.linear_attention(*qkv)}[op]
    first = call()
    assert first.ctypes.data % 64 == 0 and first.flags.writeable and first.dtype == np.float32
    address, expected = first.ctypes.data, first.copy()
    del first
    second = call()
    assert second.ctypes.data == address
    np.testing.assert_array_equal(second, expected)


def test_live_view_keeps_its_memory(qkv):
    q, k, v = qkv
    first = fastattn.attention(q, k, v)
    address, expected = first.ctypes.data, first[0, 2:].copy()
    view = first[0, 2:]
    del first
    for scale in (2.0, 3.0):  # each call's result is dropped at once and may be recycled
        other = fastattn.attention(q * scale, k, v)
        assert other.ctypes.data != address
        del other
    np.testing.assert_array_equal(view, expected)


def test_float64_inputs_give_the_block_back(qkv):
    assert _core.output_cache_idle() == (0, 0)
    out = fastattn.attention(*(x.astype(np.float64) for x in qkv))
    assert out.dtype == np.float64
    assert _core.output_cache_idle() == (1, 4 * int(np.prod(SHAPE)))


def test_limit_zero_keeps_nothing(qkv):
    _core.set_output_cache_limit(0)
    out = fastattn.attention(*qkv)
    del out
    assert _core.output_cache_idle() == (0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        _core.set_output_cache_limit(-1)


def test_tracemalloc_counts_a_block_in_use(qkv):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fastattn.attention(*qkv)
        assert tracemalloc.get_traced_memory()[0] - base >= out.nbytes
        del out
        assert tracemalloc.get_traced_memory()[0] - base < 4 * int(np.prod(SHAPE))
    finally:
        tracemalloc.stop()


def test_bad_environment_value_warns(monkeypatch):
    for bad in ("lots", "-1"):
        monkeypatch.setenv("FASTATTN_OUTPUT_CACHE_MB", "0")
        _outputs._configure()
        monkeypatch.setenv("FASTATTN_OUTPUT_CACHE_MB", bad)
        with pytest.warns(RuntimeWarning, match=f"FASTATTN_OUTPUT_CACHE_MB='{bad}' is not an "
                                                f"integer >= 0; using {_outputs.DEFAULT_CACHE_MB}"):
            _outputs._configure()
        assert _core.output_cache_limit() == _outputs.DEFAULT_CACHE_MB << 20
    monkeypatch.setenv("FASTATTN_OUTPUT_CACHE_MB", "0")
    _outputs._configure()
    assert _core.output_cache_limit() == 0


def test_small_outputs_are_plain_arrays():
    small = _outputs.empty((3, 5))
    assert small.flags.owndata and small.shape == (3, 5) and small.dtype == np.float32


def test_idle_list_keeps_the_newest_within_its_limit():
    sizes = [(1 << 20) + 4096 * i for i in range(6)]  # six distinct sizes, four slots
    for n in sizes:
        _outputs.empty((n // 4,))  # dropped at once: its block goes idle
    assert _core.output_cache_idle() == (4, sum(sizes[2:]))
    _core.set_output_cache_limit(sizes[5] + sizes[4])
    assert _core.output_cache_idle() == (2, sizes[4] + sizes[5])
    big = _outputs.empty(((sizes[5] + sizes[4]) // 4 + 1,))  # alone over the limit
    del big
    assert _core.output_cache_idle() == (2, sizes[4] + sizes[5])


@pytest.mark.parametrize("shape", [(1,), (3, 5), (4097, 64), (1 << 18,)])
def test_zeros_start_on_a_line(shape):
    """_outputs.zeros (the gemm_parts_call operands): zeros of the shape, C order, float32,
    on a 64-byte line (np.zeros of these sizes often is not)."""
    x = _outputs.zeros(shape)
    assert x.shape == shape and x.dtype == np.float32 and x.flags.c_contiguous
    assert x.ctypes.data % 64 == 0 and not x.any()
