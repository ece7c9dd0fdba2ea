"""Selftest cases and cost models of the low-rank ops (linear, Performer, Linformer);
imported by fastattn/__init__.py so both registries know them."""

from __future__ import annotations

import math

import numpy as np

import fastattn
from fastattn import linear, linformer, performer
from fastattn.costs import Cost, describe, heads_and_batch, output_bytes, register
from fastattn.selftest import F32_EPS, Case, f32_case, gaussian, reference
from fastattn.selftest import register as register_cases

C = linear.CHUNK
# (label, Lq, Lk, Hq, Hkv, D, Dv, causal): chunk edges of the scans and the projection blocks
SHAPES = [
    ("L=1", 1, 1, 1, 1, 8, 8, False),
    (f"Lq=Lk={C + 1}", C + 1, C + 1, 2, 2, 32, 32, False),
    (f"causal Lq={C - 1} Lk={3 * C + 2}", C - 1, 3 * C + 2, 2, 1, 16, 24, True),
    (f"causal Lq={2 * C + 3} Lk={C}", 2 * C + 3, C, 2, 2, 17, 9, True),
]


def _per_shape(rng, make, scale=1.0) -> list:
    """``make(label, q, k, v, causal) -> [Case, ...]`` for the gaussian inputs of every SHAPES
    row (q and k of standard deviation `scale`)."""
    cases = []
    for label, lq, lk, hq, hkv, d, dv, causal in SHAPES:
        q = gaussian(rng, 1, hq, lq, d, scale=scale)
        k = gaussian(rng, 1, hkv, lk, d, scale=scale)
        cases += make(label, q, k, gaussian(rng, 1, hkv, lk, dv), causal)
    return cases


def _convex_case(label, run, expected, terms: int, lk: int, v) -> Case:
    """The weights are non-negative, so the output is a convex combination of value rows:
    relative float32 errors of a `terms`-term dot product and an Lk-term sum, times max|v|
    (tests/test_linear.py states the same bound, here with a 4x margin)."""
    tol = 8 * F32_EPS * (4 + terms + math.sqrt(lk)) * max(1.0, float(np.abs(v).max()))
    return Case(label, run, np.asarray(expected, np.float64), tol)


@register_cases("linear-f32")
def _linear_cases(rng) -> list:
    ref = reference("linear")

    def make(label, q, k, v, causal):
        return [_convex_case(f"{label} {fmap}", lambda name, f=fmap:
                             fastattn.linear_attention(q, k, v, feature_map=f, causal=causal,
                                                       variant=name, num_threads=2),
                             ref.linear_attention(q, k, v, fmap, causal), q.shape[-1],
                             k.shape[-2], v) for fmap in linear.FEATURE_MAPS]

    return _per_shape(rng, make)


@register_cases("performer-f32")
def _performer_cases(rng) -> list:
    ref = reference("performer")

    def make(label, q, k, v, causal):
        w = fastattn.performer_features(q.shape[-1], num_features=40)
        # features exp(e) with |e| <~ 10 here: 10 eps relative each, plus the sums
        return [_convex_case(f"{label} m=40", lambda name:
                             fastattn.performer_attention(q, k, v, features=w, causal=causal,
                                                          variant=name, num_threads=2),
                             ref.performer_attention(q, k, v, w, causal=causal),
                             q.shape[-1] + 40, k.shape[-2], v)]

    return _per_shape(rng, make, scale=0.5)


@register_cases("linformer-f32")
def _linformer_cases(rng) -> list:
    ref = reference("linformer")

    def make(label, q, k, v, _causal):
        e = fastattn.linformer_projection(k.shape[-2], max(1, k.shape[-2] // 3), kind="mean")
        kp, vp = e.astype(np.float64) @ k, e.astype(np.float64) @ v
        return [f32_case(f"{label.removeprefix('causal ')} r={e.shape[0]}", lambda name:
                         fastattn.linformer_attention(q, k, v, proj_k=e, variant=name,
                                                      num_threads=2),
                         ref.linformer_attention(q, k, v, e), q, kp, vp)]

    return _per_shape(rng, make)


def _shapes(args: dict):
    """Operands, (batch, query head) pairs, (batch, kv head) pairs (the key-side work runs
    once per kv head for all its query heads), and the sizes."""
    q, k, v = describe(args["q"]), describe(args["k"]), describe(args["v"])
    n = heads_and_batch(q, k)
    heads = (1,) + q.shape[:-2], (1,) + k.shape[:-2]
    n_kv = n * heads[1][-1] // max(heads[0][-1], heads[1][-1])
    lq, d = q.shape[-2:]
    lk, dv = v.shape[-2:]
    return q, k, v, n, n_kv, lq, lk, d, dv


def _out_bytes(n: int, lq: int, dv: int, *operands) -> int:
    itemsize = max(x.itemsize for x in operands)
    return output_bytes(n, lq, dv, None if itemsize == 4 else itemsize)


def _scan_cost(args, features: int, feature_macs: int, feature_ops: int) -> Cost:
    """The chunked scan: state update (per kv head) and readout (per query head), features x
    Dv each row, plus the C x C diagonal blocks when causal; `feature_macs` and
    `feature_ops` per row of q or k."""
    q, k, v, n, n_kv, lq, lk, d, dv = _shapes(args)
    rows = n * lq + n_kv * lk
    macs = rows * (features * (dv + 1) + feature_macs)
    if args.get("causal"):
        macs += n * lq * min(C, lk) * (features + dv)
    ops = rows * feature_ops + n * lq * dv  # feature maps and the final division
    out = _out_bytes(n, lq, dv, q, k, v)
    return Cost({"fp32": macs}, {"fp32": ops}, bytes_read=q.nbytes + k.nbytes + v.nbytes,
                bytes_written=out, allocated_bytes=out)


@register(linear.linear_attention)
def _linear_cost(args: dict) -> Cost:
    d = describe(args["q"]).shape[-1]
    return _scan_cost(args, d, 0, 4 * d)  # elu+1: an exp and a select


@register(performer.performer_attention)
def _performer_cost(args: dict) -> Cost:
    d = describe(args["q"]).shape[-1]
    w = args.get("features")
    m = np.shape(w)[0] if w is not None else args["num_features"]
    # the feature GEMMs W x, then exp (about 10 operations) of every feature
    return _scan_cost(args, m, m * d, 10 * m)


@register(linformer.linformer_attention)
def _linformer_cost(args: dict) -> Cost:
    q, k, v, n, n_kv, lq, lk, d, dv = _shapes(args)
    r = np.shape(args["proj_k"])[0]
    proj_bytes = 4 * r * lk * (1 if args.get("proj_v") is None else 2)
    macs = (n_kv * lk + n * lq) * r * (d + dv)  # projections per kv head, attention per head
    out = _out_bytes(n, lq, dv, q, v)
    return Cost({"fp32": macs}, {"fp32": n * lq * r * 10},
                bytes_read=q.nbytes + k.nbytes + v.nbytes + proj_bytes, bytes_written=out,
                allocated_bytes=out)
