"""Shared machinery of the pytest-benchmark suites (developer tools: the user-facing
benchmark is ``python -m fastattn bench``, fastattn/benchmarks/runner.py).

Every benchmark calls `record(...)`: it times the call with pytest-benchmark,
measures peak extra memory (`fastattn.profiling.peak_memory`) and, where a sensor is
readable, energy (`fastattn.energy`) once, and stores GFLOP/s, bytes and the
ratio inputs in extra_info. A summary table (time, GFLOP/s, speed-up over the
group's baseline measured in the same run, peak memory, energy) closes the run.
"""

from __future__ import annotations

import os

import pytest

from fastattn import energy
from fastattn.profiling import peak_memory

_RESULTS: list = []


def all_threads() -> int:
    from fastattn._dispatch import default_num_threads

    return default_num_threads()


def alternatives(op: str) -> list:
    """The variants of `op` (a `_dispatch.OPS` key) worth timing beside the dispatch choice:
    every other one that runs here except the portable fallback the table ends with (e.g.
    ``i8-avx2`` where dispatch picks ``i8-avx512vnni``)."""
    from fastattn._dispatch import OPS

    table = OPS[op]
    return [v.name for v in table.variants[:-1] if v.runs_here and v != table.chosen]


def peak_rate(loop, iters: int, clock=None) -> float:
    """Best of 5 runs of ``loop(iters) -> operations`` (a peak loop of `_core`), in G
    operations per second of `clock` (default: wall time, ``time.perf_counter``); `iters`
    is doubled first until one run takes over 20 ms, then multiplied by 5 (about 0.1 s a
    run)."""
    import time

    clock = clock or time.perf_counter
    while True:
        t0 = clock()
        loop(iters)
        if clock() - t0 > 0.02:
            break
        iters *= 2
    iters *= 5
    best = 0.0
    for _ in range(5):
        t0 = clock()
        ops = loop(iters)
        best = max(best, ops / (clock() - t0) / 1e9)
    return best


def rounds_for(seconds_per_call: float) -> int:
    """Enough rounds for a stable median in a few seconds, at least 3."""
    budget = float(os.environ.get("FASTATTN_BENCH_SECONDS", "2"))
    return max(3, min(50, int(budget / max(seconds_per_call, 1e-6))))


@pytest.fixture
def record(benchmark):
    def run(fn, *, group, name, baseline=False, flops=None, macs=None, extra=None):
        import time

        t0 = time.perf_counter()
        fn()  # warm-up: first-touch of buffers, thread start, lazy init
        once = time.perf_counter() - t0
        traced, rss = peak_memory(fn)
        meter = energy.default_meter()
        joules = None if meter.sensor is None else meter.measure(fn).joules
        benchmark.group = group
        benchmark.extra_info.update(extra or {})
        benchmark.extra_info.update(impl=name, baseline=baseline,
                                    peak_extra_bytes=max(traced, rss or 0), energy_j=joules,
                                    energy_source=meter.label)
        benchmark.pedantic(fn, rounds=rounds_for(once), iterations=1, warmup_rounds=0)
        if benchmark.stats is None:  # --benchmark-disable: each benchmark ran once, as a test
            return once
        median = benchmark.stats.stats.median
        if flops:
            benchmark.extra_info["gflops"] = flops / median / 1e9
        if macs:
            benchmark.extra_info["gmacs"] = macs / median / 1e9
        _RESULTS.append(dict(group=group, name=name, baseline=baseline, median=median,
                             info=dict(benchmark.extra_info)))
        return median

    return run


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    tr = terminalreporter
    tr.section("fastattn: time, throughput and speed-up over the in-run baseline")
    tr.write_line(f"{'group':<34} {'impl':<22} {'ms':>9} {'GFLOP/s':>8} {'x base':>7} "
                  f"{'peak MiB':>9} {'J/call':>8}")
    groups = {}
    for r in _RESULTS:
        groups.setdefault(r["group"], []).append(r)
    for group, rows in groups.items():
        base = next((r["median"] for r in rows if r["baseline"]), None)
        for r in rows:
            info = r["info"]
            cells = [
                _fmt(r["median"] * 1e3, ".2f"),
                _fmt(info.get("gflops"), ".1f"),
                _fmt(None if base is None else base / r["median"], ".2f"),
                _fmt(info.get("peak_extra_bytes"), ".1f", 2.0**-20),
                _fmt(info.get("energy_j"), ".3f"),
            ]
            tr.write_line(f"{group:<34} {r['name']:<22} {cells[0]:>9} {cells[1]:>8} "
                          f"{cells[2]:>7} {cells[3]:>9} {cells[4]:>8}")


def _fmt(value, spec: str, factor: float = 1.0) -> str:
    return "" if value is None else format(value * factor, spec)
