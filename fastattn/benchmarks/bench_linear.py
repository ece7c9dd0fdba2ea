"""Low-rank attention: linear (elu+1), Performer FAVOR+ (m = 256) and Linformer (r = 256,
mean pooling, and a Gaussian projection) against PyTorch SDPA float32 (when importable)
and fastattn's dense float32 and int8 kernels. B=1, H=8, D=64, one thread.

Groups:
- ``lowrank L=4096``: every implementation at L = 4096, torch the baseline (the dense
  float32 kernel when torch is absent). extra_info: ``speedup_vs_torch``; for the low-rank
  rows ``gemm_gflops`` (the multiply-adds of their GEMM-shaped parts, counted as 2 flops,
  over the whole call's time: a lower bound for the GEMMs' own rate), ``f32_peak_gflops``
  (this machine's float32 FMA peak for the ISA of the variant timed, measured in this run
  by a register-resident FMA loop of that ISA: AVX-512 rows against the AVX-512 peak, AVX2
  rows against the AVX2 peak) and ``peak_fraction``. ``<impl>@<variant>`` rows force each
  other SIMD variant that runs here (`alternatives`: e.g. f32-avx2 where dispatch picks
  f32-avx512), so every low-rank kernel of the CPU is compared in one run. No GEMM rate
  for Linformer with mean pooling: the kernel skips the all-zero blocks of such a
  projection, so it does fewer multiply-adds than the dense count; ``linformer-gaussian``
  (every block non-zero) gives the rate of the dense GEMMs.
- ``lowrank scaling <impl>``: L = 1k, 4k, 16k, 64k; ``ratio_vs_quarter`` = t(L) / t(L/4)
  (4 for time linear in L) and ``peak_extra_bytes`` (O(L): the output and the inputs'
  float32 copies, nothing L x L). Each call gets a new output, as a plain call does: from
  8 heads x 16k x 64 on it is above glibc's 32 MiB mmap limit, whose fresh pages the OS
  zeroes (about 6 ms at 16k here), so fastattn recycles a dropped output of the same size
  up to ``FASTATTN_OUTPUT_CACHE_MB`` (default 64: the 16k output, not the 128 MiB one of
  64k; fastattn/_outputs.py). ``<impl>+out`` rows (linear attention) pass one ``out=``
  array, allocated once, to every call: what a loop that reuses its output gets.
- ``lowrank gemm parts L=4096``: linear attention's GEMM-shaped parts alone (the state
  update phi(K)ᵀ V and the readout phi(Q) S, through the kernel's own GEMM calls,
  ``fastattn.linear.gemm_parts_call``) on features made beforehand, D = Dv = 64: one head
  (its 1 MB operands stay in L2 between calls, as the features do in the kernel, which
  computes them into its workspace) and 8 heads (28 MB of operands: each call reads them
  from memory). extra_info: ``gemm_gflops``, ``f32_peak_gflops``, ``peak_fraction``.
  Performer's and Linformer's (Gaussian projection) GEMM-shaped parts alone the same way
  (``fastattn.performer.gemm_parts_call``, ``fastattn.linformer.gemm_parts_call``: the
  kernels' own GEMM calls with nothing between them), one head and 8 heads.
- ``lowrank crossover <impl> vs <dense>``: the length where the low-rank call becomes
  faster than dense attention (float32 or int8), interpolated on a grid of lengths timed
  in this run (``crossover_length``); the timed call is the low-rank one at that length.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pytest

import fastattn
from fastattn import _core
from fastattn.benchmarks import peers
from fastattn.benchmarks.conftest import alternatives, peak_rate

HEADS, DIM, FEATURES, RANK = 8, 64, 256, 256
LOWRANK = ["linear", "linear-causal", "performer", "performer-causal", "linformer",
           "linformer-gaussian"]
IMPLS = ["torch-sdpa-f32", "torch-sdpa-f32-causal", "fastattn-dense-f32", "fastattn-dense-i8",
         *LOWRANK]
OPS = {"linear": "linear-f32", "performer": "performer-f32", "linformer": "linformer-f32"}
FORCED = [f"{impl}@{name}" for impl in LOWRANK for name in alternatives(OPS[impl.split("-")[0]])]
SCALING = [1024, 4096, 16384, 65536]
REUSED = ["linear+out", "linear-causal+out"]  # scaling rows with out= (see the docstring)
CROSSOVER_GRID = [128, 256, 512, 1024, 2048, 4096]
_MEDIANS: dict = {}


@functools.lru_cache(maxsize=3)
def inputs(length: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    out = tuple(rng.standard_normal((1, HEADS, length, DIM), dtype=np.float32) for _ in range(3))
    for a in out:
        a.flags.writeable = False
    return out


@functools.cache
def f32_peak_gflops(isa: str | None = None) -> float:
    """Best of 5 runs of the float32 FMA loop of `isa` (None: the best this CPU runs), about
    0.1 s each, in CPU time: the loop runs on the calling thread, and on a shared machine
    wall time would put the peak below what the kernels reach."""
    return peak_rate(lambda iters: _core.f32_peak_loop(iters, isa), 1 << 14,
                     clock=time.process_time)


def gemm_macs(impl: str, length: int) -> int | None:
    """Multiply-adds of the GEMM-shaped parts per call (all heads), as the kernels run them;
    None for Linformer with mean pooling (zero blocks of the projection are skipped)."""
    c = fastattn.linear.CHUNK
    diagonal = length * c * 2 * DIM if impl.endswith("causal") else 0  # C x C blocks, QKᵀ and AV
    if impl.startswith("linear"):
        return HEADS * (2 * length * DIM * DIM + diagonal)
    if impl.startswith("performer"):
        diagonal = length * c * (FEATURES + DIM) if impl.endswith("causal") else 0
        return HEADS * (2 * length * FEATURES * DIM + 2 * length * FEATURES * DIM + diagonal)
    if impl == "linformer":
        return None
    if impl == "linformer-gaussian":
        return HEADS * (2 * RANK * length * DIM + 2 * length * RANK * DIM)
    raise ValueError(impl)


@functools.lru_cache(maxsize=8)
def projection(length: int, kind: str = "mean") -> np.ndarray:
    return fastattn.linformer_projection(length, min(RANK, length), kind=kind)


@functools.lru_cache(maxsize=1)
def features() -> np.ndarray:
    return fastattn.performer_features(DIM, num_features=FEATURES, seed=0)


def build(impl: str, length: int):
    """fn() for one implementation at one length (``<impl>@<variant>``: that variant
    forced), or None when it cannot run here."""
    impl, _, variant = impl.partition("@")
    forced = {"variant": variant} if variant else {}
    q, k, v = inputs(length)
    if impl.endswith("+out"):  # one output for every call, as a loop passing out= has
        impl = impl.removesuffix("+out")
        forced["out"] = np.empty(q.shape, np.float32)
    causal = impl.endswith("causal")
    if impl.startswith("torch-sdpa"):
        return peers.torch_sdpa(q, k, v, causal, 1)
    if impl == "fastattn-dense-f32":
        return functools.partial(fastattn.attention, q, k, v, num_threads=1)
    if impl == "fastattn-dense-i8":
        return functools.partial(fastattn.attention, q, k, v, precision="int8", num_threads=1)
    if impl.startswith("linear"):
        return functools.partial(fastattn.linear_attention, q, k, v, causal=causal,
                                 num_threads=1, **forced)
    if impl.startswith("performer"):
        return functools.partial(fastattn.performer_attention, q, k, v, features=features(),
                                 causal=causal, num_threads=1, **forced)
    if impl.startswith("linformer"):
        kind = "gaussian" if impl.endswith("gaussian") else "mean"
        return functools.partial(fastattn.linformer_attention, q, k, v,
                                 proj_k=projection(length, kind), num_threads=1, **forced)
    raise ValueError(impl)


def lowrank_extra(impl: str, length: int) -> dict:
    """The variant a low-rank row runs (dispatch's choice unless forced) and the peak of
    its ISA."""
    impl, _, forced = impl.partition("@")
    impl = impl.removesuffix("+out")
    variant = _variant(OPS[impl.split("-")[0]], forced or None)
    return dict(length=length, threads=1, f32_peak_gflops=f32_peak_gflops(variant.isa),
                gemm_macs=gemm_macs(impl, length), variant=variant.name)


def _variant(op: str, name: str | None = None):
    from fastattn import _dispatch

    return _dispatch.OPS[op].resolve(name)


@pytest.mark.parametrize("impl", IMPLS + FORCED)
def bench_lowrank_4096(record, benchmark, impl):
    length = 4096
    fn = build(impl, length)
    if fn is None:
        pytest.skip("torch not installed")
    lowrank = impl.partition("@")[0] in LOWRANK
    extra = lowrank_extra(impl, length) if lowrank else dict(length=length, threads=1)
    torch_here = build("torch-sdpa-f32", 16) is not None
    baseline = impl == ("torch-sdpa-f32" if torch_here else "fastattn-dense-f32")
    median = record(fn, group="lowrank L=4096 threads=1", name=impl, baseline=baseline,
                    extra=extra)
    _MEDIANS[(impl, length)] = median
    peer = "torch-sdpa-f32-causal" if "causal" in impl else "torch-sdpa-f32"
    if (peer, length) in _MEDIANS and median:
        benchmark.extra_info["speedup_vs_torch"] = _MEDIANS[(peer, length)] / median
    if lowrank and median and extra["gemm_macs"]:
        gflops = 2 * extra["gemm_macs"] / median / 1e9
        benchmark.extra_info.update(gemm_gflops=gflops,
                                    peak_fraction=gflops / extra["f32_peak_gflops"])


@pytest.mark.parametrize("length", SCALING)
@pytest.mark.parametrize("impl", LOWRANK + REUSED)
def bench_lowrank_scaling(record, benchmark, impl, length):
    median = record(build(impl, length), group=f"lowrank scaling {impl} threads=1",
                    name=f"{impl} L={length}", baseline=length == SCALING[0],
                    extra=lowrank_extra(impl, length))
    _MEDIANS[(impl, length)] = median
    if (impl, length // 4) in _MEDIANS and median:
        benchmark.extra_info["ratio_vs_quarter"] = median / _MEDIANS[(impl, length // 4)]


@pytest.mark.parametrize("forced", [None, *alternatives("linear-f32")])
@pytest.mark.parametrize("heads", [1, HEADS])
def bench_linear_gemm_parts(record, benchmark, heads, forced):
    length, rng = 4096, np.random.default_rng(0)
    variant = _variant("linear-f32", forced)
    runs = []
    for _ in range(heads):
        kf, qf = (rng.random((length, DIM), np.float32) for _ in range(2))
        v = rng.standard_normal((length, DIM), dtype=np.float32)
        runs.append(fastattn.linear.gemm_parts_call(kf, v, qf, variant=forced)[0])
    _record_gemm_parts(record, benchmark, runs, "linear", heads * 2 * 2 * length * DIM * DIM,
                       variant, forced)


def _record_gemm_parts(record, benchmark, runs, op, flops, variant, forced):
    """Times one call of every run (a head's GEMM parts each) against the peak of the
    variant's ISA."""
    def call():
        for run in runs:
            run()

    heads, peak = len(runs), f32_peak_gflops(variant.isa)
    median = record(call, group="lowrank gemm parts L=4096 threads=1",
                    name=f"{op} gemm parts H={heads}" + (f" @{forced}" if forced else ""),
                    flops=flops, extra=dict(length=4096, heads=heads, threads=1,
                                            f32_peak_gflops=peak, variant=variant.name))
    if median:
        gflops = flops / median / 1e9
        benchmark.extra_info.update(gemm_gflops=gflops, peak_fraction=gflops / peak)


def _lowrank_gemm_run(op: str, forced: str | None, rng):
    """One head's GEMM parts of Performer (m = 256) or Linformer (r = 256, a Gaussian
    projection) at L = 4096, D = Dv = 64, on fresh operands."""
    length = 4096
    k, v, q = (rng.standard_normal((length, DIM), dtype=np.float32) for _ in range(3))
    if op == "performer":
        return fastattn.performer.gemm_parts_call(features(), k, v, q, variant=forced)[0]
    return fastattn.linformer.gemm_parts_call(projection(length, "gaussian"), k, v, q,
                                              variant=forced)[0]


@pytest.mark.parametrize("forced", [None, *alternatives("performer-f32")])
@pytest.mark.parametrize("heads", [1, HEADS])
@pytest.mark.parametrize("op", ["performer", "linformer"])
def bench_lowrank_gemm_parts(record, benchmark, op, heads, forced):
    """Performer's and Linformer's GEMM-shaped parts alone (their kernels' own GEMM calls,
    ``fastattn.performer.gemm_parts_call`` / ``fastattn.linformer.gemm_parts_call``): one
    head (operands of 3 MB, mostly in L2 between calls) and 8 heads (each call reads its
    operands from memory); the multiply-adds of ``gemm_macs``."""
    length, rng = 4096, np.random.default_rng(0)
    variant = _variant(OPS[op], forced)
    runs = [_lowrank_gemm_run(op, forced, rng) for _ in range(heads)]
    flops = 2 * gemm_macs(op if op == "performer" else "linformer-gaussian", length) // HEADS
    _record_gemm_parts(record, benchmark, runs, op, flops * heads, variant, forced)


def _median_seconds(fn, repeats: int = 3) -> float:
    """Median CPU time of the process (every call here runs on one thread), which a busy
    machine disturbs much less than wall time."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return float(np.median(times))


def crossover(impl: str, dense: str) -> float | None:
    """The length where impl's time equals dense's, log-log interpolated between the first
    grid length where impl is faster and the one before; None beyond the grid."""
    previous = None
    for length in CROSSOVER_GRID:
        ratio = _median_seconds(build(impl, length)) / _median_seconds(build(dense, length))
        if ratio <= 1.0:
            if previous is None:
                return float(length)
            (l0, r0), l1 = previous, length
            t = np.log(r0) / (np.log(r0) - np.log(ratio))
            return float(np.exp(np.log(l0) + t * (np.log(l1) - np.log(l0))))
        previous = (length, ratio)
    return None


@pytest.mark.parametrize("dense", ["fastattn-dense-f32", "fastattn-dense-i8"])
@pytest.mark.parametrize("impl", ["linear", "performer", "linformer"])
def bench_lowrank_crossover(record, benchmark, impl, dense):
    length = crossover(impl, dense)
    if length is None:
        pytest.skip(f"{impl} is not faster than {dense} up to L={CROSSOVER_GRID[-1]}")
    grid = min(CROSSOVER_GRID, key=lambda g: abs(np.log(g / length)))
    record(build(impl, grid), group=f"lowrank crossover vs {dense}", name=f"{impl} L={grid}",
           extra=dict(crossover_length=length, dense=dense, threads=1))
