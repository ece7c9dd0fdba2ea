"""Command line: ``python -m fastattn`` (or ``fastattn``) ``{demo,info,selftest,bench}``.

Each subcommand is one ``add_<name>(subparsers)`` function that declares its parser and
sets ``run`` to a function of the parsed arguments returning the exit status; the list
`SUBCOMMANDS` registers them (add yours to it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from fastattn.decode_demo import add_decode_demo


def run_demo(args) -> int:
    import fastattn
    from fastattn import _dispatch
    from fastattn.selftest import f32_tolerance, reference

    ref = reference("dense")
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, args.heads, args.length, args.dim), dtype=np.float32)
               for _ in range(3))
    expected = ref.attention(q, k, v, causal=True)
    threads = _dispatch.default_num_threads()
    print(f"fastattn {fastattn.__version__}: causal attention, B=1 H={args.heads} "
          f"L={args.length} D={args.dim}, {threads} threads, median of {args.repeat} calls")
    status = 0
    for precision, op, tol in (
        ("fp32", _dispatch.OPS["dense-f32"], f32_tolerance(float(np.abs(q).max() * np.abs(k).max()
                                                                 * args.dim ** 0.5), args.length)
         * float(np.abs(v).max())),
        ("int8", _dispatch.OPS["dense-i8"], 0.05 * float(np.linalg.norm(expected))),
    ):
        def call(precision=precision):
            return fastattn.attention(q, k, v, causal=True, precision=precision)

        call()  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = call()
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        if precision == "fp32":
            err, what = float(np.abs(out - expected).max()), "max abs error"
        else:
            err, what = float(np.linalg.norm(out - expected)), "error norm"
        verdict = "PASS" if err <= tol else "FAIL"
        status |= verdict == "FAIL"
        gops = 2 * args.heads * args.length * args.length * args.dim / median / 1e9
        print(f"{verdict}  {op.chosen.name:<14} median {median * 1e3:8.2f} ms "
              f"(min {min(times) * 1e3:.2f}, {gops:.1f} GOP/s)  {what} {err:.2e} <= {tol:.2e}")
    return status


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="time causal attention (float32 and int8) on random data "
                                    "and check it against the NumPy reference")
    p.add_argument("--length", type=int, default=1024)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--repeat", type=int, default=10, help="timed calls (default 10)")
    p.set_defaults(run=run_demo)


def run_info(args) -> int:
    import fastattn

    print(json.dumps(fastattn.info(), indent=2))
    return 0


def add_info(sub) -> None:
    p = sub.add_parser("info", help="CPU features, compiled variants, those that run here, "
                                    "the dispatch choice (JSON)")
    p.set_defaults(run=run_info)


def run_selftest(args) -> int:
    from fastattn import _dispatch, selftest

    unknown = [op for op in args.op if op not in _dispatch.OPS]
    if unknown:
        print(f"unknown op(s) {unknown}; ops: {list(_dispatch.OPS)}", file=sys.stderr)
        return 2
    return selftest.main(args.op or None, seed=args.seed)


def add_selftest(sub) -> None:
    p = sub.add_parser("selftest", help="check every compiled kernel this CPU runs against the "
                                        "NumPy reference (PASS/FAIL per variant)")
    p.add_argument("--op", action="append", default=[], help="only this op (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run_selftest)


def run_bench(args) -> int:
    from fastattn.benchmarks import runner

    return runner.main(args)


def add_bench(sub) -> None:
    from fastattn.benchmarks import runner

    p = sub.add_parser("bench", help="benchmark every variant on this device: a readable "
                                     "table; JSON, Markdown and plots with --out",
                       description=runner.__doc__.split("\n\n")[0])
    runner.add_arguments(p)
    p.set_defaults(run=run_bench)


SUBCOMMANDS = [add_demo, add_decode_demo, add_info, add_selftest, add_bench]


def _prog() -> str:
    base = os.path.basename(sys.argv[0] or "")
    return "python -m fastattn" if base in ("__main__.py", "-c", "") else base


def main(argv=None) -> int:
    from fastattn import __version__

    parser = argparse.ArgumentParser(prog=_prog(), description="fastattn: energy-efficient "
                                     "attention for edge devices")
    parser.add_argument("--version", action="version", version=f"fastattn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
