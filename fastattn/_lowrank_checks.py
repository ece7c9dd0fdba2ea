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


def _inputs(rng, lq, lk, hq, hkv, d, dv, scale=1.0):
    return (gaussian(rng, 1, hq, lq, d, scale=scale), gaussian(rng, 1, hkv, lk, d, scale=scale),
            gaussian(rng, 1, hkv, lk, dv))


def _convex_case(label, run, expected, terms: int, lk: int, v) -> Case:
    """The weights are non-negative, so the output is a convex combination of value rows:
    relative float32 errors of a `terms`-term dot product and an Lk-term sum, times max|v|
    (tests/test_linear.py states the same bound, here with a 4x margin)."""
    tol = 8 * F32_EPS * (4 + terms + math.sqrt(lk)) * max(1.0, float(np.abs(v).max()))
    return Case(label, run, np.asarray(expected, np.float64), tol)


@register_cases("linear-f32")
def _linear_cases(rng) -> list:
    ref = reference("linear")
    cases = []
    for label, lq, lk, hq, hkv, d, dv, causal in SHAPES:
        q, k, v = _inputs(rng, lq, lk, hq, hkv, d, dv)
        for fmap in linear.FEATURE_MAPS:
            cases.append(_convex_case(
                f"{label} {fmap}", lambda name, q=q, k=k, v=v, c=causal, f=fmap:
                fastattn.linear_attention(q, k, v, feature_map=f, causal=c, variant=name,
                                          num_threads=2),
                ref.linear_attention(q, k, v, fmap, causal), d, lk, v))
    return cases


@register_cases("performer-f32")
def _performer_cases(rng) -> list:
    ref = reference("performer")
    cases = []
    for label, lq, lk, hq, hkv, d, dv, causal in SHAPES:
        q, k, v = _inputs(rng, lq, lk, hq, hkv, d, dv, scale=0.5)
        w = fastattn.performer_features(d, num_features=40)
        # features exp(e) with |e| <~ 10 here: 10 eps relative each, plus the sums
        cases.append(_convex_case(
            f"{label} m=40", lambda name, q=q, k=k, v=v, c=causal, w=w:
            fastattn.performer_attention(q, k, v, features=w, causal=c, variant=name,
                                         num_threads=2),
            ref.performer_attention(q, k, v, w, causal=causal), d + 40, lk, v))
    return cases


@register_cases("linformer-f32")
def _linformer_cases(rng) -> list:
    ref = reference("linformer")
    cases = []
    for label, lq, lk, hq, hkv, d, dv, _ in SHAPES:
        q, k, v = _inputs(rng, lq, lk, hq, hkv, d, dv)
        e = fastattn.linformer_projection(lk, max(1, lk // 3), kind="mean")
        kp, vp = e.astype(np.float64) @ k, e.astype(np.float64) @ v
        name = f"{label.removeprefix('causal ')} r={e.shape[0]}"
        cases.append(f32_case(name, lambda name, q=q, k=k, v=v, e=e:
                              fastattn.linformer_attention(q, k, v, proj_k=e, variant=name,
                                                           num_threads=2),
                              ref.linformer_attention(q, k, v, e), q, kp, vp))
    return cases


def _shapes(args: dict):
    q, k, v = describe(args["q"]), describe(args["k"]), describe(args["v"])
    n = heads_and_batch(q, k)
    lq, d = q.shape[-2:]
    lk, dv = v.shape[-2:]
    return q, k, v, n, lq, lk, d, dv


def _scan_cost(args, features: int, feature_macs: int, feature_ops: int) -> Cost:
    """The chunked scan: state update and readout (features x Dv each row), plus the C x C
    diagonal blocks when causal."""
    q, k, v, n, lq, lk, d, dv = _shapes(args)
    macs = n * ((lq + lk) * features * (dv + 1) + feature_macs)
    if args.get("causal"):
        macs += n * lq * min(C, lk) * (features + dv)
    ops = n * (feature_ops + lq * dv)  # feature maps and the final division
    read = q.nbytes + k.nbytes + v.nbytes
    out = output_bytes(n, lq, dv, max(q.itemsize, k.itemsize, v.itemsize)
                       if max(q.itemsize, k.itemsize, v.itemsize) != 4 else None)
    return Cost({"fp32": macs}, {"fp32": ops}, bytes_read=read, bytes_written=out,
                allocated_bytes=out)


@register(linear.linear_attention)
def _linear_cost(args: dict) -> Cost:
    _, _, _, n, lq, lk, d, _ = _shapes(args)
    return _scan_cost(args, d, 0, 4 * (lq + lk) * d)  # elu+1: an exp and a select


@register(performer.performer_attention)
def _performer_cost(args: dict) -> Cost:
    _, _, _, n, lq, lk, d, _ = _shapes(args)
    w = args.get("features")
    m = np.shape(w)[0] if w is not None else args["num_features"]
    # the feature GEMMs W x, then exp (about 10 operations) of every feature
    return _scan_cost(args, m, (lq + lk) * m * d, 10 * (lq + lk) * m)


@register(linformer.linformer_attention)
def _linformer_cost(args: dict) -> Cost:
    q, k, v, n, lq, lk, d, dv = _shapes(args)
    r = np.shape(args["proj_k"])[0]
    proj_bytes = 4 * r * lk * (1 if args.get("proj_v") is None else 2)
    macs = n * (r * lk * (d + dv) + lq * r * (d + dv))
    out = output_bytes(n, lq, dv, None if max(q.itemsize, v.itemsize) == 4
                       else max(q.itemsize, v.itemsize))
    return Cost({"fp32": macs}, {"fp32": n * lq * r * 10},
                bytes_read=q.nbytes + k.nbytes + v.nbytes + proj_bytes, bytes_written=out,
                allocated_bytes=out)
