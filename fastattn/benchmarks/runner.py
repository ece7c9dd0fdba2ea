"""Benchmark every attention variant this device runs, with a readable report.

``python -m fastattn bench [--quick] [--out DIR] [--threads N] [--lengths L ...]``

Every candidate of `fastattn.candidates` (dense float32 and int8, sliding windows,
routed blocks, and whatever other ops register) runs with every variant of its op that
runs on this CPU, beside the peers that are installed (plain NumPy always; PyTorch SDPA
and ONNX Runtime with the ``[bench]`` extra), on the same inputs and thread count. Each
row gets the median time, GOP/s, its speed-up over a baseline measured in the same run
(``--baseline``, NumPy by default; the rows of one shape are timed in turns, round after
round, and the speed-up is the median of the per-round ratios), the quality against
exact attention, peak extra memory and energy per call (measured when a sensor is
readable, else modelled: the source is on every row). ``--out DIR`` writes
``bench.json`` and ``bench.md`` and, with the ``[plot]`` extra (matplotlib),
``latency.png`` and ``tradeoff.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np

QUICK_LENGTHS = (256, 1024)
FULL_LENGTHS = (256, 512, 1024, 2048, 4096)
HEADS, DIM = 8, 64
PEERS = ("numpy-f32", "torch-sdpa-f32", "onnxruntime-mha-f32")
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_CHILD = "FASTATTN_BENCH_CHILD"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help=f"lengths {', '.join(map(str, QUICK_LENGTHS))}, the dispatch choice and "
                        "scalar only, shorter timing (under a minute)")
    p.add_argument("--lengths", type=int, nargs="+", metavar="L",
                   help=f"sequence lengths (default {' '.join(map(str, FULL_LENGTHS))})")
    p.add_argument("--heads", type=int, default=HEADS)
    p.add_argument("--dim", type=int, default=DIM)
    p.add_argument("--causal", action="store_true")
    p.add_argument("--no-decode", action="store_true",
                   help="skip the decode rows (one query against 4x the longest length)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for every implementation, fastattn and peers alike (default 1)")
    p.add_argument("--baseline", default="numpy-f32",
                   help="the row every speed-up is measured against (default numpy-f32)")
    p.add_argument("--only", nargs="+", metavar="WORD",
                   help="keep rows whose name contains one of these words (e.g. int8 local)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed calls per row (default 0.5, --quick 0.15)")
    p.add_argument("--out", type=Path, help="write bench.json, bench.md and PNG plots here")


def main(args) -> int:
    if os.environ.get(_CHILD) != "1":
        # BLAS reads its thread count once, at load: give NumPy the same count as
        # everyone else by running the benchmark in a child process.
        env = dict(os.environ, **{_CHILD: "1"})
        for var in _BLAS_VARS:
            env[var] = str(args.threads)
        return subprocess.call([sys.executable, "-m", "fastattn", *_argv_of(args)], env=env)
    return run(args)


def _argv_of(args) -> list:
    """The ``python -m fastattn`` command line that reproduces ``args``."""
    argv = ["bench"]
    for name in ("lengths", "only"):
        if getattr(args, name):
            argv += [f"--{name}", *map(str, getattr(args, name))]
    for name in ("heads", "dim", "threads", "baseline", "budget", "out"):
        if getattr(args, name) is not None:
            argv += [f"--{name}", str(getattr(args, name))]
    argv += [f"--{n}" for n in ("quick", "causal") if getattr(args, n)]
    argv += ["--no-decode"] if args.no_decode else []
    return argv


def header(threads: int) -> dict:
    import fastattn
    from fastattn import candidates, energy

    info = fastattn.info()
    meter = energy.default_meter()
    peers = {m: find_spec(m) is not None for m in ("torch", "onnxruntime")}
    return dict(
        fastattn=fastattn.__version__, numpy=np.__version__, python=platform.python_version(),
        cpu=info["cpu"], machine=info["machine"],
        features=[n for n, on in info["cpu_features"].items() if on and n != "scalar"],
        isa_cap=info["isa_cap"], threads=threads,
        chosen={op: d["chosen"] for op, d in info["ops"].items()},
        energy=meter.label or energy.EnergyModel().label,
        energy_why_modelled=[] if meter.sensor else meter.reasons,
        peers_missing=[m for m, ok in peers.items() if not ok],
        not_benchmarked=[op for op in info["ops"] if op not in candidates.registered()],
    )


def plan(args) -> list:
    """The rows to run, as (shape, kind, name, variant, candidate) in run order."""
    from fastattn import _dispatch, candidates

    lengths = sorted(set(args.lengths or (QUICK_LENGTHS if args.quick else FULL_LENGTHS)))
    shapes = [candidates.AttentionShape(1, args.heads, n, args.dim, causal=args.causal)
              for n in lengths]
    if not args.no_decode:  # decoding: one new token against a key/value cache
        shapes.append(candidates.AttentionShape(1, args.heads, 1, args.dim, lk=4 * lengths[-1],
                                                causal=True))
    rows = []
    for shape in shapes:
        for peer in PEERS:
            rows.append((shape, "peer", peer, None, None))
        for cand in candidates.candidates(shape):
            variants = candidates.runnable_variants(cand.op)
            if args.quick:
                chosen = _dispatch.OPS[cand.op].chosen.name
                variants = [v for v in variants if v == chosen or v.endswith("-scalar")]
            for variant in variants:
                rows.append((shape, "fastattn", cand.name, variant, cand))
    if args.only:
        rows = [r for r in rows if r[2] == args.baseline
                or any(w in f"{r[2]} {r[3] or ''}" for w in args.only)]
    return rows


def _progress(i: int, total: int, label: str, started: float, per_row, out) -> None:
    """``per_row``: seconds per row (set up and timed) so far, None before any is timed."""
    elapsed = time.perf_counter() - started
    eta = "" if per_row is None else f", ETA {per_row * (total - i):.0f} s"
    print(f"[{i + 1:>3}/{total}] {label}  ({elapsed:.0f} s elapsed{eta})", file=out, flush=True)


def _by_shape(rows: list) -> list:
    """The planned rows in groups of one shape each, in plan order."""
    groups = {}
    for r in rows:
        groups.setdefault(r[0], []).append(r)
    return list(groups.values())


def run(args, *, progress=sys.stderr) -> int:
    from fastattn.benchmarks import measure, report

    if args.out is not None and find_spec("matplotlib") is None:
        print("note: plots skipped, matplotlib is not installed: pip install 'fastattn[plot]'",
              file=sys.stderr)
    budget = args.budget if args.budget is not None else (0.15 if args.quick else 0.5)
    head = dict(header(args.threads), rounds=measure.ROUNDS, budget_s=budget)
    print(report.header_text(head), flush=True)
    rows = plan(args)
    results, started, done, timed = [], time.perf_counter(), 0, 0
    for group in _by_shape(rows):
        prepared = []
        for shape, kind, name, variant, cand in group:
            # the rows of a shape are set up first, then timed together: the ETA comes
            # from the shapes finished so far
            per_row = (time.perf_counter() - started) / timed if timed else None
            _progress(done, len(rows), f"{shape.label} {name} {variant or ''}".rstrip(), started,
                      per_row, progress)
            done += 1
            got = measure.prepare(shape, kind, name, variant, cand, threads=args.threads,
                                  budget_s=budget)
            if got is not None:
                prepared.append(got)
        print(f"      timing the {len(prepared)} rows of {group[0][0].label} in turns "
              f"({measure.ROUNDS} rounds, about {budget * len(prepared):.0f} s)",
              file=progress, flush=True)
        round_times = measure.interleave([call for call, _ in prepared], budget_s=budget)
        results += [measure.finish(row, t) for (_, row), t in zip(prepared, round_times)]
        timed = done
    missing = report.add_speedups(results, args.baseline)
    if missing:
        print(f"note: no {args.baseline!r} row for {missing}: speed-ups left blank",
              file=sys.stderr)
    print(report.table_text(results, args.baseline))
    print(f"{len(results)} rows in {time.perf_counter() - started:.0f} s")
    if args.out is not None:
        written = report.write(args.out, head, results, args.baseline)
        print("wrote " + ", ".join(str(p) for p in written))
    return 0
