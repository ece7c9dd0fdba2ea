"""How close each cheap attention gets to exact softmax attention: the low-rank methods
(linear, Performer, Linformer) beside dense int8, and local and routed attention given the
same number of multiply-adds as the low-rank method they sit next to.

Error = ||out - exact|| / ||exact|| (Frobenius; 0 is exact), against fastattn's dense
float32 kernel (itself within ~1e-6 of the float64 reference). Two inputs, B=1 H=8 D=64:
- "gaussian": q, k, v i.i.d. N(0, 1) (logits of standard deviation 1: diffuse attention);
- "planted": the long-range task of the routed tests (fastattn._workloads.structured_inputs:
  keys an AR(1) walk, queries near their keys, one query block in 8 recalling a far block).
Cost = multiply-adds relative to dense attention (causal=False), from the kernels' work.

    python -m fastattn.benchmarks.quality_lowrank [L ...]     (default 1024 4096)

prints the markdown table of the README.
"""

from __future__ import annotations

import sys

import numpy as np

import fastattn
from fastattn._workloads import structured_inputs

HEADS, DIM, FEATURES, RANK = 8, 64, 256, 256


def gaussian_inputs(length: int, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((1, HEADS, length, DIM), dtype=np.float32)
                 for _ in range(3))


def error(out, exact) -> float:
    out, exact = np.asarray(out, np.float64), np.asarray(exact, np.float64)
    return float(np.linalg.norm(out - exact) / np.linalg.norm(exact))


def local_at(density: float, length: int):
    """Local attention whose window covers `density` of the keys (|i - j| <= w)."""
    window = max(1, int(round((density * length - 1) / 2)))
    return lambda q, k, v: fastattn.local_attention(q, k, v, window=window)


def methods(length: int) -> list:
    """(name, cost relative to dense, fn(q, k, v))."""
    lowrank = 2 * min(FEATURES, length) / length      # Performer and Linformer: 2m/L, 2r/L
    linear = DIM / length                              # 2 L D Dv / (L² (D + Dv))
    w = fastattn.performer_features(DIM, num_features=FEATURES, seed=0)
    mean = fastattn.linformer_projection(length, min(RANK, length), kind="mean")
    gauss = fastattn.linformer_projection(length, min(RANK, length), kind="gaussian")
    return [
        ("uniform weights (mean of v): the trivial baseline", 0.0,
         lambda q, k, v: np.broadcast_to(v.mean(axis=-2, keepdims=True), v.shape)),
        ("dense int8", 1.0, lambda q, k, v: fastattn.attention(q, k, v, precision="int8")),
        ("linear (elu+1)", linear, lambda q, k, v: fastattn.linear_attention(q, k, v)),
        ("local, cost of linear", linear, local_at(linear, length)),
        (f"Performer m={FEATURES}", lowrank,
         lambda q, k, v: fastattn.performer_attention(q, k, v, features=w)),
        (f"Linformer r={RANK}, mean pooling", lowrank,
         lambda q, k, v: fastattn.linformer_attention(q, k, v, proj_k=mean)),
        (f"Linformer r={RANK}, Gaussian", lowrank,
         lambda q, k, v: fastattn.linformer_attention(q, k, v, proj_k=gauss)),
        ("local, cost of Performer", lowrank, local_at(lowrank, length)),
        ("routed, cost of Performer", lowrank,
         lambda q, k, v: fastattn.routed_attention(q, k, v, density=lowrank)),
    ]


def table(lengths=(1024, 4096)) -> list:
    """[(method, {length: cost}, {(input, length): error})] for every method."""
    rows = {}
    for length in lengths:
        inputs = {"gaussian": gaussian_inputs(length), "planted": structured_inputs(length)}
        exact = {name: fastattn.attention(*x) for name, x in inputs.items()}
        for name, cost, fn in methods(length):
            row = rows.setdefault(name, ({}, {}))
            row[0][length] = cost
            for kind, x in inputs.items():
                row[1][(kind, length)] = error(fn(*x), exact[kind])
    return [(name, costs, errors) for name, (costs, errors) in rows.items()]


def markdown(rows, lengths=(1024, 4096)) -> str:
    head = ["method"] + [f"cost L={n}" for n in lengths] + [
        f"{kind} L={n}" for kind in ("gaussian", "planted") for n in lengths]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, costs, errors in rows:
        cells = [name] + [f"{costs[n]:.3g}" for n in lengths] + [
            f"{errors[(kind, n)]:.3f}" for kind in ("gaussian", "planted") for n in lengths]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or (1024, 4096)
    print(markdown(table(chosen), chosen))
