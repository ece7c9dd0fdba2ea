"""Decoding one token against a key/value cache: fastattn vs PyTorch SDPA (baseline when
installed, else plain NumPy), and each row against this machine's read-bandwidth floor.

B=1, H=8 (kv heads = query heads), D=64, Lq=1, Lk = 1k, 4k, 16k, 64k; 1 thread and all
threads. Implementations:
- torch-sdpa-f32: ``torch.nn.functional.scaled_dot_product_attention`` on float32 tensors;
- numpy-f32: two float32 matmuls and a softmax (the baseline without torch);
- fastattn-f32: ``KVCache(precision="fp32").attend`` (the decode kernels);
- fastattn-int8: ``KVCache(precision="int8").attend`` (int8 keys/values, per-token scales),
  the variant dispatch picks; fastattn-int8:<variant> each other int8 variant that runs here
  (e.g. ``i8-avx2`` beside ``i8-avx512vnni``);
- read-sweep: one read of a buffer as large as the float32 cache (the floor itself), on the
  pages a cache of that size gets (huge pages where the OS offers them).

The floor of a row is the bytes it must read (keys and values, plus the int8 scales)
divided by the read bandwidth measured in the same benchmark just before it, the fastest
of 7 sweeps of a buffer of that many bytes on the same number of threads (so a cache that
fits in the last-level cache is compared with a sweep that fits too). extra_info holds
``bandwidth_gbs``, ``floor_ms`` and ``x_floor`` (median / floor: 1.0 is the floor); a table
of them closes the run.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import fastattn
from fastattn import _core, _dispatch, _pages
from fastattn.benchmarks import peers
from fastattn.benchmarks.conftest import all_threads, alternatives

LENGTHS = [1024, 4096, 16384, 65536]
HEADS, DIM = 8, 64
IMPLS = (["torch-sdpa-f32", "numpy-f32", "fastattn-f32", "fastattn-int8"]
         + [f"fastattn-int8:{name}" for name in alternatives("decode-i8")] + ["read-sweep"])
_ROWS: list = []


def _sweep_buffer(nbytes: int) -> np.ndarray:
    """`nbytes` of ones on 64 bytes, on the pages a KVCache of that size gets (huge pages
    where the OS offers them, fastattn._pages), written so every page is really mapped."""
    raw = _pages.zeros((nbytes + 64,), np.uint8)
    raw.fill(1)
    offset = (-raw.ctypes.data) % 64
    return raw[offset:offset + nbytes]


def read_bandwidth(nbytes: int, threads: int, repeats: int = 7) -> float:
    """Read bandwidth (bytes/s) of the fastest of `repeats` sweeps of an `nbytes` buffer on
    `threads` threads: a floor is the best the machine did, and on a shared machine the
    median sweep is as disturbed as the call it bounds."""
    step = 64 * threads
    nbytes = max(step, nbytes // step * step)
    buf = _sweep_buffer(nbytes)
    _core.read_sweep(buf, threads)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _core.read_sweep(buf, threads)
        times.append(time.perf_counter() - t0)
    return nbytes / min(times)


def make_inputs(lk, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((1, HEADS, 1, DIM), dtype=np.float32)
    k, v = (rng.standard_normal((1, HEADS, lk, DIM), dtype=np.float32) for _ in range(2))
    return q, k, v


def build(impl, q, k, v, threads):
    """(fn, bytes the call must read) or (None, 0) when the peer is not installed."""
    f32_bytes = k.nbytes + v.nbytes
    if impl == "torch-sdpa-f32":
        return peers.torch_sdpa(q, k, v, False, threads), f32_bytes
    if impl == "numpy-f32":
        return peers.numpy_f32(q, k, v), f32_bytes
    if impl == "read-sweep":
        step = 64 * threads
        buf = _sweep_buffer(f32_bytes // step * step)
        return (lambda: _core.read_sweep(buf, threads)), buf.nbytes
    precision = "fp32" if impl == "fastattn-f32" else "int8"
    variant = impl.partition(":")[2] or None
    cache = fastattn.KVCache(1, HEADS, DIM, k.shape[2], precision=precision)
    cache.append(k, v)
    return (lambda: cache.attend(q, variant=variant, num_threads=threads)), cache.nbytes


@pytest.fixture(scope="module")
def floor_table(request):
    yield _ROWS
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if not _ROWS or reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        write_floor_table(reporter, _ROWS)


def write_floor_table(reporter, rows) -> None:
    reporter.write_line("")
    reporter.section("decode: time against the read-bandwidth floor (x floor = 1 is the floor)")
    reporter.write_line(f"{'Lk':>6} {'threads':>7} {'impl':<26} {'ms':>8} {'GB/s':>6} "
                        f"{'floor ms':>8} {'x floor':>7} {'x torch':>7}")
    torch_ms = {(r["lk"], r["threads"]): r["ms"] for r in rows if r["impl"] == "torch-sdpa-f32"}
    for r in rows:
        base = torch_ms.get((r["lk"], r["threads"]))
        speedup = "" if base is None else f"{base / r['ms']:.2f}"
        reporter.write_line(f"{r['lk']:>6} {r['threads']:>7} {r['impl']:<26} {r['ms']:>8.3f} "
                            f"{r['gbs']:>6.1f} {r['floor_ms']:>8.3f} {r['x_floor']:>7.2f} "
                            f"{speedup:>7}")


@pytest.mark.parametrize("threads", ["1", "all"])
@pytest.mark.parametrize("lk", LENGTHS)
@pytest.mark.parametrize("impl", IMPLS)
def bench_decode(record, benchmark, floor_table, impl, lk, threads):
    n = 1 if threads == "1" else all_threads()
    q, k, v = make_inputs(lk)
    fn, nbytes = build(impl, q, k, v, n)
    if fn is None:
        pytest.skip(f"{impl} not installed")
    has_torch = peers.torch_sdpa(q[:, :, :, :1], k[:, :, :1], v[:, :, :1]) is not None
    bandwidth = read_bandwidth(nbytes, n)
    floor = nbytes / bandwidth
    variant = {"fastattn-f32": _dispatch.DECODE_F32.chosen.name,
               "fastattn-int8": _dispatch.DECODE_I8.chosen.name}.get(impl, impl.partition(":")[2])
    median = record(fn, group=f"decode Lk={lk} threads={n}", name=impl,
                    baseline=impl == ("torch-sdpa-f32" if has_torch else "numpy-f32"),
                    flops=4 * HEADS * lk * DIM,
                    extra=dict(lk=lk, threads=n, bytes_read=nbytes, variant=variant,
                               bandwidth_gbs=bandwidth / 1e9, floor_ms=floor * 1e3))
    benchmark.extra_info["x_floor"] = median / floor
    floor_table.append(dict(lk=lk, threads=n, impl=impl, ms=median * 1e3, gbs=bandwidth / 1e9,
                            floor_ms=floor * 1e3, x_floor=median / floor))
