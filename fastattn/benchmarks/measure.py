"""Benchmark rows: build each call and measure its memory, quality and energy
(`prepare`), then time the rows of one shape taking turns (`interleave`, `finish`), so
that every ratio between them compares calls made under the same machine load."""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np

import fastattn
from fastattn import candidates, costs, energy, profiling
from fastattn.benchmarks import peers


@functools.lru_cache(maxsize=2)
def exact_output(shape) -> np.ndarray:
    """Exact attention on the shape's structured inputs: fastattn's float32 kernel (its
    error against the float64 reference, about 1e-6, is far below any approximation's)."""
    q, k, v = candidates.structured_inputs(shape)
    return fastattn.attention(q, k, v, causal=shape.causal)


def peer_call(name: str, q, k, v, causal: bool, threads: int):
    if name == "numpy-f32":
        return peers.numpy_f32(q, k, v, causal)
    if name == "torch-sdpa-f32":
        return peers.torch_sdpa(q, k, v, causal, threads)
    return peers.onnxruntime_mha(q, k, v, causal, threads)


def peer_cost(name: str, q, k, v, causal: bool) -> costs.Cost:
    """Exact attention's work; NumPy also writes and reads back the Lq x Lk scores, the
    exponentials and the probabilities (three float32 arrays) through DRAM."""
    c = fastattn.cost(fastattn.attention, q, k, v, causal=causal)
    if name != "numpy-f32":
        return c
    scores = 4 * q.shape[0] * q.shape[1] * q.shape[2] * k.shape[2]
    return c + costs.Cost(bytes_read=3 * scores, bytes_written=3 * scores,
                          allocated_bytes=3 * scores)


def _as_array(out) -> np.ndarray:
    out = out.detach().numpy() if hasattr(out, "detach") else np.asarray(out)
    return out


# Timing rounds: every row of a shape runs in each. Even, so that the rounds run in list
# order and those run in reverse are as many (their biases meet in the median).
ROUNDS = 4


def prepare(shape, kind: str, name: str, variant, cand, *, threads: int, budget_s: float):
    """``(call, row)`` with everything but the times measured (one call for the output's
    quality, one for peak memory, energy), or None when the implementation is not
    installed here."""
    q, k, v = candidates.structured_inputs(shape)
    if kind == "peer":  # writable copies: torch warns about read-only arrays
        # one query aligned bottom-right sees every key: no mask (PyTorch's is_causal is
        # top-left and would show it only the first key)
        causal = shape.causal and shape.lq > 1
        call = peer_call(name, q.copy(), k.copy(), v.copy(), causal, threads)
        if call is None:
            return None
        cost = peer_cost(name, q, k, v, shape.causal)
        op, exact = "peer", True
    else:
        call = cand.bind(q, k, v, variant=variant, num_threads=threads)
        cost = candidates.Candidate.cost_of(call)
        op, exact = cand.op, cand.exact
    out = _as_array(call())
    if name == "onnxruntime-mha-f32":  # (B, Lq, H*Dv) back to (B, H, Lq, Dv)
        out = out.reshape(shape.batch, shape.lq, shape.heads, shape.dv).transpose(0, 2, 1, 3)
    traced, rss = profiling.peak_memory(call)
    meter = energy.default_meter()
    if meter.sensor is not None:
        e = meter.measure(call, min_seconds=max(0.2, budget_s))
    else:
        model = energy.EnergyModel()
        e = energy.Energy(model.joules(cost), "modelled", model.label)
    return call, dict(
        shape=shape.label, length=shape.lq, key_length=shape.lk, kind=kind, name=name,
        variant=variant, op=op,
        family=name if cand is None else cand.family,
        threads=threads, macs=cost.macs, ops=cost.ops,
        quality=candidates.quality(out, exact_output(shape)), exact=exact,
        peak_bytes=max(traced, rss or 0), traced_bytes=traced, rss_peak_bytes=rss,
        energy_j=e.joules, energy_source=e.source, energy_label=e.label,
        bytes_read=cost.bytes_read, bytes_written=cost.bytes_written,
    )


def interleave(calls: list, *, budget_s: float, rounds: int = ROUNDS, max_calls: int = 100,
               clock=time.perf_counter) -> list:
    """Times ``calls`` taking turns: in each of ``rounds`` rounds every call runs for
    about ``budget_s / rounds`` seconds (at least once, at most ``max_calls // rounds``
    times), in list order in even rounds and in reverse in odd ones, so that a drift of
    the machine's speed (other jobs, clock changes, heat) reaches every call alike.
    Returns, per call, one list of call times per round."""
    per_round, slice_s = max(1, max_calls // rounds), budget_s / rounds
    out = [[] for _ in calls]
    for r in range(rounds):
        for i in (range(len(calls)) if r % 2 == 0 else reversed(range(len(calls)))):
            times, start = [], clock()
            while not times or (len(times) < per_round and clock() - start < slice_s):
                t0 = clock()
                calls[i]()
                times.append(clock() - t0)
            out[i].append(times)
    return out


def finish(row: dict, round_times: list) -> dict:
    """The row with its times: median and min over every call, and each round's median
    (the speed-ups are taken round by round, `report.add_speedups`)."""
    flat = [t for times in round_times for t in times]
    median = statistics.median(flat)
    row.update(median_s=median, min_s=min(flat), calls=len(flat),
               round_medians_s=[statistics.median(times) for times in round_times],
               gops=row["ops"] / median / 1e9)
    return row
