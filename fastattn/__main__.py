"""Command line: ``python -m fastattn {demo,decode-demo,info,bench}``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def demo(length: int, heads: int, dim: int) -> int:
    import fastattn
    from fastattn._dispatch import DENSE_F32, default_num_threads
    from fastattn.reference import dense as reference

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, heads, length, dim), dtype=np.float32) for _ in range(3))
    fastattn.attention(q, k, v, causal=True)  # warm-up
    t0 = time.perf_counter()
    out = fastattn.attention(q, k, v, causal=True)
    elapsed = time.perf_counter() - t0
    err = float(np.abs(out - reference.attention(q, k, v, causal=True)).max())
    flops = 2 * heads * length * length * dim  # causal: half of 4 * H * L^2 * D
    print(f"fastattn {fastattn.__version__}: dense causal attention, B=1 H={heads} "
          f"L={length} D={dim}")
    print(f"kernel    {DENSE_F32.chosen.name} ({default_num_threads()} threads)")
    print(f"time      {elapsed * 1e3:.2f} ms ({flops / elapsed / 1e9:.1f} GFLOP/s)")
    print(f"max error {err:.2e} vs the float64 NumPy reference")
    return 0 if err < 1e-4 else 1


def info() -> int:
    import fastattn

    print(json.dumps(fastattn.info(), indent=2))
    return 0


def bench(pytest_args: list) -> int:
    """Runs the shipped pytest-benchmark suites in a child process whose BLAS is
    single-threaded, so the NumPy baseline is a fair one-thread baseline."""
    import fastattn.benchmarks

    suite = Path(fastattn.benchmarks.__file__).parent
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    cmd = [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider",
           "--rootdir", str(suite), "-c", os.devnull,
           "-o", "python_files=bench_*.py", "-o", "python_functions=bench_*",
           "--benchmark-columns=median,min,max,rounds", "--benchmark-sort=name",
           "--benchmark-group-by=group", *pytest_args]
    return subprocess.call(cmd, env=env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastattn")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run dense attention on random data and check it")
    p_demo.add_argument("--length", type=int, default=1024)
    p_demo.add_argument("--heads", type=int, default=8)
    p_demo.add_argument("--dim", type=int, default=64)
    p_dec = sub.add_parser("decode-demo", help="greedy decoding with a small random-weight "
                                               "transformer and a KV cache, tokens/s")
    for flag, default in (("--prompt", 512), ("--tokens", 64), ("--layers", 4), ("--dim", 256),
                          ("--heads", 8), ("--kv-heads", 2), ("--threads", 1), ("--seed", 0)):
        p_dec.add_argument(flag, type=int, default=default)
    sub.add_parser("info", help="CPU features, compiled variants, the dispatch choice")
    sub.add_parser("bench", help="run the shipped benchmarks (extra args go to pytest, "
                                 "e.g. -k 'L=1024')", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        return bench(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.command == "demo":
        return demo(args.length, args.heads, args.dim)
    if args.command == "decode-demo":
        from fastattn.decode_demo import run

        return run(args.prompt, args.tokens, args.layers, args.dim, args.heads, args.kv_heads,
                   args.threads, args.seed)
    return info()


if __name__ == "__main__":
    sys.exit(main())
