"""Dense int8 attention vs fastattn float32 (baseline) and PyTorch SDPA float32.

B=1, H=8, D=64, Lq = Lk, one thread. Implementations:
- fastattn-f32: float32 kernels (the in-run baseline);
- torch-sdpa-f32: PyTorch's scaled_dot_product_attention, when importable;
- fastattn-i8: float q, k, v in, everything quantised inside the call;
- fastattn-i8-kv: keys and values quantised once beforehand (a key/value cache),
  only q quantised per call;
- fastattn-<variant>: as fastattn-i8 with each other SIMD variant that runs here forced
  (`alternatives`: e.g. i8-avx2 where dispatch picks i8-avx512vnni), so every int8
  kernel of the CPU is compared in one run.
The fastattn-i8 rows use the kernel dispatch picks (extra_info "variant").

extra_info of the int8 rows: effective int8 GMAC/s (2·H·L²·D multiply-accumulates
per call), the fraction of this machine's int8 MAC peak (measured in this run
by a tiny loop of the best int8 dot instruction the CPU has: vpdpbusd with
AVX-512 VNNI, else vpmaddubsw + vpmaddwd; SDOT or smull/sadalp on aarch64), the
speed-ups over fastattn-f32 and torch measured in the same run, and the int8
key/value bytes against float32.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

import fastattn
from fastattn import _core, _dispatch
from fastattn.benchmarks import peers
from fastattn.benchmarks.conftest import alternatives

LENGTHS = [512, 1024, 2048, 4096]
HEADS, DIM = 8, 64
FORCED = {f"fastattn-{name}": name for name in alternatives("dense-i8")}
IMPLS = ["fastattn-f32", "torch-sdpa-f32", "fastattn-i8", "fastattn-i8-kv", *FORCED]
_MEDIANS: dict = {}


@functools.cache
def int8_peak_gmacs() -> float:
    """Best of 5 runs of the int8 multiply-accumulate loop, about 0.1 s each."""
    iters = 1 << 16
    while True:
        t0 = time.perf_counter()
        _core.i8_peak_loop(iters)
        if time.perf_counter() - t0 > 0.02:
            break
        iters *= 2
    iters *= 5
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        macs = _core.i8_peak_loop(iters)
        best = max(best, macs / (time.perf_counter() - t0) / 1e9)
    return best


def make_inputs(length, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((1, HEADS, length, DIM), dtype=np.float32)
                 for _ in range(3))


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("impl", IMPLS)
def bench_dense_i8(record, benchmark, impl, length):
    q, k, v = make_inputs(length)
    extra = dict(length=length, threads=1, kv_bytes_fp32=k.nbytes + v.nbytes)
    if impl == "fastattn-f32":
        fn = functools.partial(fastattn.attention, q, k, v, num_threads=1)
    elif impl == "torch-sdpa-f32":
        fn = peers.torch_sdpa(q, k, v, False, 1)
        if fn is None:
            pytest.skip("torch not installed")
    elif impl == "fastattn-i8":
        fn = functools.partial(fastattn.attention, q, k, v, precision="int8", num_threads=1)
    elif impl in FORCED:
        fn = functools.partial(fastattn.attention, q, k, v, precision="int8", num_threads=1,
                               variant=FORCED[impl])
    else:
        qk, qv = fastattn.quantize(k), fastattn.quantize(v, kind="value")
        extra["kv_bytes_int8"] = qk.nbytes + qv.nbytes
        fn = functools.partial(fastattn.attention, q, qk, qv, precision="int8", num_threads=1)
    macs = 2 * HEADS * length * length * DIM
    if impl.startswith("fastattn-i8"):
        peak = int8_peak_gmacs()
        chosen = FORCED.get(impl, _dispatch.DENSE_I8.chosen.name)
        extra.update(int8_peak_gmacs=peak, variant=chosen)
    median = record(fn, group=f"dense i8 L={length} threads=1", name=impl,
                    baseline=impl == "fastattn-f32", flops=2 * macs, macs=macs, extra=extra)
    _MEDIANS[(impl, length)] = median
    if impl.startswith("fastattn-i8"):
        for peer in ("fastattn-f32", "torch-sdpa-f32"):
            if (peer, length) in _MEDIANS:
                benchmark.extra_info[f"speedup_vs_{peer}"] = _MEDIANS[(peer, length)] / median
        benchmark.extra_info["peak_fraction"] = macs / median / 1e9 / extra["int8_peak_gmacs"]
