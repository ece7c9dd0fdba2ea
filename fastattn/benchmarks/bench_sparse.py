"""Block-sparse and routed attention, float32 and int8, against dense fastattn float32 (the
baseline) and PyTorch SDPA float32 (when importable). B=1, H=8, D=64, one thread.

The int8 rows take float q, k, v and quantise inside the call (``-i8``), or take keys and
values quantised once beforehand, as from a key/value cache (``-i8-kv``); they use the
kernel dispatch picks (extra_info ``variant``), and ``fastattn-routed-<variant>`` forces
each other SIMD variant that runs here (e.g. ``i8-avx2`` where dispatch picks
``i8-avx512vnni``), so every int8 kernel of the CPU is compared in one run. Their
extra_info holds the speed-ups over torch and over the float32 row of the same pattern,
measured in the same run.

Inputs (``fastattn._workloads.structured_inputs``) have the structure sparse attention relies
on: local matches plus long-range recalls a sliding window misses.
Beside each time: the fraction of block pairs computed (``density``), the router's
share of the call (``routing_share``) and the quality kept relative to dense attention
(``retention`` = 1 - ||out - dense|| / ||dense||, Frobenius norms).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

import fastattn
from fastattn import _dispatch
from fastattn._workloads import retention, structured_inputs
from fastattn.benchmarks import peers
from fastattn.benchmarks.conftest import alternatives

HEADS, DIM, BLOCK = 8, 64, 64
WINDOW = 256        # |i - j| <= 256: 513 keys per query, 12.5% of L = 4096
DENSITY = 0.125     # routed: 1 in 8 key blocks per query block
LENGTHS = [4096, 8192]
SCALING_LENGTHS = [2048, 4096, 8192, 16384]
FORCED = {f"fastattn-routed-{name}": name for name in alternatives("sparse-i8")}
IMPLS = ["fastattn-dense-f32", "torch-sdpa-f32", "fastattn-local-f32", "fastattn-routed-f32",
         "fastattn-local-i8", "fastattn-routed-i8", "fastattn-routed-i8-kv", *FORCED]
_MEDIANS: dict = {}


@functools.lru_cache(maxsize=2)
def _dense_output(length: int) -> np.ndarray:
    return fastattn.attention(*structured_inputs(length), num_threads=1)


def _build(impl, length):
    q, k, v = structured_inputs(length)
    precision = "int8" if "-i8" in impl else "fp32"
    if impl.endswith("-kv"):  # a key/value cache: quantised once, outside the timed call
        k, v = fastattn.quantize(k), fastattn.quantize(v, kind="value")
    extra = {"precision": precision}
    variant = FORCED.get(impl)
    if precision == "int8":
        extra["variant"] = variant or _dispatch.SPARSE_I8.chosen.name
    if impl == "fastattn-dense-f32":
        fn = functools.partial(fastattn.attention, q, k, v, num_threads=1)
        extra.update(density=1.0, retention=1.0)
    elif impl == "torch-sdpa-f32":
        fn = peers.torch_sdpa(q, k, v, False, 1)
        extra.update(density=1.0)
    elif impl.startswith("fastattn-local"):
        layout = fastattn.local_layout(length, length, WINDOW, block=BLOCK)
        fn = functools.partial(fastattn.block_sparse_attention, q, k, v, layout, num_threads=1,
                               precision=precision)
        extra.update(density=layout.density, window=WINDOW,
                     retention=retention(fn(), _dense_output(length)))
    else:
        fn = functools.partial(fastattn.routed_attention, q, k, v, block=BLOCK, density=DENSITY,
                               num_threads=1, precision=precision, variant=variant)
        layout = fastattn.route(q, k, block=BLOCK, density=DENSITY)
        t0 = time.perf_counter()
        out = fastattn.block_sparse_attention(q, k, v, layout, num_threads=1,
                                              precision=precision, variant=variant)
        attention = time.perf_counter() - t0
        routing = layout.meta["routing_seconds"]
        extra.update(density=layout.density, routing_seconds=routing,
                     routing_share=routing / (routing + attention),
                     retention=retention(out, _dense_output(length)))
    return fn, extra


def _float_peer(impl: str) -> str:
    """The float32 row of the same pattern: fastattn-routed-i8-kv -> fastattn-routed-f32."""
    return impl.split("-i8")[0] + "-f32"


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("impl", IMPLS)
def bench_sparse(record, benchmark, impl, length):
    fn, extra = _build(impl, length)
    if fn is None:
        pytest.skip(f"{impl}: torch not installed")
    dense_flops = 4 * HEADS * length * length * DIM
    median = record(fn, group=f"sparse L={length} threads=1", name=impl,
                    baseline=impl == "fastattn-dense-f32",
                    flops=dense_flops * extra["density"],
                    extra=dict(length=length, threads=1, dense_equivalent_flops=dense_flops,
                               **extra))
    _MEDIANS[(impl, length)] = median
    if "-i8" in impl:
        for peer in ("torch-sdpa-f32", _float_peer(impl)):
            if (peer, length) in _MEDIANS:
                benchmark.extra_info[f"speedup_vs_{peer}"] = _MEDIANS[(peer, length)] / median


@pytest.mark.parametrize("length", SCALING_LENGTHS)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def bench_local_scaling(record, precision, length):
    """Sliding window w=256 should cost O(L): time / L stays flat (x base ~ 2048 / L)."""
    q, k, v = structured_inputs(length)
    layout = fastattn.local_layout(length, length, WINDOW, block=BLOCK)
    fn = functools.partial(fastattn.block_sparse_attention, q, k, v, layout, num_threads=1,
                           precision=precision)
    t0 = time.perf_counter()
    fn()
    dtype = "i8" if precision == "int8" else "f32"
    record(fn, group=f"local {dtype} w={WINDOW} threads=1, L scaling", name=f"L={length}",
           baseline=length == SCALING_LENGTHS[0],
           flops=4 * HEADS * length * length * DIM * layout.density,
           extra=dict(length=length, density=layout.density, precision=precision,
                      first_call_us_per_token=(time.perf_counter() - t0) / length * 1e6))
